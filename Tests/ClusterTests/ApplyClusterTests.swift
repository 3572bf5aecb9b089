import Foundation
import Testing

/// `trireme apply` / `export` against real clusters (issue 11), with the repository's example.
extension ClusterTests {
    static var exampleSetup: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/nightly-preprocessing.yaml")
    }

    static func servers(_ cluster: LocalCluster) -> String { cluster.members.map(\.api).joined(separator: ",") }

    /// The resource lines of a plan ("queue nightly: create") and its summary line.
    static func planLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(" ") && $0.contains(": ") && !$0.hasPrefix("Plan:") }
    }

    @Test func applyIsIdempotentItsDryRunMatchesAndAnExportReproducesTheSetupOnAFreshCluster() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let servers = Self.servers(cluster)
        let file = Self.exampleSetup.path

        let (dryStatus, dry) = try cluster.cli(["apply", "-f", file, "--dry-run", "--server", servers])
        #expect(dryStatus == 0, "\(dry)")
        #expect(dry.contains("Plan: 5 to create, 0 to update, 0 to delete, 0 unchanged."), "\(dry)")
        let before = try cluster.cli(["export", "--server", servers]).1
        #expect(!before.contains("nightly"), "a dry run changes nothing: \(before)")

        let (status, applied) = try cluster.cli(["apply", "-f", file, "--server", servers])
        #expect(status == 0, "\(applied)")
        // What apply did is what the dry run said it would do.
        let done = applied.split(separator: "\n").filter { $0.hasSuffix("… done") }.map { line -> String in
            let parts = line.split(separator: " ")
            return parts.count >= 3 ? "\(parts[1]) \(parts[2]): \(parts[0])" : String(line)
        }
        #expect(done == Self.planLines(dry), "\(applied)")

        let (againStatus, again) = try cluster.cli(["apply", "-f", file, "--server", servers])
        #expect(againStatus == 0)
        #expect(again.contains("Plan: 0 to create, 0 to update, 0 to delete, 5 unchanged."), "\(again)")
        #expect(!again.contains("done"), "the second apply sends nothing: \(again)")

        // Drift is shown field by field, and the dry run again matches the apply.
        let patch = try await HTTP.send("PATCH", "http://\(cluster.api(1))/v1/schedules/nightly-wordcount",
                                        body: HTTP.json(["cron": "*/5 * * * *", "paused": true]))
        #expect(patch.status == 200)
        let drift = try cluster.cli(["apply", "-f", file, "--dry-run", "--server", servers]).1
        #expect(Self.planLines(drift).contains("schedule nightly-wordcount: update"), "\(drift)")
        #expect(drift.contains("~ cron: \"*/5 * * * *\" -> \"0 2 * * *\"") && drift.contains("~ paused: true -> false"), "\(drift)")
        let fixed = try cluster.cli(["apply", "-f", file, "--server", servers]).1
        #expect(fixed.contains("update schedule nightly-wordcount … done"), "\(fixed)")
        #expect(try cluster.cli(["apply", "-f", file, "--dry-run", "--server", servers]).1.contains("0 to update"))

        // A resource not in the file stays unless --prune.
        let extra = try await HTTP.send("POST", "http://\(cluster.api(1))/v1/queues", body: HTTP.json(["name": "scratch"]))
        #expect(extra.status == 201)
        #expect(try cluster.cli(["apply", "-f", file, "--server", servers]).1.contains("0 to delete"))
        let pruned = try cluster.cli(["apply", "-f", file, "--prune", "--server", servers]).1
        #expect(pruned.contains("queue scratch: delete") && pruned.contains("delete queue scratch … done"), "\(pruned)")

        // Export, then apply that file on a fresh cluster: the same setup, byte for byte.
        let exported = cluster.root.appendingPathComponent("export.yaml").path
        #expect(try cluster.cli(["export", "-o", exported, "--server", servers]).0 == 0)
        let fresh = try LocalCluster(size: 1)
        try fresh.startAll()
        _ = try await fresh.waitForLeader()
        let (copyStatus, copy) = try fresh.cli(["apply", "-f", exported, "--server", Self.servers(fresh)])
        #expect(copyStatus == 0 && copy.contains("Plan: 5 to create"), "\(copy)")
        let original = try String(contentsOfFile: exported, encoding: .utf8)
        #expect(try fresh.cli(["export", "--server", Self.servers(fresh)]).1 == original)
        #expect(try cluster.cli(["apply", "-f", exported, "--server", servers]).1.contains("5 unchanged"))
    }

    @Test func anInvalidFileChangesNothingAndNamesEveryProblem() async throws {
        let cluster = try LocalCluster(size: 1)
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let file = cluster.root.appendingPathComponent("bad.yaml")
        try Data("""
        queues:
          - {name: ok}
          - {name: bad, rateLimits: {maxBurstSize: 0}}
        schedules:
          - {name: s, cron: "0 25 * * *", queue: ok, task: {kind: job, payload: {template: wordcount, parameters: {output: "{{week}}"}}}}
        """.utf8).write(to: file)
        let (status, output) = try cluster.cli(["apply", "-f", file.path, "--server", Self.servers(cluster)])
        #expect(status != 0)
        for expected in ["queues[1]", "schedules[0]", "{{week}}", "nothing was changed"] {
            #expect(output.contains(expected), "\(expected) in \(output)")
        }
        let queues = try await HTTP.send("GET", "http://\(cluster.api(1))/v1/queues")
        #expect(!String(decoding: queues.body, as: UTF8.self).contains("\"ok\""), "the valid part was not applied either")
    }
}
