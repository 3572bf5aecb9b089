import Foundation
import TestSupport
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
            let run = try await CLI.runSeparated(cluster.binary, command + server + ["--json"])
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8), options: [.fragmentsAllowed])) != nil,
                    "\(command) --json printed: \(run.stdout)")
        }

        // A long poll through the CLI: it returns once the task changes (here: deleted → 404).
        async let waited = CLI.runSeparated(cluster.binary, ["task", "get", "obs", task, "--wait", "--wait-timeout", "60", "--json"] + server)
        try await waitForWaiter("http://\(cluster.api(leader))")
        #expect(try await HTTP.send("DELETE", "http://\(cluster.api(leader))/v1/queues/obs/tasks/\(task)").status == 200)
        let result = try await waited
        #expect(result.status != 0 && result.stderr.contains("404"), "the wait ended on the deletion: \(result.stderr)")

        let ports = try FreePorts.take(1)
        let unreachable = try await CLI.runSeparated(cluster.binary, ["queue", "list", "--server", "127.0.0.1:\(ports[0])"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("127.0.0.1:\(ports[0]): connection refused"), "\(unreachable.stderr)")

        let completion = try await CLI.runSeparated(cluster.binary, ["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("_trireme"))
    }
}
