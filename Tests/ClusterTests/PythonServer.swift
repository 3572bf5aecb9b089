import Foundation
import TestSupport

/// A small Python HTTP server for tests (a delivery sink, a flaky target, a canary): the
/// script is written to a fresh temporary folder and started as
/// `python3 SCRIPT PORT [EXTRA…]` on a free loopback port; ready once `GET /healthz` answers
/// 200 (bounded); killed, and its folder removed, when the value is released.
final class PythonServer: @unchecked Sendable {
    // @unchecked: every stored property is set in init and only read afterwards.
    let port: Int
    /// The temporary folder holding the script and whatever files the test keeps next to it.
    let root: URL
    private let process: Process

    /// `extraArguments` receives `root` so a script can be handed paths inside it.
    init(name: String, script: String, extraArguments: (URL) -> [String] = { _ in [] }) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        port = try FreePorts.take(1)[0]
        let scriptURL = root.appendingPathComponent("\(name).py")
        try Data(script.utf8).write(to: scriptURL)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, String(port)] + extraArguments(root)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let reply = try? await HTTP.send("GET", "\(url)/healthz", timeout: 1), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClusterError.setup("\(name) server did not start on port \(port)")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }

    var url: String { "http://127.0.0.1:\(port)" }
}
