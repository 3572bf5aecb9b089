import Foundation
import Logging
import Raft

/// When to compact the log, and how long a leader waits for a follower to install a snapshot.
struct SnapshotPolicy: Sendable {
    /// Compact after this many applied entries…
    var entries: UInt64 = 10_000
    /// …or this many bytes of applied entry data, whichever comes first…
    var bytes: UInt64 = 64 << 20
    /// …but (below `bytes`) only once the entry data since the last compaction is this fraction
    /// of the store's size: the log behind the compaction point is what a lagging follower can
    /// catch up from without a copy of the whole store, so it grows with the store. 0 turns
    /// the rule off.
    var growth: Double = 0
    /// Snapshot files kept on disk (the newest is always kept: a follower may be downloading it).
    var keep = 2
    /// A follower that has not caught up to a snapshot sent this many ticks ago is reported as
    /// failed, and the leader sends it again (the follower resumes its download).
    var installTimeoutTicks: UInt64 = 6_000

    /// Whether `entriesSince` entries holding `bytesSince` bytes of data, applied since the last
    /// compaction point, with the store at `storeBytes`, call for the next one.
    func due(entriesSince: UInt64, bytesSince: UInt64, storeBytes: UInt64) -> Bool {
        if bytesSince >= bytes { return true }
        return entriesSince >= entries && Double(bytesSince) >= growth * Double(storeBytes)
    }

    /// The node's policy: nodes apply the same log, so with equal thresholds they would all
    /// compact at the same entry (on one machine, three store syncs at once). Node n's
    /// thresholds are scaled by 1 + ((n − 1) mod 4) / 4.
    static func staggered(entries: UInt64, bytes: UInt64, growth: Double, node: UInt64) -> SnapshotPolicy {
        let scale = 4 + (node &- 1) % 4
        return SnapshotPolicy(entries: entries * scale / 4, bytes: bytes / 4 * scale, growth: growth)
    }
}

/// Log compaction and snapshots for the driver (design: Sources/Node/README.md).
///
/// The store file is the node's snapshot: at each compaction point the store is made durable
/// and the log is dropped up to the PREVIOUS point, so one interval of entries stays for slow
/// followers. A snapshot FILE (a copy of the store) is written only when a follower needs the
/// entries the log no longer has: the leader sends the newest file at or after its compaction
/// point, and writes one in the background when it has none (etcd sends its backend the same
/// way). Copying the whole store at every compaction point cost O(store) per interval of log:
/// at 400,000 tasks a 2-3 s, 200 MB copy every 64 MiB of log on every node.
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
    /// The store's size at the last compaction point, for `policy.growth` (nil until the first
    /// applied batch reads it: after a restart the rule must see the store it reopened).
    private var storeBytes: UInt64?
    /// The applied index at the last compaction point: the next compaction drops the log up to it.
    private var mark: LogIndex?
    /// Whether the entries applied since the last compaction point call for the next one.
    private(set) var compactionDue = false
    /// A snapshot file is being written.
    private var taking = false
    /// Leader: snapshots sent, per follower: (index, deadline tick).
    private var installs: [NodeID: (index: LogIndex, deadline: UInt64)] = [:]
    /// Leader: InstallSnapshot messages waiting for the snapshot file being written.
    private var waiting: [NodeID: Message] = [:]

    init(files: SnapshotFiles, policy: SnapshotPolicy, logger: Logger) {
        self.files = files
        self.policy = policy
        self.logger = logger
    }

    // MARK: compaction

    /// Counts applied entries toward the next compaction point.
    func noteApplied(_ entries: [Entry], machine: Machine) {
        entriesSince += UInt64(entries.count)
        for entry in entries { bytesSince += UInt64(entry.data.count) }
        if !compactionDue {
            let size = storeBytes ?? machine.storeBytes
            storeBytes = size
            compactionDue = policy.due(entriesSince: entriesSince, bytesSince: bytesSince, storeBytes: size)
        }
    }

    /// At a compaction point: makes the store durable and drops the log up to the previous
    /// point. Waits while a snapshot file is being written, so the log keeps what follows it.
    /// Returns true when log entries were dropped (the storage may have rows left to trim).
    func compactIfDue(raft: inout RaftNode, storage: any LogStorage, machine: Machine) throws(SnapshotFileError) -> Bool {
        guard compactionDue, !taking else { return false }
        compactionDue = false
        entriesSince = 0
        bytesSince = 0
        storeBytes = machine.storeBytes
        let applied = LogIndex(machine.appliedIndex)
        defer { mark = applied }
        guard let target = mark, target > raft.status.snapshotIndex, let term = raft.term(at: target),
              let configuration = raft.configuration(at: target)
        else { return false }
        let metadata = SnapshotMetadata(index: target, term: term, configuration: configuration)
        let started = ContinuousClock.now
        let durableMs: Int64
        do {
            // The store commits without fsync; everything up to the target must be on disk
            // before the entries that could rebuild it are dropped.
            try machine.makeDurable()
            durableMs = (ContinuousClock.now - started).milliseconds
            raft.compact(to: metadata)
            try storage.applySnapshot(metadata)
        } catch {
            throw SnapshotFileError("compacting the log to \(target.rawValue): \(error)")
        }
        // Both steps run on the driver thread: their time is a pause of this node's Raft work.
        logger.info("log compacted", metadata: [
            "upTo": "\(target.rawValue)", "durableMs": "\(durableMs)", "ms": "\((ContinuousClock.now - started).milliseconds)",
        ])
        files.prune(keep: policy.keep, below: target.rawValue)
        return true
    }

    // MARK: snapshot files (leader)

    /// Passes outgoing messages through: an InstallSnapshot from the core names the log's
    /// compaction point, which has no file. It is sent naming the newest snapshot file at or
    /// after that point (any committed state from there on will do: the follower answers with
    /// the file's index and the log holds everything after it); without one it waits while a
    /// file of the current state is written in the background (`deliver` brings it back).
    func outgoing(_ messages: [Message], raft: RaftNode, machine: Machine, tick: UInt64,
                  deliver: @escaping @Sendable (Taken) -> Void) throws -> [Message] {
        guard messages.contains(where: { if case .installSnapshot = $0.payload { true } else { false } }) else { return messages }
        var ready: [Message] = []
        for message in messages {
            guard case .installSnapshot(let snapshot) = message.payload else {
                ready.append(message)
                continue
            }
            if let file = files.list().first, file.index >= snapshot.metadata.index.rawValue {
                ready.append(sending(message, file: file, tick: tick))
            } else {
                waiting[message.to] = message
                installs[message.to] = (snapshot.metadata.index, tick + policy.installTimeoutTicks)
                try startSnapshot(machine: machine, deliver: deliver)
            }
        }
        return ready
    }

    private func sending(_ message: Message, file: SnapshotFiles.Meta, tick: UInt64) -> Message {
        var message = message
        message.payload = .installSnapshot(Snapshot(metadata: file.metadata, data: []))
        installs[message.to] = (LogIndex(file.index), tick + policy.installTimeoutTicks)
        return message
    }

    private func startSnapshot(machine: Machine, deliver: @escaping @Sendable (Taken) -> Void) throws {
        guard !taking else { return }
        // The snapshot thread reads the store FILE: everything applied must be committed there.
        try machine.flushApplied(force: true)
        taking = true
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

    /// A background snapshot finished: name it, record its configuration, and return the
    /// InstallSnapshot messages that waited for it (those of this term, while still leading).
    func finish(_ taken: Taken, raft: RaftNode, tick: UInt64) throws(SnapshotFileError) -> [Message] {
        taking = false
        let written: Written
        switch taken {
        case .failure(let error):
            // The waiting installs time out and the core asks again.
            logger.error("\(error.description)")
            return []
        case .success(let value):
            written = value
        }
        var meta = written.meta
        let temporaryPath = written.path
        guard let configuration = raft.configuration(at: LogIndex(meta.index)) else {
            // Compacted past meanwhile (a snapshot installed from a leader): useless.
            try? FileManager.default.removeItem(atPath: temporaryPath)
            return []
        }
        meta.voters = configuration.voters.map(\.rawValue).sorted()
        meta.learners = configuration.learners.map(\.rawValue).sorted()
        do {
            try files.install(dataFile: temporaryPath, meta: meta)
        } catch {
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw SnapshotFileError("installing snapshot \(meta.name): \(error)")
        }
        logger.info("snapshot taken", metadata: [
            "index": "\(meta.index)", "bytes": "\(meta.bytes)", "ms": "\(written.milliseconds)",
        ])
        files.prune(keep: policy.keep, below: raft.status.snapshotIndex.rawValue)
        let status = raft.status
        let held = waiting.values
        waiting.removeAll()
        guard status.role == .leader else { return [] }
        return held.filter { $0.term == status.term }.map { sending($0, file: meta, tick: tick) }
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
        compactionDue = false
        mark = metadata.index
        storeBytes = machine.storeBytes
        logger.info("snapshot installed", metadata: [
            "index": "\(metadata.index.rawValue)", "ms": "\(Int(started.duration(to: .now).seconds * 1000))",
        ])
    }

    // MARK: sending snapshots (leader)

    /// Ends installs that succeeded (the follower's match reached the snapshot) and reports those
    /// past their deadline as failed, so the core sends the snapshot again.
    func checkInstalls(raft: inout RaftNode, tick: UInt64) {
        guard !installs.isEmpty else { return }
        let status = raft.status
        guard status.role == .leader else {
            installs.removeAll()
            waiting.removeAll()
            return
        }
        for (peer, install) in installs {
            if let match = status.matchIndex[peer], match >= install.index {
                installs[peer] = nil
            } else if install.deadline <= tick {
                installs[peer] = nil
                waiting[peer] = nil
                logger.warning("snapshot install timed out; sending again", metadata: ["peer": "n\(peer.rawValue)"])
                raft.reportSnapshot(peer, success: false)
            }
        }
    }
}
