import Foundation
import Logging
import Raft

/// When to snapshot, and how long a leader waits for a follower to install one.
struct SnapshotPolicy: Sendable {
    /// Take a snapshot after this many applied entries…
    var entries: UInt64 = 10_000
    /// …or this many bytes of applied entry data, whichever comes first…
    var bytes: UInt64 = 64 << 20
    /// …but (below `bytes`) only once the entry data since the last snapshot is this fraction of
    /// that snapshot's size: a snapshot copies the whole store, so a fixed entry count alone
    /// makes its cost per entry grow with the store. 0 turns the rule off.
    var growth: Double = 0
    /// Snapshots kept on disk. The log is compacted only up to the SECOND newest, so at least
    /// one snapshot interval of entries stays in the log for slow followers, and a damaged
    /// newest snapshot file always has an older one behind it.
    var keep = 3
    /// A follower that has not caught up to a snapshot sent this many ticks ago is reported as
    /// failed, and the leader sends it again (the follower resumes its download).
    var installTimeoutTicks: UInt64 = 6_000

    /// Whether `entriesSince` entries holding `bytesSince` bytes of data, applied since a snapshot
    /// of `lastSnapshotBytes`, call for the next snapshot.
    func due(entriesSince: UInt64, bytesSince: UInt64, lastSnapshotBytes: UInt64) -> Bool {
        if bytesSince >= bytes { return true }
        return entriesSince >= entries && Double(bytesSince) >= growth * Double(lastSnapshotBytes)
    }

    /// The node's policy: nodes apply the same log, so with equal thresholds they would all
    /// snapshot at the same entry (on one machine, three store copies at once). Node n's
    /// thresholds are scaled by 1 + ((n − 1) mod 4) / 4.
    static func staggered(entries: UInt64, bytes: UInt64, growth: Double, node: UInt64) -> SnapshotPolicy {
        let scale = 4 + (node &- 1) % 4
        return SnapshotPolicy(entries: entries * scale / 4, bytes: bytes / 4 * scale, growth: growth)
    }
}

/// Log compaction and snapshot installation for the driver (design: Sources/Node/README.md).
///
/// Used only on the driver thread (`RaftDriver` owns it), except the closure it hands to a
/// background thread, which touches only the store file through its own connection and the
/// snapshot directory under a fresh name.
final class SnapshotKeeper<Machine: ReplicatedStateMachine> {
    /// A snapshot written by the background thread under a temporary name.
    struct Written: Sendable {
        var meta: SnapshotFiles.Meta
        var path: String
        /// Time to write and checksum it.
        var milliseconds: Int
    }
    typealias Taken = Result<Written, SnapshotFileError>

    let files: SnapshotFiles
    let policy: SnapshotPolicy
    private let logger: Logger
    private var entriesSince: UInt64 = 0
    private var bytesSince: UInt64 = 0
    /// The size of the newest snapshot (taken or installed), for `policy.growth`.
    private var lastSnapshotBytes: UInt64
    private var taking = false
    /// Leader: snapshots sent, per follower: (index, deadline tick).
    private var installs: [NodeID: (index: LogIndex, deadline: UInt64)] = [:]

    init(files: SnapshotFiles, policy: SnapshotPolicy, logger: Logger) {
        self.files = files
        self.policy = policy
        self.logger = logger
        lastSnapshotBytes = files.list().first?.bytes ?? 0
    }

    /// Whether the entries applied since the last snapshot call for a new one.
    var snapshotDue: Bool {
        policy.due(entriesSince: entriesSince, bytesSince: bytesSince, lastSnapshotBytes: lastSnapshotBytes)
    }

    // MARK: taking snapshots

    /// Counts applied entries; when the policy says so, starts a background snapshot whose
    /// result comes back through `deliver` (the driver's inbox).
    func noteApplied(_ entries: [Entry], machine: Machine, deliver: @escaping @Sendable (Taken) -> Void) throws {
        entriesSince += UInt64(entries.count)
        for entry in entries { bytesSince += UInt64(entry.data.count) }
        guard !taking, snapshotDue else { return }
        // The snapshot thread reads the store FILE: everything applied must be committed there.
        try machine.flushApplied(force: true)
        taking = true
        entriesSince = 0
        bytesSince = 0
        let writer = machine.snapshotWriter
        let files = files
        let thread = Thread {
            let temporary = files.temporaryPath()
            let started = ContinuousClock.now
            do {
                let (index, term) = try writer(temporary)
                let digest = try SnapshotFiles.digest(of: temporary)
                // Voters are filled in on the driver thread, which knows the configuration.
                let meta = SnapshotFiles.Meta(index: index, term: term, voters: [], learners: [], bytes: digest.bytes,
                                              sha256: digest.sha256)
                let elapsed = started.duration(to: .now)
                deliver(.success(Written(meta: meta, path: temporary, milliseconds: Int(elapsed.seconds * 1000))))
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                deliver(.failure(SnapshotFileError("taking a snapshot failed: \(error)")))
            }
        }
        thread.name = "snapshot"
        thread.start()
    }

    /// A background snapshot finished: name it, record its configuration, then compact the log
    /// up to the previous snapshot (after making the store durable up to there).
    func finish(_ taken: Taken, raft: inout RaftNode, storage: any LogStorage, machine: Machine) throws(SnapshotFileError) {
        taking = false
        let written: Written
        switch taken {
        case .failure(let error):
            logger.error("\(error.description)")
            return
        case .success(let value):
            written = value
        }
        var meta = written.meta
        let temporaryPath = written.path
        guard let configuration = raft.configuration(at: LogIndex(meta.index)), meta.index > raft.status.snapshotIndex.rawValue else {
            // A newer snapshot was installed from the leader meanwhile: this one is useless.
            try? FileManager.default.removeItem(atPath: temporaryPath)
            return
        }
        meta.voters = configuration.voters.map(\.rawValue).sorted()
        meta.learners = configuration.learners.map(\.rawValue).sorted()
        do {
            try files.install(dataFile: temporaryPath, meta: meta)
        } catch {
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw SnapshotFileError("installing snapshot \(meta.name): \(error)")
        }
        lastSnapshotBytes = meta.bytes
        logger.info("snapshot taken", metadata: [
            "index": "\(meta.index)", "bytes": "\(meta.bytes)", "ms": "\(written.milliseconds)",
        ])
        try compact(raft: &raft, storage: storage, machine: machine)
        files.prune(keep: policy.keep)
    }

    private func compact(raft: inout RaftNode, storage: any LogStorage, machine: Machine) throws(SnapshotFileError) {
        let snapshots = files.list()
        guard snapshots.count >= 2 else { return }
        let target = snapshots[1]
        guard LogIndex(target.index) > raft.status.snapshotIndex, raft.term(at: LogIndex(target.index)) == Term(target.term) else {
            return
        }
        let started = ContinuousClock.now
        let durableMs: Int64
        do {
            // The store commits without fsync; everything up to the target must be on disk
            // before the entries that could rebuild it are dropped.
            try machine.makeDurable()
            durableMs = (ContinuousClock.now - started).milliseconds
            raft.compact(to: target.metadata)
            try storage.applySnapshot(target.metadata)
        } catch {
            throw SnapshotFileError("compacting the log to \(target.index): \(error)")
        }
        // Both steps run on the driver thread: their time is a pause of this node's Raft work.
        logger.info("log compacted", metadata: [
            "upTo": "\(target.index)", "durableMs": "\(durableMs)", "ms": "\((ContinuousClock.now - started).milliseconds)",
        ])
    }

    // MARK: installing snapshots (followers)

    /// Effects carry a snapshot the fetcher has downloaded and verified: replace the store with
    /// it and record it in the log storage.
    func install(_ snapshot: Snapshot, storage: any LogStorage, machine: Machine) throws(SnapshotFileError) {
        let metadata = snapshot.metadata
        let path = files.dataPath(index: metadata.index.rawValue, term: metadata.term.rawValue)
        let started = ContinuousClock.now
        do {
            try machine.restore(from: path)
            try storage.applySnapshot(metadata)
        } catch {
            throw SnapshotFileError("installing snapshot \(metadata.index.rawValue)-\(metadata.term.rawValue): \(error)")
        }
        guard machine.appliedIndex == metadata.index.rawValue else {
            throw SnapshotFileError("snapshot file \(path) holds index \(machine.appliedIndex), not \(metadata.index.rawValue)")
        }
        entriesSince = 0
        bytesSince = 0
        lastSnapshotBytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? lastSnapshotBytes
        logger.info("snapshot installed", metadata: [
            "index": "\(metadata.index.rawValue)", "ms": "\(Int(started.duration(to: .now).seconds * 1000))",
        ])
    }

    // MARK: sending snapshots (leader)

    /// Remembers every snapshot the core asked to send, to time out installs that never end.
    func noteSent(_ messages: [Message], tick: UInt64) {
        for message in messages {
            guard case .installSnapshot(let snapshot) = message.payload else { continue }
            installs[message.to] = (snapshot.metadata.index, tick + policy.installTimeoutTicks)
        }
    }

    /// Ends installs that succeeded (the follower's match reached the snapshot) and reports those
    /// past their deadline as failed, so the core sends the snapshot again.
    func checkInstalls(raft: inout RaftNode, tick: UInt64) {
        guard !installs.isEmpty else { return }
        let status = raft.status
        guard status.role == .leader else {
            installs.removeAll()
            return
        }
        for (peer, install) in installs {
            if let match = status.matchIndex[peer], match >= install.index {
                installs[peer] = nil
            } else if install.deadline <= tick {
                installs[peer] = nil
                logger.warning("snapshot install timed out; sending again", metadata: ["peer": "n\(peer.rawValue)"])
                raft.reportSnapshot(peer, success: false)
            }
        }
    }
}
