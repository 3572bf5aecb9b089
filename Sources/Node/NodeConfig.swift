import Executor
import Foundation
import Logging
import Preprocess
import Raft

/// A node's configuration, read from a JSON file (`trireme serve --config n1.json`) or flags.
public struct NodeConfig: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var id: UInt64
        /// Client API `host:port`.
        public var api: String
        /// Peer transport `host:port`.
        public var peer: String
        public init(id: UInt64, api: String, peer: String) {
            self.id = id
            self.api = api
            self.peer = peer
        }
    }

    public var nodeId: UInt64
    public var dataDir: String
    /// Every voting member, this node included.
    public var members: [Member]
    /// Shared secret peers authenticate with; or read from `clusterSecretFile`.
    public var clusterSecret: String?
    public var clusterSecretFile: String?
    public var tickMs: Int
    public var heartbeatTicks: Int
    /// Base election timeout; each node draws its timeout in [base, 2·base) ticks.
    public var electionTicks: Int
    public var maxRequestBytes: Int
    /// How long a write waits for commit and apply before answering 504 (outcome unknown).
    public var writeTimeoutMs: Int
    public var logLevel: String
    /// Attempts this node's executor runs at once.
    public var executorSlots: Int
    /// Task lease length (scheduler grants and executor renewals alike).
    public var leaseDurationMs: Int64
    /// Executor heartbeat period, and how stale a heartbeat may be before the leader stops
    /// giving that executor work (keep it several heartbeats long).
    public var executorHeartbeatMs: Int64
    public var executorLivenessMs: Int64
    /// Networks (CIDR) `http` tasks may reach; nil: loopback only.
    public var allowedTargets: [String]?
    /// Enables the `sleep` and `fail` task kinds (tests and chaos runs only).
    public var testTaskKinds: Bool
    /// The directory every job path must lie in, shared by all nodes (like Dataflow's bucket);
    /// nil: the process's working directory.
    public var dataRoot: String?
    /// Target bytes per map task of a job (`JobPlanner`'s split size).
    public var jobSplitBytes: Int64
    /// A compaction point (the store synced, the log dropped up to the previous point) after
    /// this many applied entries, or `snapshotBytes` of applied entry data, whichever comes
    /// first. Snapshot files are written only when a follower needs one.
    public var snapshotEntries: Int64
    /// …and only once the entry data applied since the last point is at least this fraction
    /// of the store's size (0 turns the rule off): the log then keeps enough for a follower to
    /// catch up without a copy of the whole store, however large it grows; `snapshotBytes`
    /// still bounds the log.
    public var snapshotGrowth: Double
    /// The voters of a brand-new cluster (default: every member). Members left out start as
    /// non-members and join with `trireme cluster add` (learner) and `promote`; `members`
    /// is the address book of every node that may ever belong.
    public var initialVoters: [UInt64]?
    /// Test-only fault hooks (a slow disk through `<dataDir>/fault-fsync-delay-ms`, see
    /// `FaultHooks`); for chaos runs, never for production.
    public var testFaultHooks: Bool
    public var snapshotBytes: Int64
    /// `GET /metrics` answers anyone (default); false turns it off until authenticated access
    /// exists (issue 10).
    public var metricsPublic: Bool
    /// TLS (all three or none; PEM paths): this node's certificate chain and key, and the cluster
    /// CA. When set, the API serves HTTPS only and peers use mutual TLS (`NodeTLS`).
    public var tlsCertFile: String?
    public var tlsKeyFile: String?
    public var tlsCAFile: String?
    /// Client tokens and roles, open paths, HTTP limits (`SecurityConfig`; nil: the defaults).
    public var security: SecurityConfig?

    public init(nodeId: UInt64, dataDir: String, members: [Member], clusterSecret: String? = nil,
                clusterSecretFile: String? = nil, tickMs: Int = 10, heartbeatTicks: Int = 5, electionTicks: Int = 15,
                maxRequestBytes: Int = 1 << 20, writeTimeoutMs: Int = 10_000, logLevel: String = "info",
                executorSlots: Int = 4, leaseDurationMs: Int64 = 10_000, executorHeartbeatMs: Int64 = 2_000,
                executorLivenessMs: Int64 = 10_000, allowedTargets: [String]? = nil, testTaskKinds: Bool = false,
                dataRoot: String? = nil, jobSplitBytes: Int64 = 64 << 20,
                snapshotEntries: Int64 = 10_000, snapshotBytes: Int64 = 64 << 20, snapshotGrowth: Double = 1) {
        self.nodeId = nodeId
        self.dataDir = dataDir
        self.members = members
        self.clusterSecret = clusterSecret
        self.clusterSecretFile = clusterSecretFile
        self.tickMs = tickMs
        self.heartbeatTicks = heartbeatTicks
        self.electionTicks = electionTicks
        self.maxRequestBytes = maxRequestBytes
        self.writeTimeoutMs = writeTimeoutMs
        self.logLevel = logLevel
        self.executorSlots = executorSlots
        self.leaseDurationMs = leaseDurationMs
        self.executorHeartbeatMs = executorHeartbeatMs
        self.executorLivenessMs = executorLivenessMs
        self.allowedTargets = allowedTargets
        self.testTaskKinds = testTaskKinds
        self.dataRoot = dataRoot
        self.jobSplitBytes = jobSplitBytes
        self.snapshotEntries = snapshotEntries
        self.snapshotGrowth = snapshotGrowth
        initialVoters = nil
        testFaultHooks = false
        self.snapshotBytes = snapshotBytes
        metricsPublic = true
        security = nil
    }

    enum CodingKeys: String, CodingKey {
        case nodeId, dataDir, members, clusterSecret, clusterSecretFile, tickMs, heartbeatTicks, electionTicks
        case maxRequestBytes, writeTimeoutMs, logLevel
        case executorSlots, leaseDurationMs, executorHeartbeatMs, executorLivenessMs, allowedTargets, testTaskKinds
        case dataRoot, jobSplitBytes, snapshotEntries, snapshotBytes, snapshotGrowth, initialVoters, testFaultHooks
        case metricsPublic
        case tlsCertFile, tlsKeyFile, tlsCAFile
        case security
    }

    /// Missing optional keys take their defaults, so a config file names only what it changes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = NodeConfig(nodeId: 1, dataDir: "", members: [])
        nodeId = try c.decode(UInt64.self, forKey: .nodeId)
        dataDir = try c.decode(String.self, forKey: .dataDir)
        members = try c.decode([Member].self, forKey: .members)
        clusterSecret = try c.decodeIfPresent(String.self, forKey: .clusterSecret)
        clusterSecretFile = try c.decodeIfPresent(String.self, forKey: .clusterSecretFile)
        tickMs = try c.decodeIfPresent(Int.self, forKey: .tickMs) ?? defaults.tickMs
        heartbeatTicks = try c.decodeIfPresent(Int.self, forKey: .heartbeatTicks) ?? defaults.heartbeatTicks
        electionTicks = try c.decodeIfPresent(Int.self, forKey: .electionTicks) ?? defaults.electionTicks
        maxRequestBytes = try c.decodeIfPresent(Int.self, forKey: .maxRequestBytes) ?? defaults.maxRequestBytes
        writeTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .writeTimeoutMs) ?? defaults.writeTimeoutMs
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? defaults.logLevel
        executorSlots = try c.decodeIfPresent(Int.self, forKey: .executorSlots) ?? defaults.executorSlots
        leaseDurationMs = try c.decodeIfPresent(Int64.self, forKey: .leaseDurationMs) ?? defaults.leaseDurationMs
        executorHeartbeatMs = try c.decodeIfPresent(Int64.self, forKey: .executorHeartbeatMs) ?? defaults.executorHeartbeatMs
        executorLivenessMs = try c.decodeIfPresent(Int64.self, forKey: .executorLivenessMs) ?? defaults.executorLivenessMs
        allowedTargets = try c.decodeIfPresent([String].self, forKey: .allowedTargets)
        testTaskKinds = try c.decodeIfPresent(Bool.self, forKey: .testTaskKinds) ?? defaults.testTaskKinds
        dataRoot = try c.decodeIfPresent(String.self, forKey: .dataRoot)
        jobSplitBytes = try c.decodeIfPresent(Int64.self, forKey: .jobSplitBytes) ?? defaults.jobSplitBytes
        snapshotEntries = try c.decodeIfPresent(Int64.self, forKey: .snapshotEntries) ?? defaults.snapshotEntries
        snapshotBytes = try c.decodeIfPresent(Int64.self, forKey: .snapshotBytes) ?? defaults.snapshotBytes
        snapshotGrowth = try c.decodeIfPresent(Double.self, forKey: .snapshotGrowth) ?? defaults.snapshotGrowth
        initialVoters = try c.decodeIfPresent([UInt64].self, forKey: .initialVoters)
        testFaultHooks = try c.decodeIfPresent(Bool.self, forKey: .testFaultHooks) ?? false
        metricsPublic = try c.decodeIfPresent(Bool.self, forKey: .metricsPublic) ?? true
        tlsCertFile = try c.decodeIfPresent(String.self, forKey: .tlsCertFile)
        tlsKeyFile = try c.decodeIfPresent(String.self, forKey: .tlsKeyFile)
        tlsCAFile = try c.decodeIfPresent(String.self, forKey: .tlsCAFile)
        security = try c.decodeIfPresent(SecurityConfig.self, forKey: .security)
    }

    public static func load(path: String) throws -> NodeConfig {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(NodeConfig.self, from: data)
        } catch {
            throw NodeConfigError.invalid("\(path): \(error)")
        }
    }

    /// Checks everything a node needs before it touches its data directory.
    public func validated() throws(NodeConfigError) -> ValidatedNodeConfig {
        guard nodeId != 0 else { throw .invalid("nodeId must not be 0") }
        guard !dataDir.isEmpty else { throw .invalid("dataDir is empty") }
        guard Set(members.map(\.id)).count == members.count else { throw .invalid("duplicate member ids") }
        guard let me = members.first(where: { $0.id == nodeId }) else {
            throw .invalid("members does not list this node (\(nodeId))")
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw .invalid("logLevel must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...1_000).contains(tickMs) else { throw .invalid("tickMs must be in 1...1000") }
        guard heartbeatTicks >= 1, electionTicks > heartbeatTicks else {
            throw .invalid("electionTicks must exceed heartbeatTicks ≥ 1")
        }
        guard (1...1_024).contains(executorSlots) else { throw .invalid("executorSlots must be in 1...1024") }
        guard (100...3_600_000).contains(leaseDurationMs) else { throw .invalid("leaseDurationMs must be 100 ms to 1 h") }
        guard (10...600_000).contains(executorHeartbeatMs), executorLivenessMs > executorHeartbeatMs else {
            throw .invalid("executorHeartbeatMs must be 10 ms to 10 min and below executorLivenessMs")
        }
        guard (4_096...(1 << 40)).contains(jobSplitBytes) else { throw .invalid("jobSplitBytes must be 4 KiB to 1 TiB") }
        guard (10...100_000_000).contains(snapshotEntries) else { throw .invalid("snapshotEntries must be 10 to 100,000,000") }
        guard (4_096...(1 << 40)).contains(snapshotBytes) else { throw .invalid("snapshotBytes must be 4 KiB to 1 TiB") }
        guard (0...100).contains(snapshotGrowth) else { throw .invalid("snapshotGrowth must be 0 to 100") }
        if let initialVoters {
            guard !initialVoters.isEmpty, Set(initialVoters).isSubset(of: Set(members.map(\.id))) else {
                throw .invalid("initialVoters must be a non-empty subset of the members' ids")
            }
        }
        let root: DataRoot
        do {
            root = try DataRoot(dataRoot ?? FileManager.default.currentDirectoryPath)
        } catch {
            throw .invalid("dataRoot: \(error)")
        }
        let allowList: OutboundAllowList
        if let allowedTargets {
            do {
                allowList = try OutboundAllowList(parsing: allowedTargets)
            } catch {
                throw .invalid("allowedTargets: \(error)")
            }
        } else {
            allowList = .loopbackOnly
        }
        var secret = clusterSecret
        if let file = clusterSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw .invalid("cannot read clusterSecretFile \(file)")
            }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let secret, secret.utf8.count >= 16 else {
            throw .invalid("a cluster secret of at least 16 bytes is required (clusterSecret or clusterSecretFile)")
        }
        var peers: [NodeID: PeerAddress] = [:]
        var apis: [NodeID: String] = [:]
        for member in members {
            guard let peer = PeerAddress(parsing: member.peer) else { throw .invalid("bad peer address \(member.peer)") }
            guard PeerAddress(parsing: member.api) != nil else { throw .invalid("bad api address \(member.api)") }
            peers[NodeID(member.id)] = peer
            apis[NodeID(member.id)] = member.api
        }
        guard let peerListen = PeerAddress(parsing: me.peer), let apiListen = PeerAddress(parsing: me.api) else {
            throw .invalid("bad listen address")
        }
        let tls = try validatedTLS()
        let security = try (self.security ?? SecurityConfig()).validated(apiHost: apiListen.host, metricsPublic: metricsPublic)
        return ValidatedNodeConfig(config: self, id: NodeID(nodeId), secret: Array(secret.utf8), peers: peers,
                                   apiAddresses: apis, peerListen: peerListen, apiListen: apiListen,
                                   allowList: allowList, dataRoot: root, logLevel: level, tls: tls,
                                   security: security)
    }
}

public struct ValidatedNodeConfig: Sendable {
    public let config: NodeConfig
    public let id: NodeID
    let secret: [UInt8]
    let peers: [NodeID: PeerAddress]
    let apiAddresses: [NodeID: String]
    let peerListen: PeerAddress
    let apiListen: PeerAddress
    let allowList: OutboundAllowList
    /// `dataRoot` (or the working directory), symlinks resolved; checked to be a directory.
    let dataRoot: DataRoot
    /// `logLevel`, parsed.
    let logLevel: Logger.Level
    /// Nil: plain HTTP and TCP (with the HMAC handshake only).
    let tls: NodeTLS?
    /// Tokens, open paths, HTTP limits; `enabled` says whether tokens are checked.
    let security: ValidatedSecurity
}

public enum NodeConfigError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let why): "invalid node configuration: \(why)"
        }
    }
}

extension PeerAddress {
    /// Parses `host:port` (IPv4 or a name; `[v6]:port` for IPv6).
    init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}
