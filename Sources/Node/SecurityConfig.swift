import Foundation

/// The `security` section of a node's configuration: client tokens and roles, which paths stay
/// open, and the HTTP limits. Every key is optional; the defaults suit a loopback development
/// cluster and are safe on a network address (where tokens are then required).
public struct SecurityConfig: Codable, Sendable, Equatable {
    public enum Role: String, Codable, Sendable, Comparable {
        /// Reads only.
        case viewer
        /// Reads; create, cancel, run and delete tasks (in `queues`, when given) and jobs.
        case submitter
        /// Everything: queues, schedules, cluster membership, leadership transfer.
        case admin

        var rank: Int {
            switch self {
            case .viewer: 0
            case .submitter: 1
            case .admin: 2
            }
        }

        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }

    public struct Token: Codable, Sendable, Equatable {
        /// Who: written to the audit log (never the token itself).
        public var name: String
        /// SHA-256 of the token, 64 hex digits (`trireme token new` / `trireme token hash`).
        public var sha256: String
        public var role: Role
        /// For a submitter: the queues it may write to (nil: all).
        public var queues: [String]?

        public init(name: String, sha256: String, role: Role, queues: [String]? = nil) {
            self.name = name
            self.sha256 = sha256
            self.role = role
            self.queues = queues
        }
    }

    public var tokens: [Token]
    /// nil: required when the API listens on a non-loopback address (then the node refuses to
    /// start without tokens), and on loopback whenever tokens are configured.
    public var requireAuth: Bool?
    /// Exact paths answered without a token (probes, scrapes).
    public var openPaths: [String]
    /// Request line and header bytes (431 above; the URL alone: 414 above `maxURLBytes`).
    public var maxHeaderBytes: Int
    public var maxURLBytes: Int
    /// Open connections from one client address; more are answered 429 and closed.
    public var maxConnectionsPerClient: Int
    /// A connection with no request in progress is closed after this (idle keep-alive, and a
    /// request head trickled in slower than this: slowloris).
    public var idleTimeoutMs: Int
    /// A request's head and body must have arrived within this of the connection being ready
    /// for it, or it is answered 408 and the connection closed (slow bodies).
    public var requestReadTimeoutMs: Int
    /// JSON request bodies nested deeper than this are a 400 (checked before any parser runs).
    public var maxJSONDepth: Int
    /// Tasks one request may create at once (a job's planned tasks): 400 above.
    public var maxTasksPerBatch: Int

    public init(tokens: [Token] = [], requireAuth: Bool? = nil, openPaths: [String] = ["/healthz", "/readyz"],
                maxHeaderBytes: Int = 16 << 10, maxURLBytes: Int = 8 << 10, maxConnectionsPerClient: Int = 512,
                idleTimeoutMs: Int = 30_000, requestReadTimeoutMs: Int = 30_000, maxJSONDepth: Int = 32,
                maxTasksPerBatch: Int = 10_000) {
        self.tokens = tokens
        self.requireAuth = requireAuth
        self.openPaths = openPaths
        self.maxHeaderBytes = maxHeaderBytes
        self.maxURLBytes = maxURLBytes
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.idleTimeoutMs = idleTimeoutMs
        self.requestReadTimeoutMs = requestReadTimeoutMs
        self.maxJSONDepth = maxJSONDepth
        self.maxTasksPerBatch = maxTasksPerBatch
    }

    enum CodingKeys: String, CodingKey {
        case tokens, requireAuth, openPaths, maxHeaderBytes, maxURLBytes, maxConnectionsPerClient, idleTimeoutMs
        case requestReadTimeoutMs, maxJSONDepth, maxTasksPerBatch
    }

    /// Missing keys take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SecurityConfig()
        tokens = try c.decodeIfPresent([Token].self, forKey: .tokens) ?? d.tokens
        requireAuth = try c.decodeIfPresent(Bool.self, forKey: .requireAuth)
        openPaths = try c.decodeIfPresent([String].self, forKey: .openPaths) ?? d.openPaths
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes) ?? d.maxHeaderBytes
        maxURLBytes = try c.decodeIfPresent(Int.self, forKey: .maxURLBytes) ?? d.maxURLBytes
        maxConnectionsPerClient = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerClient) ?? d.maxConnectionsPerClient
        idleTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutMs) ?? d.idleTimeoutMs
        requestReadTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .requestReadTimeoutMs) ?? d.requestReadTimeoutMs
        maxJSONDepth = try c.decodeIfPresent(Int.self, forKey: .maxJSONDepth) ?? d.maxJSONDepth
        maxTasksPerBatch = try c.decodeIfPresent(Int.self, forKey: .maxTasksPerBatch) ?? d.maxTasksPerBatch
    }

    /// Checks the section against the address the API listens on. `apiHost` is the listen host;
    /// `metricsPublic` (the node config's flag) adds `/metrics` to the open paths.
    func validated(apiHost: String, metricsPublic: Bool = false) throws(NodeConfigError) -> ValidatedSecurity {
        var parsed: [ValidatedSecurity.Token] = []
        for token in tokens {
            guard !token.name.isEmpty, token.name.utf8.count <= 100,
                  token.name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw .invalid("security.tokens: a token name must be 1–100 printable ASCII characters without spaces")
            }
            guard let digest = APITokens.digest(hex: token.sha256) else {
                throw .invalid("security.tokens[\(token.name)].sha256 must be 64 hex digits (see `trireme token hash`)")
            }
            parsed.append(.init(name: token.name, digest: digest, role: token.role, queues: token.queues.map(Set.init)))
        }
        guard Set(parsed.map(\.name)).count == parsed.count else { throw .invalid("security.tokens: duplicate token names") }
        guard Set(parsed.map(\.digest)).count == parsed.count else { throw .invalid("security.tokens: duplicate token hashes") }
        let loopback = Self.isLoopback(apiHost)
        let enabled = requireAuth ?? (!parsed.isEmpty || !loopback)
        if !enabled && !loopback {
            throw .invalid("the API listens on \(apiHost), which is not a loopback address: authentication is required there "
                           + "(configure security.tokens; requireAuth=false is only allowed on loopback)")
        }
        if enabled && parsed.isEmpty {
            throw .invalid("authentication is required (the API listens on \(apiHost)) but security.tokens is empty: "
                           + "create one with `trireme token new --name NAME --role admin`")
        }
        guard (1_024...(1 << 20)).contains(maxHeaderBytes) else { throw .invalid("security.maxHeaderBytes must be 1 KiB to 1 MiB") }
        guard (256...maxHeaderBytes).contains(maxURLBytes) else { throw .invalid("security.maxURLBytes must be 256 to maxHeaderBytes") }
        guard (1...100_000).contains(maxConnectionsPerClient) else { throw .invalid("security.maxConnectionsPerClient must be 1 to 100000") }
        guard (100...3_600_000).contains(idleTimeoutMs), (100...3_600_000).contains(requestReadTimeoutMs) else {
            throw .invalid("security.idleTimeoutMs and requestReadTimeoutMs must be 100 ms to 1 h")
        }
        guard (2...512).contains(maxJSONDepth) else { throw .invalid("security.maxJSONDepth must be 2 to 512") }
        guard (1...1_000_000).contains(maxTasksPerBatch) else { throw .invalid("security.maxTasksPerBatch must be 1 to 1,000,000") }
        return ValidatedSecurity(config: self, enabled: enabled, tokens: parsed,
                                 openPaths: Set(openPaths).union(metricsPublic ? ["/metrics"] : []))
    }

    /// 127.0.0.0/8, ::1 and `localhost`; anything else (a name, 0.0.0.0, ::) may be reachable
    /// from the network.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "127", parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return bare == "::1" || bare.lowercased() == "::ffff:127.0.0.1"
    }
}

/// The checked `security` section.
struct ValidatedSecurity: Sendable {
    struct Token: Sendable {
        let name: String
        /// SHA-256 of the token.
        let digest: [UInt8]
        let role: SecurityConfig.Role
        let queues: Set<String>?
    }

    let config: SecurityConfig
    /// Tokens are checked (the API is not loopback-only, or tokens are configured).
    let enabled: Bool
    let tokens: [Token]
    let openPaths: Set<String>
}
