import Raft

/// The checks that look at what nodes persisted (their `MemoryLogStorage`): I2, I3, I4, I6, I8.
extension SafetyChecker {
    /// Call before `save(hardState:entries:)` with the store as it is: I2 (a leader never removes
    /// its own entries) and "truncate only on conflict" (a stale append must not drop entries
    /// that match: they may already count toward a quorum).
    func checkTruncation(_ node: NodeID, leaderTerm: Term?, store: MemoryLogStorage, newEntries: [Entry]) throws(Violation) {
        guard let first = newEntries.first, first.index <= store.lastIndex else { return }
        var conflict = false
        for entry in newEntries {
            guard let stored = store.term(at: entry.index) else { break }
            if stored != entry.term { conflict = true; break }
        }
        let newLast = newEntries[newEntries.count - 1].index
        if !conflict && newLast < store.lastIndex {
            throw Violation(.logMatching, "\(node) would drop matching entries \(newLast.next)…\(store.lastIndex) without a conflict")
        }
        if let leaderTerm, conflict {
            for index in first.index.rawValue...store.lastIndex.rawValue where store.term(at: LogIndex(index)) == leaderTerm {
                throw Violation(.leaderAppendOnly, "leader \(node) of \(leaderTerm) overwrites its own entry at i\(index)")
            }
        }
    }

    /// Call after a successful save. I3: one (index, term) has one content and one predecessor
    /// term, everywhere and forever (by induction this is the Log Matching property). I8: term,
    /// vote-in-term and commit never go back.
    mutating func observeSave(_ node: NodeID, store: MemoryLogStorage, entries: [Entry], hardState: HardState?) throws(Violation) {
        for entry in entries {
            let previous = entry.index.rawValue > 1 ? store.term(at: entry.index.previous) ?? .zero : .zero
            let seen = LoggedEntry(kind: entry.kind, data: entry.data, previousTerm: previous)
            let key = IndexTerm(index: entry.index, term: entry.term)
            if let other = logged[key] {
                guard other == seen else {
                    throw Violation(.logMatching, "\(node) persisted \(describe(entry)) after \(previous), but \(entry.index)/\(entry.term) was persisted elsewhere as \"\(String(decoding: other.data, as: UTF8.self))\" after \(other.previousTerm)")
                }
            } else {
                logged[key] = seen
            }
        }
        if let hardState { try observePersistedHardState(node, hardState) }
    }

    mutating func observePersistedHardState(_ node: NodeID, _ new: HardState) throws(Violation) {
        let old = persistedHardState[node] ?? HardState()
        guard new.term >= old.term else {
            throw Violation(.monotonicState, "\(node) persisted term \(new.term) after \(old.term)")
        }
        if new.term == old.term, let vote = old.vote, new.vote != vote {
            throw Violation(.monotonicState, "\(node) persisted vote \(new.vote?.description ?? "none") in \(new.term) after voting \(vote)")
        }
        guard new.commit >= old.commit else {
            throw Violation(.monotonicState, "\(node) persisted commit \(new.commit) after \(old.commit)")
        }
        persistedHardState[node] = new
    }

    /// A restarted or running node must not be behind what it persisted (term, vote in term).
    func checkStatusAgainstDisk(_ status: RaftStatus) throws(Violation) {
        guard let disk = persistedHardState[status.id] else { return }
        guard status.term >= disk.term else {
            throw Violation(.monotonicState, "\(status.id) runs in \(status.term) but persisted \(disk.term)")
        }
        if status.term == disk.term, let vote = disk.vote, status.vote != vote {
            throw Violation(.monotonicState, "\(status.id) forgot its persisted vote for \(vote) in \(disk.term) (now \(status.vote?.description ?? "none"))")
        }
    }

    /// Messages that promise durability may only leave once it holds: a granted vote after the
    /// vote is on disk, an append acknowledgement after the entries are.
    func checkSend(_ message: Message, senderStore store: MemoryLogStorage) throws(Violation) {
        switch message.payload {
        case .voteResponse(let r) where r.granted && !r.preVote:
            // A later term on disk also binds: the node can never vote in the older term again.
            let disk = store.hardState
            guard disk.term > message.term || (disk.term == message.term && disk.vote == message.to) else {
                throw Violation(.persistBeforeSend, "\(message.from) grants its \(message.term) vote to \(message.to) but its disk says \(disk.term) vote \(disk.vote?.description ?? "none")")
            }
        case .appendResponse(let r) where !r.reject:
            guard store.lastIndex >= r.index else {
                throw Violation(.persistBeforeSend, "\(message.from) acknowledges \(r.index) to \(message.to) but has only \(store.lastIndex) on disk")
            }
        default:
            break
        }
    }

    /// I4: a new leader of `term` holds every entry committed in an earlier term.
    func checkLeaderCompleteness(_ node: NodeID, term: Term, store: MemoryLogStorage) throws(Violation) {
        for (index, record) in committed where record.commitTermBound < term && !covers(store, LogIndex(index), record.term) {
            throw Violation(.leaderCompleteness, "\(node) leads \(term) without committed entry i\(index)/\(record.term) (committed by \(record.commitTermBound))")
        }
    }

    /// I6/I7: every applied entry is on the disk (log or snapshot) of a quorum. `only` limits the
    /// check to one index (the cheap per-step form checks the highest one: log matching covers
    /// the rest); nil checks every applied index.
    func checkDurability(_ stores: [(NodeID, MemoryLogStorage)], only: LogIndex?) throws(Violation) {
        let indexes = only.map { [$0.rawValue] } ?? Array(committed.keys)
        for index in indexes {
            guard index > 0, let record = committed[index] else { continue }
            let holders = stores.filter { covers($0.1, LogIndex(index), record.term) }.map(\.0)
            if let voters = commitVoters[index] {
                // A quorum of the voters the committing leader counted (its configuration).
                let held = holders.filter { voters.contains($0) }
                guard held.count >= voters.count / 2 + 1 else {
                    throw Violation(.committedDurable, "applied entry i\(index)/\(record.term) is on the disk of only \(held.sorted()) of the voters \(voters.sorted()) that committed it")
                }
            } else if tracksCommits {
                throw Violation(.committedDurable, "entry i\(index)/\(record.term) was applied but no leader was seen committing it")
            } else {
                guard holders.count >= quorum else {
                    throw Violation(.committedDurable, "applied entry i\(index)/\(record.term) is on the disk of only \(holders) (quorum \(quorum))")
                }
            }
        }
    }

    private func covers(_ store: MemoryLogStorage, _ index: LogIndex, _ term: Term) -> Bool {
        store.snapshotIndex >= index || store.term(at: index) == term
    }
}
