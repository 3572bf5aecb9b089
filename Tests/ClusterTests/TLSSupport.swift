import Foundation
import NIOSSL
@testable import Node

/// Certificates made by `cluster/certs.sh` (openssl) for one test, under the cluster's folder.
enum TestCerts {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `cluster/certs.sh ARGS` with its folder set to `dir`; throws with the script's output on failure.
    static func run(_ dir: URL, _ args: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repoRoot.appendingPathComponent("cluster/certs.sh").path] + args
        var environment = ProcessInfo.processInfo.environment
        environment["TRIREME_CERTS_DIR"] = dir.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError.setup("certs.sh \(args.joined(separator: " ")) failed: \(text)")
        }
    }

    /// A CA in `dir` and a certificate for each id.
    static func make(_ dir: URL, ids: [Int]) throws {
        try run(dir, ["init"])
        for id in ids { try run(dir, ["issue", String(id)]) }
    }

    /// The node config keys of node `id`'s files in `dir`.
    static func config(_ dir: URL, id: Int) -> [String: Any] {
        ["tlsCertFile": dir.appendingPathComponent("n\(id).pem").path,
         "tlsKeyFile": dir.appendingPathComponent("n\(id)-key.pem").path,
         "tlsCAFile": dir.appendingPathComponent("ca.pem").path]
    }

    /// A TLS client presenting node `id`'s certificate from `dir` (the server is not checked:
    /// these clients are the attackers).
    static func client(_ dir: URL, id: Int) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(dir.appendingPathComponent("n\(id).pem").path)
            .map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: dir.appendingPathComponent("n\(id)-key.pem").path,
                                                                    format: .pem))
        configuration.certificateVerification = .none
        return try NIOSSLContext(configuration: configuration)
    }
}

extension LocalCluster {
    /// A node's status over HTTPS, trusting `caFile` only.
    func tlsStatus(_ id: Int, caFile: String) async -> Status? {
        guard let reply = try? await HTTPSExchange.send(method: "GET", server: api(id), path: "/v1/cluster?consistency=stale",
                                                        body: nil, headers: [:], caFile: caFile, timeout: 1),
              reply.status == 200 else { return nil }
        return try? JSONDecoder().decode(Status.self, from: reply.body)
    }

    /// Waits (bounded) until every node answers over HTTPS and they agree on a leader.
    func waitForTLSLeader(caFile: String, seconds: Double = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var leaders: [Int] = []
            for member in members {
                if let leader = await tlsStatus(member.id, caFile: caFile)?.leader { leaders.append(leader) }
            }
            if leaders.count == members.count, let first = leaders.first, leaders.allSatisfy({ $0 == first }) { return first }
            try await Task.sleep(for: .milliseconds(50))
        }
        let logs = members.map { "n\($0.id): " + log($0.id).split(separator: "\n").suffix(6).joined(separator: "\n    ") }
        throw ClusterError.timeout("no agreed leader over HTTPS within \(seconds) s\n" + logs.joined(separator: "\n"))
    }

    /// Runs the `trireme` CLI; returns its exit status and combined output.
    func cli(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TRIREME_CACERT"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
