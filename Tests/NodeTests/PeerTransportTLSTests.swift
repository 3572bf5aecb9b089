import Executor
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Raft
import Testing
@testable import Node
import TestSupport

/// Mutual TLS between two in-process transports (issue 10), with certificates made by
/// `cluster/certs.sh`: both directions check the other side's certificate, so a node whose
/// certificate names another node, or comes from another CA, exchanges nothing — also on the
/// dialling side, which the live-cluster probes (`TLSClusterTests`) cannot reach.
@Suite(.serialized, .ownThreads) struct PeerTransportTLSTests {
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()
    let secret = Array("a-cluster-secret-of-32-bytes-...".utf8)

    /// A folder with the cluster CA and nodes 1–3, and another CA with its own node 2.
    private func withCerts(_ body: (_ cluster: URL, _ foreign: URL) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-peer-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cluster = root.appendingPathComponent("cluster"), foreign = root.appendingPathComponent("foreign")
        for (dir, args) in [(cluster, ["init"]), (cluster, ["issue", "1"]), (cluster, ["issue", "2"]), (cluster, ["issue", "3"]),
                            (foreign, ["init"]), (foreign, ["issue", "2"])] {
            try CertsScript.run(args, in: dir)
        }
        try await body(cluster, foreign)
    }

    /// TLS material from `dir` for the certificate of node `certificate` (which may not be the
    /// node that uses it: that is the point of some tests).
    private func tls(_ dir: URL, certificate: UInt64) throws -> NodeTLS {
        try NodeTLS.load(certFile: dir.appendingPathComponent("n\(certificate).pem").path,
                         keyFile: dir.appendingPathComponent("n\(certificate)-key.pem").path,
                         caFile: dir.appendingPathComponent("ca.pem").path, nodeID: NodeID(certificate))
    }

    private func pair(tlsA: NodeTLS, tlsB: NodeTLS) throws -> (PeerTransport, CollectingSink, PeerTransport, CollectingSink) {
        let ports = try FreePorts.take(2)
        let addresses = [NodeID(1): PeerAddress(host: "127.0.0.1", port: ports[0]),
                         NodeID(2): PeerAddress(host: "127.0.0.1", port: ports[1])]
        let sinkA = CollectingSink(), sinkB = CollectingSink()
        let group = MultiThreadedEventLoopGroup.singleton
        let a = PeerTransport(selfID: NodeID(1), listen: addresses[NodeID(1)]!, peers: addresses, secret: secret,
                              group: group, sink: sinkA, logger: logger, tls: tlsA)
        let b = PeerTransport(selfID: NodeID(2), listen: addresses[NodeID(2)]!, peers: addresses, secret: secret,
                              group: group, sink: sinkB, logger: logger, tls: tlsB)
        return (a, sinkA, b, sinkB)
    }

    private func heartbeat(from: UInt64, to: UInt64) -> Message {
        Message(from: NodeID(from), to: NodeID(to), term: Term(3), payload: .heartbeat(.init(commit: LogIndex(7))))
    }

    /// Sends both ways until something arrives or about a second passed; returns what arrived at A and B.
    private func exchange(_ a: PeerTransport, _ sinkA: CollectingSink, _ b: PeerTransport, _ sinkB: CollectingSink,
                          attempts: Int) async -> ([Message], [Message]) {
        for _ in 0..<attempts where sinkA.messages.isEmpty || sinkB.messages.isEmpty {
            a.send([heartbeat(from: 1, to: 2)])
            b.send([heartbeat(from: 2, to: 1)])
            try? await Task.sleep(for: .milliseconds(20))
        }
        return (sinkA.messages, sinkB.messages)
    }

    @Test func mutualTLSDeliversBothWays() async throws {
        try await withCerts { cluster, _ in
            let (a, sinkA, b, sinkB) = try pair(tlsA: try tls(cluster, certificate: 1), tlsB: try tls(cluster, certificate: 2))
            try await a.start()
            try await b.start()
            defer { Task { await a.shutdown(); await b.shutdown() } }
            let (atA, atB) = await exchange(a, sinkA, b, sinkB, attempts: 500)
            #expect(atA.first == heartbeat(from: 2, to: 1))
            #expect(atB.first == heartbeat(from: 1, to: 2))
        }
    }

    /// Node 2 runs with node 3's (valid) certificate: node 1 refuses it as a server (hostname
    /// n2.trireme.local) and as a client (the hello claims node 2).
    @Test func anotherNodesCertificateExchangesNothing() async throws {
        try await withCerts { cluster, _ in
            let (a, sinkA, b, sinkB) = try pair(tlsA: try tls(cluster, certificate: 1), tlsB: try tls(cluster, certificate: 3))
            try await a.start()
            try await b.start()
            defer { Task { await a.shutdown(); await b.shutdown() } }
            let (atA, atB) = await exchange(a, sinkA, b, sinkB, attempts: 50)
            #expect(atA.isEmpty && atB.isEmpty)
        }
    }

    /// Node 2's certificate (and trust) come from another CA: neither side accepts the other.
    @Test func anotherCAsCertificateExchangesNothing() async throws {
        try await withCerts { cluster, foreign in
            let (a, sinkA, b, sinkB) = try pair(tlsA: try tls(cluster, certificate: 1), tlsB: try tls(foreign, certificate: 2))
            try await a.start()
            try await b.start()
            defer { Task { await a.shutdown(); await b.shutdown() } }
            let (atA, atB) = await exchange(a, sinkA, b, sinkB, attempts: 50)
            #expect(atA.isEmpty && atB.isEmpty)
        }
    }

    /// Node-to-node HTTPS (forwarding, executor commands, snapshots) checks the same identity
    /// before it sends a byte of the request. The listener here is a peer port (TLS with the
    /// cluster CA, then not HTTP): enough to tell "refused at the certificate" from "sent".
    @Test(arguments: [(UInt64(3), true), (UInt64(2), false)])
    func nodeToNodeHTTPSChecksTheServersNodeIdentity(serverCertificate: UInt64, refused: Bool) async throws {
        try await withCerts { cluster, _ in
            let client = try tls(cluster, certificate: 1)
            let (a, _, b, _) = try pair(tlsA: client, tlsB: try tls(cluster, certificate: serverCertificate))
            try await b.start()
            defer { Task { await a.shutdown(); await b.shutdown() } }
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/cluster", headers: ["Host": "n2"])
            var failure = ""
            do {
                _ = try await NIOHTTPCaller.exchange(
                    group: MultiThreadedEventLoopGroup.singleton, head: head, body: Data(), limit: 1_024, timeout: .seconds(10),
                    connectTimeout: .seconds(5), target: "n2", tls: client.toNode(NodeID(2))
                ) { $0.connect(host: b.listen.host, port: b.listen.port) }
            } catch {
                failure = "\(error)"
            }
            #expect(failure.contains("does not name node n2") == refused, "\(failure)")
            #expect(!failure.isEmpty, "a peer port answered HTTP")
        }
    }
}
