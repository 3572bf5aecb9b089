import Foundation
import Testing
@testable import Node

@Suite struct SnapshotFilesTests {
    /// A fresh data directory, removed by the caller's `defer`.
    static func makeFiles() throws -> (SnapshotFiles, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snapfiles-\(UUID().uuidString)")
        let files = SnapshotFiles(dataDir: dir)
        try files.prepare()
        return (files, dir)
    }

    /// Writes `content` as a snapshot at (index, term) through the real install path.
    static func add(_ files: SnapshotFiles, index: UInt64, term: UInt64, content: String) throws -> SnapshotFiles.Meta {
        let temporary = files.temporaryPath()
        try Data(content.utf8).write(to: URL(fileURLWithPath: temporary))
        let digest = try SnapshotFiles.digest(of: temporary)
        let meta = SnapshotFiles.Meta(index: index, term: term, voters: [1, 2, 3], learners: [], bytes: digest.bytes,
                                      sha256: digest.sha256)
        try files.install(dataFile: temporary, meta: meta)
        return meta
    }

    @Test func installedSnapshotsAreListedNewestFirstAndVerified() throws {
        let (files, dir) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = try Self.add(files, index: 40, term: 1, content: "old state")
        let new = try Self.add(files, index: 80, term: 2, content: "new state")
        #expect(files.list() == [new, old])
        #expect(files.verify(new) && files.verify(old))
        #expect(new.metadata.configuration.voters.count == 3)
        #expect(new.metadata.index.rawValue == 80 && new.metadata.term.rawValue == 2)
        // The digest is SHA-256 of the bytes (known answer for "new state").
        #expect(new.sha256 == "8b2eec684b350a01bf1d574d264704722cdf5f0484beee6bf22bb7b26b267329")
    }

    @Test func aDamagedDataFileFailsVerification() throws {
        let (files, dir) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let meta = try Self.add(files, index: 10, term: 1, content: "some store image")
        let path = files.dataPath(index: 10, term: 1)
        try Data("some store imagE".utf8).write(to: URL(fileURLWithPath: path))
        #expect(!files.verify(meta), "same size, one byte changed: the checksum must catch it")
        try Data("short".utf8).write(to: URL(fileURLWithPath: path))
        #expect(!files.verify(meta))
        try FileManager.default.removeItem(atPath: path)
        #expect(!files.verify(meta))
    }

    @Test func pruneKeepsTheNewestAndLeavesOtherFilesAlone() throws {
        let (files, dir) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 1...5 { _ = try Self.add(files, index: UInt64(i * 10), term: 1, content: "state \(i)") }
        let download = files.partPath(index: 99, term: 3)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: download))
        files.prune(keep: 3)
        #expect(files.list().map(\.index) == [50, 40, 30])
        #expect(!FileManager.default.fileExists(atPath: files.dataPath(index: 10, term: 1)))
        #expect(FileManager.default.fileExists(atPath: download), "a download in progress is not prune's business")
    }

    @Test func pruneBelowTheCompactionPointKeepsOnlyTheNewestThere() throws {
        let (files, dir) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Self.add(files, index: 10, term: 1, content: "a")
        let middle = try Self.add(files, index: 20, term: 1, content: "b")
        let newest = try Self.add(files, index: 30, term: 1, content: "c")
        files.prune(keep: 3, below: 15)
        #expect(files.list() == [newest, middle])
        // Even the newest is below the point: it stays (a follower may be downloading it).
        files.prune(keep: 3, below: 100)
        #expect(files.list() == [newest])
    }

    @Test func leftoversOfACrashAreRemovedButDownloadsKept() throws {
        let (files, dir) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kept = try Self.add(files, index: 10, term: 1, content: "kept")
        let temporary = files.temporaryPath()
        try Data("half a vacuum".utf8).write(to: URL(fileURLWithPath: temporary))
        let orphan = files.dataPath(index: 20, term: 1)
        try Data("renamed, meta never written".utf8).write(to: URL(fileURLWithPath: orphan))
        let download = files.partPath(index: 30, term: 2)
        try Data("resume me".utf8).write(to: URL(fileURLWithPath: download))
        files.removeLeftovers()
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(FileManager.default.fileExists(atPath: download))
        #expect(files.list() == [kept])
        files.removeDownloads(except: "31-2")
        #expect(!FileManager.default.fileExists(atPath: download))
    }

    @Test(arguments: ["12-3", "0-0"]) func namesParse(_ name: String) {
        #expect(SnapshotFiles.parseName(name) != nil)
    }

    @Test(arguments: ["", "12", "12-", "-3", "a-b", "1-2-3", "../x", "99999999999999999999-1"])
    func badNamesAreRefused(_ name: String) {
        #expect(SnapshotFiles.parseName(name) == nil)
    }

    @Test func signedRequestsVerifyOnlyForTheSamePathSecretAndAFreshTime() {
        let secret = Array("cluster-secret-0123456789".utf8)
        let now: Int64 = 1_800_000_000_000
        let path = "/v1/internal/snapshots/40-1/data?offset=0&length=4096"
        let (timestamp, signature) = SnapshotSigning.sign(path: path, secret: secret, nowMs: now)
        #expect(SnapshotSigning.verify(path: path, timestamp: timestamp, signature: signature, secret: secret, nowMs: now + 1_000))
        #expect(!SnapshotSigning.verify(path: path + "0", timestamp: timestamp, signature: signature, secret: secret, nowMs: now))
        #expect(!SnapshotSigning.verify(path: path, timestamp: timestamp, signature: signature,
                                        secret: Array("another-secret-0123456789".utf8), nowMs: now))
        #expect(!SnapshotSigning.verify(path: path, timestamp: timestamp, signature: signature, secret: secret,
                                        nowMs: now + 61_000), "a minute-old signature is stale")
        #expect(!SnapshotSigning.verify(path: path, timestamp: nil, signature: signature, secret: secret, nowMs: now))
        #expect(!SnapshotSigning.verify(path: path, timestamp: "\(Int64.min)", signature: signature, secret: secret, nowMs: now))
        #expect(!SnapshotSigning.verify(path: path, timestamp: "\(Int64.max)", signature: signature, secret: secret, nowMs: now))
        #expect(!SnapshotSigning.verify(path: path, timestamp: timestamp, signature: "zz", secret: secret, nowMs: now))
    }
}
