import Foundation
import Testing

extension ObservabilityTests {
    /// Every client command's `--json` output parses as JSON (stdout only); `task get --wait`
    /// returns on the change; an unreachable node is named with what to try.
    func checkCLI(_ cluster: LocalCluster, leader: Int, changing task: String) async throws {
        let server = ["--server", cluster.api(leader)]
        let commands: [[String]] = [
            ["queue", "create", "cli-q", "--max-attempts", "3"], ["queue", "get", "cli-q"], ["queue", "list"],
            ["queue", "pause", "cli-q"],
            ["task", "create", "cli-q", "--payload", #"{"url":"http://127.0.0.1:9/"}"#, "--name", "n1"],
            ["task", "list", "cli-q"], ["job", "list"], ["schedule", "list"], ["cluster", "status"],
            ["queue", "purge", "cli-q"], ["queue", "delete", "cli-q"],
        ]
        for command in commands {
            let run = try await Self.stdout(cluster.binary, command + server + ["--json"])
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8), options: [.fragmentsAllowed])) != nil,
                    "\(command) --json printed: \(run.stdout)")
        }

        // A long poll through the CLI: it returns once the task changes (here: deleted → 404).
        async let waited = Self.stdout(cluster.binary, ["task", "get", "obs", task, "--wait", "--wait-timeout", "60", "--json"] + server)
        try await waitForWaiter("http://\(cluster.api(leader))")
        #expect(try await HTTP.send("DELETE", "http://\(cluster.api(leader))/v1/queues/obs/tasks/\(task)").status == 200)
        let result = try await waited
        #expect(result.status != 0 && result.stderr.contains("404"), "the wait ended on the deletion: \(result.stderr)")

        let ports = try FreePorts.take(1)
        let unreachable = try await Self.stdout(cluster.binary, ["queue", "list", "--server", "127.0.0.1:\(ports[0])"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("127.0.0.1:\(ports[0]): connection refused"), "\(unreachable.stderr)")

        let completion = try await Self.stdout(cluster.binary, ["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("_trireme"))
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the CLI with stdout and stderr apart (bounded: killed after `seconds`).
    static func stdout(_ binary: URL, _ arguments: [String], seconds: Double = 90) async throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return Run(status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
