import Crypto
import Foundation
import Raft

/// The snapshot files of one node, in `<dataDir>/snapshots/`:
/// `snap-<index>-<term>.db` (a copy of the store at that applied index) and beside it
/// `snap-<index>-<term>.json` (its `Meta`: Raft metadata, size, SHA-256). A snapshot exists only
/// when both are there and the data file matches the meta's size and digest; the meta is written
/// last, so a crash half-way leaves a data file without meta, which `prune` removes.
/// Downloads in progress are `incoming-<index>-<term>.part`.
///
/// Thread-safety: the type holds only a path; every method works on the file system, and the
/// callers (driver thread, fetcher, API) only ever create files under fresh names and rename.
struct SnapshotFiles: Sendable {
    struct Meta: Codable, Sendable, Equatable {
        var index: UInt64
        var term: UInt64
        var voters: [UInt64]
        var learners: [UInt64]
        var bytes: UInt64
        var sha256: String

        var name: String { "\(index)-\(term)" }

        var metadata: SnapshotMetadata {
            SnapshotMetadata(index: LogIndex(index), term: Term(term),
                             configuration: Configuration(voters: Set(voters.map { NodeID($0) }),
                                                          learners: Set(learners.map { NodeID($0) })))
        }
    }

    let directory: URL

    init(dataDir: URL) {
        directory = dataDir.appendingPathComponent("snapshots")
    }

    func prepare() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func dataPath(index: UInt64, term: UInt64) -> String { directory.appendingPathComponent("snap-\(index)-\(term).db").path }
    func metaPath(index: UInt64, term: UInt64) -> String { directory.appendingPathComponent("snap-\(index)-\(term).json").path }
    func partPath(index: UInt64, term: UInt64) -> String { directory.appendingPathComponent("incoming-\(index)-\(term).part").path }
    func temporaryPath() -> String { directory.appendingPathComponent("tmp-\(UUID().uuidString).db").path }

    /// Parses `<index>-<term>`, the name the API uses for a snapshot.
    static func parseName(_ name: String) -> (index: UInt64, term: UInt64)? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = UInt64(parts[0]), let term = UInt64(parts[1]) else { return nil }
        return (index, term)
    }

    /// The meta of the snapshot at (index, term), if its meta file exists and parses.
    func meta(index: UInt64, term: UInt64) -> Meta? {
        guard let data = FileManager.default.contents(atPath: metaPath(index: index, term: term)),
              let meta = try? JSONDecoder().decode(Meta.self, from: data),
              meta.index == index, meta.term == term
        else { return nil }
        return meta
    }

    /// Every snapshot with a readable meta, newest (highest index) first. Does not check digests.
    func list() -> [Meta] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> Meta? in
            guard name.hasPrefix("snap-"), name.hasSuffix(".json") else { return nil }
            guard let key = Self.parseName(String(name.dropFirst(5).dropLast(5))) else { return nil }
            return meta(index: key.index, term: key.term)
        }.sorted { ($0.index, $0.term) > ($1.index, $1.term) }
    }

    /// True when the data file has the meta's size and SHA-256 (a damaged file is never used).
    func verify(_ meta: Meta) -> Bool {
        guard let digest = try? Self.digest(of: dataPath(index: meta.index, term: meta.term)) else { return false }
        return digest.bytes == meta.bytes && digest.sha256 == meta.sha256
    }

    /// Moves a finished data file into place under its final name and writes its meta, each
    /// synced, meta last.
    func install(dataFile: String, meta: Meta) throws {
        let target = dataPath(index: meta.index, term: meta.term)
        if dataFile != target {
            try? FileManager.default.removeItem(atPath: target)
            guard rename(dataFile, target) == 0 else { throw SnapshotFileError("rename \(dataFile) → \(target): errno \(errno)") }
        }
        let metaTarget = metaPath(index: meta.index, term: meta.term)
        let temporary = metaTarget + ".tmp"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(meta).write(to: URL(fileURLWithPath: temporary))
        try Self.fsync(temporary)
        guard rename(temporary, metaTarget) == 0 else { throw SnapshotFileError("rename \(temporary): errno \(errno)") }
        try Self.fsync(directory.path)
    }

    /// Removes complete snapshots beyond the newest `keep`, and those below index `below` (the
    /// log's compaction point: no install can use them) except the newest, which a follower
    /// may still be downloading. Touches nothing else: temporaries, downloads and a data file
    /// whose meta is still being written belong to other threads.
    func prune(keep: Int, below: UInt64 = 0) {
        for (rank, meta) in list().enumerated() where rank > 0 && (rank >= keep || meta.index < below) {
            // Meta first: without it the data file no longer counts as a snapshot.
            try? FileManager.default.removeItem(atPath: metaPath(index: meta.index, term: meta.term))
            try? FileManager.default.removeItem(atPath: dataPath(index: meta.index, term: meta.term))
        }
    }

    /// At startup, before any other thread uses the directory: removes what a crash left behind
    /// (temporaries, data files without meta). Downloads are kept, to be resumed.
    func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names {
            let orphan = name.hasPrefix("snap-") && name.hasSuffix(".db")
                && !FileManager.default.fileExists(atPath: directory.appendingPathComponent(String(name.dropLast(3)) + ".json").path)
            if name.hasPrefix("tmp-") || name.hasSuffix(".tmp") || orphan {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    /// Removes downloads other than `keeping` (only the fetcher's thread calls this).
    func removeDownloads(except keeping: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("incoming-") && name != "incoming-\(keeping).part" {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Size and lowercase hex SHA-256 of a file, read in 1 MiB pieces.
    static func digest(of path: String) throws -> (bytes: UInt64, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SnapshotFileError("cannot open \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total: UInt64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            total += UInt64(chunk.count)
        }
        return (total, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    static func fsync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SnapshotFileError("open \(path) for fsync: errno \(errno)") }
        defer { close(fd) }
        guard Foundation.fsync(fd) == 0 else { throw SnapshotFileError("fsync \(path): errno \(errno)") }
    }
}

struct SnapshotFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
