// The in-memory log of one node (etcd's MemoryStorage plus its `unstable` tail, in one value).
//
//   snapshot.index | stable (durable, acknowledged) | handed to host, unacknowledged | unstable
//   ───────────────┴───────────────────────────────┴───────────────────────────────┴──────────▶
//                   ≤ stableIndex                     ≤ pendingPersistIndex            ≥ unstableStart
//
// Invariants (checked by `checkInvariants`):
// - entries[i].index == snapshotIndex + 1 + i (contiguous, no gaps);
// - committed ≤ lastIndex, stableIndex ≤ lastIndex, unstableStart ≤ lastIndex + 1;
// - only the suffix after `committed` is ever truncated.

struct RaftLog: Sendable {
    /// The log is empty up to and including this position (covered by a snapshot, or 0).
    private(set) var snapshotIndex: LogIndex
    private(set) var snapshotTerm: Term
    private var entries: [Entry]

    /// Highest index known to be committed on a quorum.
    var committed: LogIndex
    /// Highest index the host has acknowledged as durable and that still matches our log.
    private(set) var stableIndex: LogIndex
    /// First index not yet handed to the host for persistence.
    private(set) var unstableStart: LogIndex
    /// Highest index handed in the unacknowledged batch (lowered if that suffix is truncated).
    private var pendingPersistIndex: LogIndex?

    /// Restores from durable state: everything given is already stable.
    init(snapshot: SnapshotMetadata?, entries restored: [Entry], committed: LogIndex) {
        snapshotIndex = snapshot?.index ?? .zero
        snapshotTerm = snapshot?.term ?? .zero
        // Keep the contiguous run that follows the snapshot; storage guarantees it, but the core
        // never trusts it into a broken index invariant.
        var kept: [Entry] = []
        kept.reserveCapacity(restored.count)
        for entry in restored where entry.index > snapshotIndex {
            guard entry.index == snapshotIndex + UInt64(kept.count + 1) else { break }
            kept.append(entry)
        }
        entries = kept
        let last = snapshotIndex + UInt64(kept.count)
        self.committed = max(snapshotIndex, min(committed, last))
        stableIndex = last
        unstableStart = last.next
    }

    var firstIndex: LogIndex { snapshotIndex.next }
    var lastIndex: LogIndex { snapshotIndex + UInt64(entries.count) }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }
    var count: Int { entries.count }

    /// The term at `index`, or nil when it is compacted away or beyond the log.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[offset(index)].term
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool { self.term(at: index) == term }

    /// (lastTerm, lastIndex) of the candidate is at least as up-to-date as ours (§5.4.1).
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[offset(index)]
    }

    /// Entries in [from, through], cut at `maxBytes` but never fewer than one; nil when
    /// `from` is compacted away.
    func entries(from: LogIndex, through: LogIndex, maxBytes: Int) -> [Entry]? {
        guard from > snapshotIndex else { return nil }
        let upper = min(through, lastIndex)
        guard from <= upper else { return [] }
        var end = offset(from)
        var bytes = 0
        let last = offset(upper)
        while end <= last {
            bytes += entries[end].sizeBytes
            if bytes > maxBytes && end > offset(from) { break }
            end += 1
        }
        return Array(entries[offset(from)..<end])
    }

    /// Largest index ≤ `index` whose term is ≤ `term` (etcd `findConflictByTerm`): the leader or
    /// follower can skip every entry of a term the other side does not have.
    func lastIndex(atOrBefore index: LogIndex, withTermAtMost term: Term) -> LogIndex {
        var i = min(index, lastIndex)
        while i > snapshotIndex {
            if entries[offset(i)].term <= term { return i }
            i = i.previous
        }
        return i
    }

    private func offset(_ index: LogIndex) -> Int { Int(index.rawValue - snapshotIndex.rawValue - 1) }
}

extension RaftLog {
    /// Appends entries that follow the last index (leader proposals).
    mutating func append(_ new: [Entry]) {
        for entry in new {
            precondition(entry.index == lastIndex.next, "appended entries must be contiguous")
            entries.append(entry)
        }
    }

    /// Replaces the suffix from `new.first.index` with `new` (follower). The caller has checked
    /// that the suffix is above `committed` and that `new` is contiguous.
    mutating func truncateAndAppend(_ new: [Entry]) {
        guard let first = new.first?.index else { return }
        precondition(first > committed && first > snapshotIndex && first <= lastIndex.next, "illegal truncation")
        if first <= lastIndex {
            entries.removeLast(Int(lastIndex.rawValue - first.rawValue + 1))
            let kept = first.previous
            stableIndex = min(stableIndex, kept)
            unstableStart = min(unstableStart, first)
            if let pending = pendingPersistIndex { pendingPersistIndex = min(pending, kept) }
        }
        append(new)
    }

    /// Resets the log to a snapshot received from the leader.
    mutating func restore(_ metadata: SnapshotMetadata) {
        entries = []
        snapshotIndex = metadata.index
        snapshotTerm = metadata.term
        committed = metadata.index
        stableIndex = min(stableIndex, metadata.index)
        unstableStart = metadata.index.next
        if let pending = pendingPersistIndex { pendingPersistIndex = min(pending, metadata.index) }
    }

    /// Drops entries up to `metadata.index`, which the host has captured in a snapshot.
    mutating func compact(to metadata: SnapshotMetadata) {
        guard metadata.index > snapshotIndex else { return }
        precondition(metadata.index <= stableIndex && metadata.index <= committed, "compact beyond the durable commit")
        precondition(term(at: metadata.index) == metadata.term, "compact with a wrong term")
        entries.removeFirst(Int(metadata.index.rawValue - snapshotIndex.rawValue))
        snapshotIndex = metadata.index
        snapshotTerm = metadata.term
    }

    /// The entries the host has not been handed yet; marks them as handed (pending persistence).
    mutating func takeUnstable() -> [Entry] {
        precondition(pendingPersistIndex == nil, "a batch is already pending")
        let start = max(unstableStart, firstIndex)
        let taken = start <= lastIndex ? Array(entries[offset(start)...]) : []
        unstableStart = lastIndex.next
        pendingPersistIndex = lastIndex
        return taken
    }

    var hasUnstable: Bool { max(unstableStart, firstIndex) <= lastIndex }

    /// The host has persisted the batch handed out last.
    mutating func acknowledgePersisted() {
        if let pending = pendingPersistIndex { stableIndex = max(stableIndex, pending) }
        pendingPersistIndex = nil
    }

    func checkInvariants() {
        precondition(committed <= lastIndex, "commit beyond the last index")
        precondition(committed >= snapshotIndex, "commit below the snapshot")
        precondition(stableIndex <= lastIndex, "stable index beyond the log")
        precondition(unstableStart <= lastIndex.next, "unstable start beyond the log")
    }
}
