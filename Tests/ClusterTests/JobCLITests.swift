import Foundation
import Testing

/// The `trireme job` commands against a real cluster: `create csv-clean --spec FILE`, then
/// `watch` until DONE, showing the job's counters.
extension ClusterTests {
    @Test func theCLICreatesACSVCleanJobFromASpecFileAndWatchesItWithCounters() async throws {
        let data = try JobData()
        defer { data.remove() }
        try data.write("in/t.csv", "name,price\n  a ,1\nb,\nc,3\nb,2,x\n")
        try data.write("spec.json", #"{"trim": true, "casts": {"price": "int"}, "missing": {"action": "drop"}}"#)
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path])
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let server = cluster.members.map(\.api).joined(separator: ",")

        let create = try await CLI.run(cluster.binary, ["job", "create", "csv-clean", "--server", server, "--param", "inputFile=in/t.csv",
                                                        "--param", "output=out/t", "--spec", data.root.appendingPathComponent("spec.json").path])
        #expect(create.status == 0, "\(create.output)")
        let id = create.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("job-"), "\(create.output)")
        let watch = try await CLI.run(cluster.binary, ["job", "watch", id, "--server", server, "--max-wait", "60"])
        #expect(watch.status == 0, "\(watch.output)")
        #expect(watch.output.contains("DONE"), "\(watch.output)")
        #expect(watch.output.contains("in 4 rec") && watch.output.contains("out 2 rec") && watch.output.contains("malformed 1"),
                "counters shown: \(watch.output)")
        let output = try String(contentsOf: data.root.appendingPathComponent("out/t-00000-of-00001"), encoding: .utf8)
        #expect(output == "name,price\na,1\nc,3\n")

        let missing = try await CLI.run(cluster.binary, ["job", "create", "csv-clean", "--server", server, "--param", "inputFile=in/t.csv",
                                                         "--param", "output=out/u", "--spec", data.root.appendingPathComponent("nope.json").path])
        #expect(missing.status != 0 && missing.output.contains("nope.json"), "\(missing.output)")
    }
}

/// Runs the `trireme` binary with a bounded wait (killed after `seconds`): `run` keeps stdout and
/// stderr together, `runSeparated` apart.
enum CLI {
    struct Result {
        var status: Int32
        var output: String
    }

    struct Separated {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ binary: URL, _ arguments: [String], seconds: Double = 90) async throws -> Result {
        let (status, out, _) = try await execute(binary, arguments, seconds: seconds, separateStderr: false)
        return Result(status: status, output: out)
    }

    static func runSeparated(_ binary: URL, _ arguments: [String], seconds: Double = 90) async throws -> Separated {
        let (status, out, err) = try await execute(binary, arguments, seconds: seconds, separateStderr: true)
        return Separated(status: status, stdout: out, stderr: err)
    }

    /// Output goes to files in a fresh temporary folder (a pipe could fill up and block the child).
    private static func execute(_ binary: URL, _ arguments: [String], seconds: Double,
                                separateStderr: Bool) async throws -> (Int32, String, String) {
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
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = outHandle
        process.standardError = separateStderr ? errHandle : outHandle
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
