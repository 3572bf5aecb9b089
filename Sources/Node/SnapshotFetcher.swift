import Executor
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Raft
import Store
import Synchronization

/// The follower side of InstallSnapshot. The leader's core sends only the snapshot's metadata;
/// this component intercepts that message, pulls the snapshot file from the sender's API in
/// chunks (`GET /v1/internal/snapshots/<index>-<term>/data?offset=&length=`, HMAC-signed),
/// appending to `incoming-<index>-<term>.part`, so a dropped connection or a restart resumes
/// where it stopped. When the file matches the leader's size and SHA-256 and passes SQLite's
/// integrity check, it is installed under its final name and the metadata message is handed to
/// the driver, whose core then asks the host to install it.
///
/// Snapshot bytes never travel on the Raft peer connection, so heartbeats and appends to other
/// followers never queue behind them; TCP on its own connection gives the flow control.
/// Downloads run on their own thread (blocking file I/O and hashing stay off NIO and the
/// cooperative pool).
final class SnapshotFetcher: Sendable {
    private struct State {
        /// The snapshot being downloaded (`<index>-<term>`) and the newest message for it.
        var current: String?
        var latest: Message?
        /// Snapshots known complete and verified (checked once, then trusted).
        var verified: Set<String> = []
    }

    static let chunkBytes: UInt64 = 4 << 20
    static let maxAttempts = 30

    let files: SnapshotFiles
    private let secret: [UInt8]
    private let apiAddresses: [NodeID: String]
    private let logger: Logger
    private let state = Mutex(State())
    /// TLS clusters: the sender's API is HTTPS and its certificate must name the sender.
    private let tls: NodeTLS?
    private let group: any EventLoopGroup

    init(files: SnapshotFiles, secret: [UInt8], apiAddresses: [NodeID: String], logger: Logger, tls: NodeTLS? = nil,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.files = files
        self.secret = secret
        self.apiAddresses = apiAddresses
        self.logger = logger
        self.tls = tls
        self.group = group
    }

    /// Splits out install messages: the others are returned for the driver at once; an install
    /// is delivered through `deliver` once its file is here.
    func intercept(_ messages: [Message], deliver: @escaping @Sendable ([Message]) -> Void) -> [Message] {
        var others: [Message] = []
        for message in messages {
            if case .installSnapshot(let snapshot) = message.payload {
                receive(message, metadata: snapshot.metadata, deliver: deliver)
            } else {
                others.append(message)
            }
        }
        return others
    }

    private func receive(_ message: Message, metadata: SnapshotMetadata, deliver: @escaping @Sendable ([Message]) -> Void) {
        let index = metadata.index.rawValue, term = metadata.term.rawValue
        let name = "\(index)-\(term)"
        enum Action { case deliverNow, start, nothing }
        let action = state.withLock { state -> Action in
            if state.verified.contains(name) { return .deliverNow }
            if state.current == name {
                state.latest = message
                return .nothing
            }
            if let current = state.current, let key = SnapshotFiles.parseName(current), key.index > index { return .nothing }
            state.current = name
            state.latest = message
            return .start
        }
        switch action {
        case .deliverNow:
            deliver([message])
        case .nothing:
            break
        case .start:
            let thread = Thread { [self] in self.fetch(index: index, term: term, from: message.from, deliver: deliver) }
            thread.name = "snapshot-fetch"
            thread.start()
        }
    }

    /// Runs on its own thread until the snapshot is installed or attempts run out (the leader
    /// then times the install out and sends it again).
    private func fetch(index: UInt64, term: UInt64, from leader: NodeID, deliver: @escaping @Sendable ([Message]) -> Void) {
        let name = "\(index)-\(term)"
        files.removeDownloads(except: name)
        var attempt = 0
        while attempt < Self.maxAttempts {
            guard state.withLock({ $0.current == name }) else { return }
            if let existing = files.meta(index: index, term: term), files.verify(existing) {
                finish(name, deliver: deliver)
                return
            }
            do {
                let started = ContinuousClock.now
                let bytes = try download(index: index, term: term, from: leader)
                let seconds = max(started.duration(to: .now).seconds, 0.001)
                logger.info("snapshot downloaded", metadata: [
                    "snapshot": "\(name)", "bytes": "\(bytes)", "ms": "\(Int(seconds * 1000))",
                    "MBps": "\(Int(Double(bytes) / seconds / 1_000_000))",
                ])
                finish(name, deliver: deliver)
                return
            } catch {
                attempt += 1
                logger.warning("snapshot download failed; retrying", metadata: [
                    "snapshot": "\(name)", "attempt": "\(attempt)", "error": "\(error)",
                ])
                Thread.sleep(forTimeInterval: min(2.0, 0.1 * Double(1 << min(attempt, 5))))
            }
        }
        state.withLock { state in
            if state.current == name { state.current = nil; state.latest = nil }
        }
    }

    private func finish(_ name: String, deliver: @Sendable ([Message]) -> Void) {
        let message = state.withLock { state -> Message? in
            state.verified.insert(name)
            guard state.current == name else { return nil }
            state.current = nil
            defer { state.latest = nil }
            return state.latest
        }
        if let message { deliver([message]) }
    }

    /// Returns the snapshot's size.
    private func download(index: UInt64, term: UInt64, from leader: NodeID) throws -> UInt64 {
        guard let api = apiAddresses[leader] else { throw SnapshotFileError("no API address for n\(leader.rawValue)") }
        let name = "\(index)-\(term)"
        let metaData = try get(api: api, node: leader, path: "/v1/internal/snapshots/\(name)")
        let meta = try JSONDecoder().decode(SnapshotFiles.Meta.self, from: metaData)
        guard meta.index == index, meta.term == term else { throw SnapshotFileError("leader described \(meta.name), asked \(name)") }
        let part = files.partPath(index: index, term: term)
        if !FileManager.default.fileExists(atPath: part) {
            guard FileManager.default.createFile(atPath: part, contents: nil) else { throw SnapshotFileError("cannot create \(part)") }
        }
        guard let handle = FileHandle(forUpdatingAtPath: part) else { throw SnapshotFileError("cannot open \(part)") }
        defer { try? handle.close() }
        var offset = try handle.seekToEnd()
        if offset > meta.bytes {
            try handle.truncate(atOffset: 0)
            offset = 0
        }
        while offset < meta.bytes {
            let length = min(Self.chunkBytes, meta.bytes - offset)
            let chunk = try get(api: api, node: leader, path: "/v1/internal/snapshots/\(name)/data?offset=\(offset)&length=\(length)")
            guard UInt64(chunk.count) == length else {
                throw SnapshotFileError("chunk at \(offset): \(chunk.count) bytes, expected \(length)")
            }
            try handle.write(contentsOf: chunk)
            offset += length
        }
        try handle.synchronize()
        let digest = try SnapshotFiles.digest(of: part)
        guard digest.bytes == meta.bytes, digest.sha256 == meta.sha256 else {
            try? FileManager.default.removeItem(atPath: part)
            throw SnapshotFileError("downloaded \(name) does not match its SHA-256; starting over")
        }
        do {
            let applied = try StateStore.validateSnapshot(at: part)
            guard applied == index else { throw SnapshotFileError("snapshot \(name) holds index \(applied)") }
        } catch {
            try? FileManager.default.removeItem(atPath: part)
            throw error
        }
        try files.install(dataFile: part, meta: meta)
        return meta.bytes
    }

    /// One signed GET over SwiftNIO (HTTPS in a TLS cluster), blocking this (dedicated) thread
    /// until the answer or 30 s. Foundation's URLSession, used before, cannot trust a private CA
    /// on Linux.
    private func get(api: String, node: NodeID, path: String) throws -> Data {
        guard let (host, port) = CommandForwarding.hostAndPort(api) else { throw SnapshotFileError("bad address \(api)") }
        let (timestamp, signature) = SnapshotSigning.sign(path: path, secret: secret)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: api)
        headers.add(name: "Connection", value: "close")
        headers.add(name: SnapshotSigning.timestampHeader, value: timestamp)
        headers.add(name: CommandBatch.signatureHeader, value: signature)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let literal = try? SocketAddress(ipAddress: host, port: port)
        // One byte over a chunk: an answer longer than asked is refused below, not cut.
        let result = NIOHTTPCaller.start(
            group: group, head: head, body: Data(), limit: Int(Self.chunkBytes) + 1, timeout: .seconds(30),
            connectTimeout: .seconds(5), target: api, tls: tls?.toNode(node)
        ) { bootstrap in
            if let literal { return bootstrap.connect(to: literal) }
            return bootstrap.connect(host: host, port: port)
        }
        let response: OutboundHTTPResponse
        do {
            response = try result.promise.futureResult.wait()
        } catch {
            throw SnapshotFileError("GET \(path): \(error)")
        }
        guard response.status == 200 else { throw SnapshotFileError("GET \(path): status \(response.status)") }
        guard response.bodyPrefix.count <= Int(Self.chunkBytes) else { throw SnapshotFileError("GET \(path): answer too long") }
        return response.bodyPrefix
    }
}

/// Signed internal GETs: `Trireme-Timestamp` (Unix ms) and `Trireme-Signature`, the hex
/// HMAC-SHA256 of "GET <path and query> <timestamp>" with the cluster secret. The server takes
/// a timestamp within a minute of its clock, so a captured request is not reusable for long.
enum SnapshotSigning {
    static let timestampHeader = "Trireme-Timestamp"
    static let window: Int64 = 60_000

    static func sign(path: String, secret: [UInt8], nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> (String, String) {
        let timestamp = String(nowMs)
        return (timestamp, CommandBatch.sign(Array("GET \(path) \(timestamp)".utf8), secret: secret))
    }

    static func verify(path: String, timestamp: String?, signature: String?, secret: [UInt8],
                       nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> Bool {
        // Compared without subtracting from client input (no overflow on a hostile timestamp).
        guard let timestamp, let when = Int64(timestamp), when >= nowMs - window, when <= nowMs + window else { return false }
        return CommandBatch.verify(Array("GET \(path) \(timestamp)".utf8), signature: signature, secret: secret)
    }
}
