import Foundation
@testable import Node
import Raft
import Testing
import TestSupport

/// The node identity in certificates and the TLS config keys (issue 10). Certificates come from
/// `cluster/certs.sh` (openssl) in a temporary folder, removed at the end.
@Suite(.ownThreads) struct NodeTLSTests {
    @Test(arguments: [
        ("n1.trireme.local", UInt64?.some(1)),
        ("N12.TRIREME.LOCAL", 12),
        ("n18446744073709551615.trireme.local", UInt64.max),
        ("n01.trireme.local", nil),                      // one spelling per id
        ("n0.trireme.local", nil),                       // 0 is no node
        ("n.trireme.local", nil),
        ("n-1.trireme.local", nil),
        ("n+1.trireme.local", nil),
        ("n18446744073709551616.trireme.local", nil),    // overflow
        ("n1.trireme.local.evil.example", nil),
        ("n1x.trireme.local", nil),
        ("x1.trireme.local", nil),
        ("n1.trireme.locals", nil),
        ("localhost", nil),
    ])
    func nodeIdentityNames(name: String, id: UInt64?) {
        #expect(PeerIdentity.nodeID(named: name) == id.map { NodeID($0) })
    }

    static let base = #"{"nodeId": 1, "dataDir": "/tmp/x", "clusterSecret": "0123456789abcdef0123", "members": [{"id": 1, "api": "127.0.0.1:1", "peer": "127.0.0.1:2"}]"#

    private func config(_ keys: [String: String]) throws -> NodeConfig {
        let extra = keys.sorted { $0.key < $1.key }.map { #", "\#($0.key)": "\#($0.value)""# }.joined()
        return try JSONDecoder().decode(NodeConfig.self, from: Data((Self.base + extra + "}").utf8))
    }

    /// A CA and certificates for nodes 1 and 2 in a fresh folder; removed by `body`'s end.
    private func withCerts(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for args in [["init"], ["issue", "1"], ["issue", "2"]] { try CertsScript.run(args, in: dir) }
        try body(dir)
    }

    private func keys(_ dir: URL, cert: Int, key: Int? = nil) -> [String: String] {
        ["tlsCertFile": dir.appendingPathComponent("n\(cert).pem").path,
         "tlsKeyFile": dir.appendingPathComponent("n\(key ?? cert)-key.pem").path,
         "tlsCAFile": dir.appendingPathComponent("ca.pem").path]
    }

    /// The validation error of a config with these keys; nil when it validates.
    private func failure(_ keys: [String: String]) -> String? {
        do {
            _ = try config(keys).validated()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func withoutTLSKeysTheNodeIsPlaintext() throws {
        #expect(try config([:]).validated().tls == nil)
    }

    @Test func theNodesOwnCertificateLoads() throws {
        try withCerts { dir in
            #expect(failure(keys(dir, cert: 1)) == nil)
            let tls = try config(keys(dir, cert: 1)).validated().tls
            #expect(tls != nil)
        }
    }

    @Test func theKeysGoTogether() throws {
        try withCerts { dir in
            var partial = keys(dir, cert: 1)
            partial["tlsCAFile"] = nil
            #expect(failure(partial)?.contains("set all three or none") == true)
        }
    }

    @Test func anotherNodesCertificateIsRefusedAtStart() throws {
        try withCerts { dir in
            #expect(failure(keys(dir, cert: 2))?.contains("n1.trireme.local") == true)
        }
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefused() throws {
        try withCerts { dir in
            #expect(failure(keys(dir, cert: 1, key: 2)) != nil)
        }
    }

    @Test func unreadableFilesAreNamed() throws {
        try withCerts { dir in
            var missing = keys(dir, cert: 1)
            missing["tlsCertFile"] = dir.appendingPathComponent("nope.pem").path
            #expect(failure(missing)?.contains("tlsCertFile") == true)
            var garbage = keys(dir, cert: 1)
            garbage["tlsCAFile"] = dir.appendingPathComponent("n1-key.pem").path
            #expect(failure(garbage)?.contains("tlsCAFile") == true)
        }
    }
}
