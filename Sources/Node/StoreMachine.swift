import Foundation
import Raft
import Store

/// Adapts the replicated store to the driver. Membership-change entries are Raft's business:
/// the store sees them as no-ops so its applied index still advances with the log.
final class StoreMachine: ReplicatedStateMachine {
    typealias Output = ApplyOutcome
    let store: StateStore
    /// Watch bookkeeping and apply-time metrics (nil in bare test nodes).
    let observer: ApplyObserver?

    init(store: StateStore, observer: ApplyObserver? = nil) {
        self.store = store
        self.observer = observer
    }

    var appliedIndex: UInt64 { store.appliedIndex }
    /// The executors the last applied batch granted a lease to (nil: not known, without an
    /// observer), so the executor hook can hurry for a new lease and take its time otherwise.
    private(set) var lastBatchGrants: Set<String>?

    func apply(_ entries: [Entry]) throws -> [ApplyOutcome] {
        let logEntries = entries.map { entry in
            LogEntry(index: entry.index.rawValue, term: entry.term.rawValue, data: entry.kind == .normal ? entry.data : [])
        }
        guard let observer else {
            lastBatchGrants = nil
            return try store.apply(entries: logEntries).map(\.outcome)
        }
        let noted = observer.note(logEntries, store: store)
        lastBatchGrants = Set(noted.compactMap { noted in
            if case .assignTask(_, let executor, _, _)? = noted.command { return executor }
            return nil
        })
        // Each entry is decoded once: the store takes the observer's commands.
        let decoded = noted.map { noted in noted.command.map { (command: $0, version: noted.version) } }
        let outcomes = try store.apply(entries: logEntries, decoded: decoded).map(\.outcome)
        observer.finish(noted, outcomes: outcomes, store: store)
        return outcomes
    }

    /// Captures only the file path: the snapshot thread opens its own read-only connection.
    var snapshotWriter: @Sendable (String) throws -> (index: UInt64, term: UInt64) {
        let path = store.path
        return { target in try StateStore.snapshot(ofStoreAt: path, to: target) }
    }

    func makeDurable() throws { try store.makeDurable() }

    var storeBytes: UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: store.path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// How long (and how many entries) applied batches may share one open store transaction
    /// (`StateStore.deferCommits`); etcd's backend commits its batches every 100 ms too.
    static let commitInterval = Duration.milliseconds(100)
    static let commitEntries = 10_000

    func flushApplied(force: Bool) throws {
        guard let open = store.uncommitted else { return }
        if force || open.entries >= Self.commitEntries || open.since.duration(to: .now) >= Self.commitInterval {
            try store.commitPending()
        }
    }

    func restore(from path: String) throws {
        try store.restore(from: path)
        // Everything may have changed: every watch answers.
        observer?.changes.record([(store.appliedIndex, [ApplyObserver.anyKey])], applied: store.appliedIndex)
    }
}
