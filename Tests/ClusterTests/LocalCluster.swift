import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Three real `trireme serve` processes on free loopback ports, each with its own data
/// directory under a temporary folder. Every process is killed when the value is released —
/// also when a test fails half-way — and the folder is removed.
final class LocalCluster: @unchecked Sendable {
    // @unchecked: `processes` is only touched by the test that owns the cluster, serially.
    struct Member {
        var id: Int
        var api: String
        var peer: String
    }

    let root: URL
    let members: [Member]
    let binary: URL
    let secret = "cluster-test-secret-0123456789abcdef"
    private var processes: [Int: Process] = [:]
    var extraConfig: [String: Any]
    /// Keys for one node only (e.g. its TLS certificate), applied after `extraConfig`.
    var nodeConfig: (Int) -> [String: Any] = { _ in [:] }
    /// Sent as a bearer token by `status` (for clusters with authentication on).
    var statusToken: String?

    init(size: Int = 3, extraConfig: [String: Any] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let ports = try FreePorts.take(size * 2)
        members = (0..<size).map { i in
            Member(id: i + 1, api: "127.0.0.1:\(ports[2 * i])", peer: "127.0.0.1:\(ports[2 * i + 1])")
        }
        binary = try LocalCluster.locateBinary()
        self.extraConfig = extraConfig
    }

    deinit {
        for process in processes.values where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }

    /// `TRIREME_BIN`, else the `trireme` built next to the test bundle.
    static func locateBinary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TRIREME_BIN"] { return URL(fileURLWithPath: path) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("trireme")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw ClusterError.setup("trireme binary not found near \(exe.path); set TRIREME_BIN")
    }

    func configURL(_ id: Int) -> URL { root.appendingPathComponent("n\(id).json") }
    func logURL(_ id: Int) -> URL { root.appendingPathComponent("n\(id).log") }

    func writeConfig(_ id: Int) throws {
        var config: [String: Any] = [
            "nodeId": id,
            "dataDir": root.appendingPathComponent("n\(id)").path,
            "clusterSecret": secret,
            "members": members.map { ["id": $0.id, "api": $0.api, "peer": $0.peer] },
            // Elections time out after 300–600 ms: generous enough that a CPU-starved test
            // machine (the simulator runs beside these tests) does not churn leaders.
            "tickMs": 10, "heartbeatTicks": 5, "electionTicks": 30, "logLevel": "warning",
        ]
        for (key, value) in extraConfig { config[key] = value }
        for (key, value) in nodeConfig(id) { config[key] = value }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try data.write(to: configURL(id))
    }

    func startAll() throws {
        for member in members { try start(member.id) }
    }

    func start(_ id: Int) throws {
        precondition(processes[id]?.isRunning != true, "n\(id) is already running")
        try writeConfig(id)
        if !FileManager.default.fileExists(atPath: logURL(id).path) {
            _ = FileManager.default.createFile(atPath: logURL(id).path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL(id))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--config", configURL(id).path]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[id] = process
    }

    /// SIGKILL: no shutdown path runs, like a crash.
    func kill9(_ id: Int) {
        guard let process = processes[id], process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func isRunning(_ id: Int) -> Bool { processes[id]?.isRunning == true }

    /// SIGKILL every node and remove the folder now (for a cluster shared by a suite and
    /// released at process exit, where `deinit` never runs).
    func shutdown() {
        for member in members { kill9(member.id) }
        try? FileManager.default.removeItem(at: root)
    }

    /// SIGTERM and wait (bounded) for a graceful exit; returns the exit status, nil on timeout.
    func terminate(_ id: Int, seconds: Double = 10) async -> Int32? {
        guard let process = processes[id], process.isRunning else { return nil }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func api(_ id: Int) -> String { members[id - 1].api }

    func log(_ id: Int) -> String { (try? String(contentsOf: logURL(id), encoding: .utf8)) ?? "" }

    // MARK: observation

    struct Status: Decodable {
        var nodeId: Int
        var role: String
        var term: UInt64
        var leader: Int?
        var commitIndex: UInt64
        var appliedIndex: UInt64
    }

    func status(_ id: Int) async -> Status? {
        let headers = statusToken.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        guard let reply = try? await HTTP.send("GET", "http://\(api(id))/v1/cluster?consistency=stale", headers: headers, timeout: 1),
              reply.status == 200 else { return nil }
        return try? JSONDecoder().decode(Status.self, from: reply.body)
    }

    /// Waits (bounded) until the running nodes agree on one leader; returns its id.
    func waitForLeader(among ids: [Int]? = nil, notIn excluded: Set<Int> = [], seconds: Double = 30) async throws -> Int {
        let candidates = ids ?? members.map(\.id)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var leaders: [Int] = []
            for id in candidates where isRunning(id) {
                if let status = await status(id), let leader = status.leader { leaders.append(leader) }
            }
            if let first = leaders.first, leaders.count == candidates.filter(isRunning).count,
               leaders.allSatisfy({ $0 == first }), !excluded.contains(first) {
                return first
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        var report = "no agreed leader within \(seconds) s"
        for id in candidates {
            let status = await status(id)
            report += "\n  n\(id) running=\(isRunning(id)) role=\(status?.role ?? "?") term=\(status?.term ?? 0) leader=\(status?.leader.map(String.init) ?? "-")"
            report += "\n    log: " + log(id).split(separator: "\n").suffix(8).joined(separator: "\n         ")
        }
        throw ClusterError.timeout(report)
    }
}

enum ClusterError: Error, CustomStringConvertible {
    case setup(String)
    case timeout(String)
    var description: String {
        switch self {
        case .setup(let what), .timeout(let what): what
        }
    }
}

/// Minimal HTTP for the tests.
enum HTTP {
    struct Reply: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String]
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 8
        return URLSession(configuration: configuration)
    }()

    static func send(_ method: String, _ url: String, body: Data? = nil, contentType: String? = "application/json",
                     headers: [String: String] = [:], timeout: TimeInterval = 15) async throws -> Reply {
        guard let target = URL(string: url) else { throw ClusterError.setup("bad url \(url)") }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        if body != nil, let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw ClusterError.setup("not HTTP") }
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { fields[key.lowercased()] = value }
        }
        return Reply(status: http.statusCode, body: data, headers: fields)
    }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}

