import Foundation
import Raft

#if canImport(Glibc)
import Glibc
#endif

// The SQLite log under group commit: each `save` is one transaction and one WAL fsync, so
// entries/s grows with the batch size while saves/s stays near the disk's fsync rate. The
// baseline is a plain write+fdatasync loop on the same directory: the ceiling for saves/s.

private let entryBytes = 200
private let runSeconds = 2.0

func runStorageBench() -> [BenchRow] {
    // RAFTBENCH_STORAGE_DIR names the (new, removed afterwards) directory: another disk, a
    // tmpfs, or a fixed path for `strace -P` fault injection.
    let directory = ProcessInfo.processInfo.environment["RAFTBENCH_STORAGE_DIR"]
        ?? FileManager.default.temporaryDirectory.path + "/raftbench-storage-\(ProcessInfo.processInfo.processIdentifier)"
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
        print("storage bench: cannot create \(directory): \(error)")
        return []
    }
    defer { try? FileManager.default.removeItem(atPath: directory) }

    var rows: [BenchRow] = []
    let baseline = plainFsyncRate(path: directory + "/plain.dat", bytes: 4096)
    rows.append(BenchRow(name: "storage: plain write(4 KiB)+fdatasync", value: baseline, unit: "fsyncs/s",
                         note: "baseline: append, same directory"))
    let overwrite = plainFsyncRate(path: directory + "/overwrite.dat", bytes: 4096, inPlace: true)
    rows.append(BenchRow(name: "storage: plain pwrite(4 KiB @0)+fdatasync", value: overwrite, unit: "fsyncs/s",
                         note: "overwrite in place (no size change)"))
    for batch in [1, 16, 256] {
        // The plain loop writing as many bytes as the batch, for a like-for-like ceiling.
        let batchBaseline = batch == 1 ? baseline
            : plainFsyncRate(path: directory + "/plain-\(batch).dat", bytes: batch * entryBytes)
        do {
            let (entriesPerSecond, savesPerSecond) = try measureSaves(
                path: directory + "/log-\(batch).db", batch: batch)
            let fraction = savesPerSecond / baseline
            rows.append(BenchRow(name: "storage: save batch \(batch) x \(entryBytes) B", value: entriesPerSecond,
                                 unit: "entries/s"))
            rows.append(BenchRow(
                name: "storage: save batch \(batch) (= fsyncs)", value: savesPerSecond, unit: "saves/s",
                note: "\(percent(fraction)) of 4 KiB loop, \(percent(savesPerSecond / batchBaseline)) of \(batch * entryBytes) B loop"))
        } catch {
            rows.append(BenchRow(name: "storage: save batch \(batch)", value: 0, unit: "failed", note: "\(error)"))
        }
    }
    rows.append(measureLoad(path: directory + "/log-256.db"))
    rows += measureCodec()
    return rows
}

/// The peer message codec (it lives beside the storage in this bench: both are per-entry CPU
/// costs on the replication path). Encode and decode of a heartbeat and of a 16-entry append.
private func measureCodec() -> [BenchRow] {
    let payload = [UInt8](repeating: 0x5A, count: entryBytes)
    let append = Message(from: NodeID(1), to: NodeID(2), term: Term(7), payload: .append(.init(
        prevLogIndex: LogIndex(1000), prevLogTerm: Term(7),
        entries: (1...16).map { Entry(term: Term(7), index: LogIndex(1000 + UInt64($0)), data: payload) },
        commit: LogIndex(990))))
    let heartbeat = Message(from: NodeID(1), to: NodeID(2), term: Term(7), payload: .heartbeat(.init(commit: LogIndex(990))))
    var rows: [BenchRow] = []
    for (name, message) in [("heartbeat", heartbeat), ("append 16 x 200 B", append)] {
        let bytes = MessageCodec.encode(message)
        var sink = 0
        let encodeRate = rate { sink &+= MessageCodec.encode(message).count }
        let decodeRate = rate {
            if case .append(let a)? = try? MessageCodec.decode(bytes).payload { sink &+= a.entries.count } else { sink &+= 1 }
        }
        precondition(sink > 0)
        rows.append(BenchRow(name: "codec: encode \(name)", value: encodeRate, unit: "msgs/s", note: "\(bytes.count) B"))
        rows.append(BenchRow(name: "codec: decode \(name)", value: decodeRate, unit: "msgs/s", note: "\(bytes.count) B"))
    }
    return rows
}

/// Calls `body` in rounds of 1,000 for about half a second; returns calls/s.
private func rate(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var calls = 0
    var elapsed = Duration.zero
    while elapsed < .milliseconds(500) {
        for _ in 0..<1_000 { body() }
        calls += 1_000
        elapsed = clock.now - start
    }
    return Double(calls) / storageSeconds(elapsed)
}

/// Saves batches of `batch` entries (each with a hard state, as Raft does) for about
/// `runSeconds`; returns entries/s and saves/s.
private func measureSaves(path: String, batch: Int) throws(LogStorageError) -> (Double, Double) {
    let storage = try SQLiteLogStorage(path: path, nodeID: NodeID(1))
    defer { storage.close() }
    let payload = [UInt8](repeating: 0x5A, count: entryBytes)
    var next: UInt64 = 1
    var saves = 0
    let clock = ContinuousClock()
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .seconds(runSeconds) {
        let entries = (0..<UInt64(batch)).map { Entry(term: Term(1), index: LogIndex(next + $0), data: payload) }
        next += UInt64(batch)
        try storage.save(hardState: HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(next - 1)), entries: entries)
        saves += 1
        elapsed = clock.now - start
    }
    let seconds = storageSeconds(elapsed)
    return (Double(saves * batch) / seconds, Double(saves) / seconds)
}

/// Reopens the largest log and times one full `load()` (checksums and invariants included).
private func measureLoad(path: String) -> BenchRow {
    do {
        let clock = ContinuousClock()
        let start = clock.now
        let storage = try SQLiteLogStorage(path: path)
        let state = try storage.load()
        let seconds = storageSeconds(clock.now - start)
        storage.close()
        return BenchRow(name: "storage: open+load (validated)", value: Double(state.entries.count) / seconds,
                        unit: "entries/s", note: "\(state.entries.count) entries in \(Int(seconds * 1000)) ms")
    } catch {
        return BenchRow(name: "storage: open+load", value: 0, unit: "failed", note: "\(error)")
    }
}

/// Appends (or, `inPlace`, overwrites at offset 0) `bytes` and fdatasyncs, in a loop for about
/// `runSeconds`; returns fsyncs/s. An append also changes the file size, which the file
/// system must journal; SQLite's WAL is mostly rewritten in place after a checkpoint.
private func plainFsyncRate(path: String, bytes: Int, inPlace: Bool = false) -> Double {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (inPlace ? 0 : O_APPEND), 0o644)
    guard fd >= 0 else { return 0 }
    defer {
        close(fd)
        unlink(path)
    }
    let buffer = [UInt8](repeating: 0xA5, count: bytes)
    var syncs = 0
    let clock = ContinuousClock()
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .seconds(runSeconds) {
        let written = buffer.withUnsafeBytes { inPlace ? pwrite(fd, $0.baseAddress, bytes, 0) : write(fd, $0.baseAddress, bytes) }
        guard written == bytes, fdatasync(fd) == 0 else { return 0 }
        syncs += 1
        elapsed = clock.now - start
    }
    return Double(syncs) / storageSeconds(elapsed)
}

private func percent(_ fraction: Double) -> String {
    "\(Int((fraction * 100).rounded()))%"
}

private func storageSeconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) / 1e18
}
