import Foundation
import Testing

/// Runs `cluster/certs.sh` (the operators' certificate tool) for tests that need a cluster CA
/// and node certificates, so the tests use exactly what the README tells operators to run.
enum CertsScript {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster/certs.sh").path

    /// `certs.sh <args>` with its files in `dir`; fails the test when the script fails.
    static func run(_ args: [String], in dir: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [path] + args
        process.environment = ProcessInfo.processInfo.environment.merging(["TRIREME_CERTS_DIR": dir.path]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "certs.sh \(args) failed")
    }
}
