import Foundation
import HTTPTypes
import Hummingbird
import Testing
@testable import Node

/// Tokens, roles and the start-up rule (no unauthenticated API on a network address), without
/// a running node. The live behaviour is in ClusterTests/SecurityTests.
@Suite struct SecurityConfigTests {
    static let adminToken = "trm_admin"
    static func tokens() -> [SecurityConfig.Token] {
        [SecurityConfig.Token(name: "ops", sha256: APITokens.hash(adminToken), role: .admin),
         SecurityConfig.Token(name: "ci", sha256: APITokens.hash("trm_ci"), role: .submitter, queues: ["q1"]),
         SecurityConfig.Token(name: "dash", sha256: APITokens.hash("trm_dash"), role: .viewer)]
    }

    struct StartCase: Sendable, CustomTestStringConvertible {
        var name: String
        var host: String
        var withTokens: Bool
        var requireAuth: Bool?
        /// nil: refused at start; else whether tokens are checked.
        var enabled: Bool?
        var testDescription: String { name }
    }

    @Test(arguments: [
        StartCase(name: "loopback, no tokens: open", host: "127.0.0.1", withTokens: false, enabled: false),
        StartCase(name: "loopback 127.0.0.12, no tokens: open", host: "127.0.0.12", withTokens: false, enabled: false),
        StartCase(name: "localhost, tokens: checked", host: "localhost", withTokens: true, enabled: true),
        StartCase(name: "IPv6 loopback, tokens, requireAuth false: open", host: "::1", withTokens: true, requireAuth: false, enabled: false),
        StartCase(name: "loopback, requireAuth without tokens: refused", host: "127.0.0.1", withTokens: false, requireAuth: true, enabled: nil),
        StartCase(name: "0.0.0.0 without tokens: refused", host: "0.0.0.0", withTokens: false, enabled: nil),
        StartCase(name: "LAN address without tokens: refused", host: "10.0.0.5", withTokens: false, enabled: nil),
        StartCase(name: "a host name without tokens: refused", host: "node1.example", withTokens: false, enabled: nil),
        StartCase(name: "LAN address, requireAuth false: refused", host: "10.0.0.5", withTokens: true, requireAuth: false, enabled: nil),
        StartCase(name: "LAN address with tokens: checked", host: "10.0.0.5", withTokens: true, enabled: true),
    ])
    func startUpRule(_ c: StartCase) {
        let config = SecurityConfig(tokens: c.withTokens ? Self.tokens() : [], requireAuth: c.requireAuth)
        let outcome = Result { () throws(NodeConfigError) in try config.validated(apiHost: c.host) }
        switch (outcome, c.enabled) {
        case (.success(let security), let expected?): #expect(security.enabled == expected)
        case (.failure, nil): break
        case (.success, nil): Issue.record("\(c.name): started, expected a refusal")
        case (.failure(let error), _?): Issue.record("\(c.name): refused: \(error)")
        }
    }

    @Test func badTokenEntriesAreRefused() {
        for entry in [SecurityConfig.Token(name: "x", sha256: "abc", role: .admin),
                      SecurityConfig.Token(name: "x", sha256: String(repeating: "g", count: 64), role: .admin),
                      SecurityConfig.Token(name: "has space", sha256: APITokens.hash("t"), role: .admin),
                      SecurityConfig.Token(name: "", sha256: APITokens.hash("t"), role: .admin)] {
            #expect(throws: NodeConfigError.self) { try SecurityConfig(tokens: [entry]).validated(apiHost: "127.0.0.1") }
        }
        let twice = [SecurityConfig.Token(name: "a", sha256: APITokens.hash("t"), role: .admin),
                     SecurityConfig.Token(name: "b", sha256: APITokens.hash("t"), role: .viewer)]
        #expect(throws: NodeConfigError.self) { try SecurityConfig(tokens: twice).validated(apiHost: "127.0.0.1") }
    }

    @Test func tokensMatchByDigestOnly() throws {
        let security = try SecurityConfig(tokens: Self.tokens()).validated(apiHost: "127.0.0.1")
        #expect(APITokens.match("trm_ci", in: security.tokens)?.name == "ci")
        #expect(APITokens.match("trm_c", in: security.tokens) == nil)
        #expect(APITokens.match("trm_ci ", in: security.tokens) == nil)
        #expect(APITokens.match(String(repeating: "x", count: 10_000), in: security.tokens) == nil)
        #expect(APITokens.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 test vector")
        let fresh = APITokens.generate()
        #expect(fresh.hasPrefix("trm_") && fresh.count == 68 && fresh != APITokens.generate())
        #expect(APITokens.constantTimeEqual([1, 2, 3], [1, 2, 3]) && !APITokens.constantTimeEqual([1, 2, 3], [1, 2, 4]))
    }

    @Test(arguments: [
        ("Bearer trm_x", "trm_x"), ("bearer  trm_x", "trm_x"), ("Basic dXNlcjpwdw==", nil), ("Bearer", nil), ("", nil),
        ("trm_x", nil), ("Bearer trm_x trailing", "trm_x trailing"),
    ] as [(String, String?)])
    func bearerParsing(_ header: String, _ token: String?) {
        #expect(AuthMiddleware<BasicRequestContext>.bearer(header) == token)
    }

    typealias Auth = AuthMiddleware<BasicRequestContext>

    @Test(arguments: [
        ("GET", "/v1/queues", Auth.Permission.read), ("HEAD", "/v1/jobs", .read),
        ("POST", "/v1/queues", .admin), ("PATCH", "/v1/queues/q1", .admin), ("DELETE", "/v1/queues/q1", .admin),
        ("POST", "/v1/queues/q1:purge", .admin), ("POST", "/v1/cluster/members", .admin), ("POST", "/v1/cluster/transfer", .admin),
        ("POST", "/v1/schedules", .admin), ("POST", "/v1/queues/q1/tasks", .submit(queue: "q1")),
        ("DELETE", "/v1/queues/q2/tasks/t", .submit(queue: "q2")), ("POST", "/v1/queues/q1/tasks/t:cancel", .submit(queue: "q1")),
        ("POST", "//v1//queues/q1/tasks", .submit(queue: "q1")), ("POST", "/v1/jobs", .submit(queue: nil)),
        ("POST", "/v1/jobs/j:cancel", .submit(queue: nil)), ("POST", "/v1/internal/commands", .internal),
        ("GET", "/v1/internal/snapshots/x", .internal), ("OPTIONS", "/v1/queues", .admin),
    ] as [(String, String, Auth.Permission)])
    func permissions(_ method: String, _ path: String, _ expected: Auth.Permission) throws {
        let parsed = try #require(HTTPRequest.Method(method))
        #expect(Auth.permission(method: parsed, path: path) == expected)
    }

    @Test func rolesGrantWhatTheyShould() throws {
        let security = try SecurityConfig(tokens: Self.tokens()).validated(apiHost: "127.0.0.1")
        let byName = Dictionary(uniqueKeysWithValues: security.tokens.map { ($0.name, $0) })
        let ops = try #require(byName["ops"]), ci = try #require(byName["ci"]), dash = try #require(byName["dash"])
        #expect(Auth.allows(ops, .admin) && Auth.allows(ops, .submit(queue: "any")))
        #expect(Auth.allows(ci, .submit(queue: "q1")) && Auth.allows(ci, .submit(queue: nil)) && Auth.allows(ci, .read))
        #expect(!Auth.allows(ci, .submit(queue: "q2")) && !Auth.allows(ci, .admin))
        #expect(Auth.allows(dash, .read) && !Auth.allows(dash, .submit(queue: "q1")) && !Auth.allows(dash, .admin))
    }

    @Test func theSecuritySectionDecodesWithDefaults() throws {
        let json = #"{"nodeId":1,"dataDir":"/tmp/x","members":[],"security":{"tokens":[{"name":"a","sha256":"\#(APITokens.hash("t"))","role":"submitter"}],"maxURLBytes":1024}}"#
        let config = try JSONDecoder().decode(NodeConfig.self, from: Data(json.utf8))
        let security = try #require(config.security)
        #expect(security.tokens.first?.role == .submitter && security.maxURLBytes == 1_024)
        #expect(security.openPaths == ["/healthz", "/readyz"] && security.maxHeaderBytes == 16 << 10 && security.maxJSONDepth == 32)
    }
}
