import Foundation
import Testing

/// `csv-clean` and `jsonl-transform` run as cluster jobs (statistics, map and reduce stages
/// over the executors of three nodes) and their output equals a simple reference written here.
extension ClusterTests {
    @Test func aCSVCleanJobWithNormalisationMatchesAReferenceImplementation() async throws {
        let data = try JobData()
        defer { data.remove() }
        let table = CleanReference.table(rows: 80_000, seed: 11)
        try data.write("in/table.csv", table)
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path, "jobSplitBytes": 256 * 1024])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1

        let spec: [String: Any] = [
            "select": ["name", "price", "city", "qty"], "trim": true, "lowercase": ["city"],
            "casts": ["price": "double", "qty": "int"], "missing": ["action": "drop", "columns": ["price"]],
            "filter": [["column": "qty", "op": "ge", "value": 2]], "normalize": ["price": "minmax"],
            "rename": ["price": "price_mm"], "dedupe": true,
        ]
        let id = try await JobClient.create("csv-clean", ["inputFile": "in/table.csv", "output": "out/clean/table", "numShards": 3,
                                                          "tempLocation": "tmp", "spec": spec], cluster: cluster, node: follower)
        let job = try await JobClient.waitUntilTerminal(id, cluster: cluster, seconds: 90)
        #expect(job["state"] as? String == "DONE", "\(job)")

        let reference = CleanReference.csvClean(table)
        let outDir = data.root.appendingPathComponent("out/clean")
        let names = JobClient.names(outDir)
        #expect(names == ["table-00000-of-00003", "table-00001-of-00003", "table-00002-of-00003", "table-rejects.jsonl"],
                "every shard once, one rejects file, no temp file: \(names)")
        var rows: [String] = []
        for name in names where !name.hasSuffix(".jsonl") {
            let records = SimpleCSV.parse(try String(contentsOf: outDir.appendingPathComponent(name), encoding: .utf8))
            #expect(records.first == ["name", "price_mm", "city", "qty"], "\(name) starts with the header")
            rows += records.dropFirst().map(SimpleCSV.line)
        }
        #expect(Set(rows).count == rows.count, "dedupe: no row twice, in one shard or across shards")
        #expect(rows.count == reference.rows.count)
        #expect(Set(rows) == reference.rows)

        let rejects = try String(contentsOf: outDir.appendingPathComponent("table-rejects.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(rejects.count == reference.malformed, "\(rejects)")
        #expect(rejects.contains { $0.contains("expected 5 fields, got 6") }, "\(rejects)")
        let counters = job["counters"] as? [String: Any] ?? [:]
        #expect(counters["records_in"] as? Int == reference.recordsIn, "\(counters)")
        #expect(counters["records_out"] as? Int == reference.rows.count, "\(counters)")
        #expect(counters["malformed_records"] as? Int == reference.malformed, "\(counters)")
        #expect(counters["bytes_in"] as? Int == table.utf8.count - "id,name,price,city,qty\n".utf8.count, "\(counters)")
        let tasks = await JobClient.tasks(id, cluster: cluster)
        let stats = tasks.filter { ($0["id"] as? String)?.contains("-stats-") == true }.count
        let maps = tasks.filter { ($0["id"] as? String)?.contains("-map-") == true }.count
        #expect(stats >= 4 && stats == maps && tasks.count == stats + maps + 3, "stats, map and 3 reduce tasks: \(stats) \(maps) \(tasks.count)")
        #expect(try await JobClient.waitUntilGone(data.root.appendingPathComponent("tmp/\(id)"), seconds: 20), "temp dir removed")
    }

    @Test func aJSONLTransformJobWithZScoresMatchesAReferenceImplementation() async throws {
        let data = try JobData()
        defer { data.remove() }
        let lines = CleanReference.jsonl(records: 6_000, seed: 5)
        try data.write("in/events.jsonl", lines)
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path, "jobSplitBytes": 32 * 1024])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()

        let spec: [String: Any] = [
            "select": ["tag", "score"], "trim": true, "lowercase": ["tag"], "casts": ["score": "double"],
            "missing": ["action": "fill", "columns": ["tag"], "fill": ["tag": "none"]],
            "filter": [["column": "tag", "op": "ne", "value": "skip"]], "normalize": ["score": "zscore"],
        ]
        let id = try await JobClient.create("jsonl-transform", ["inputFile": "in/events.jsonl", "output": "out/events",
                                                                "numShards": 2, "spec": spec], cluster: cluster, node: leader)
        let job = try await JobClient.waitUntilTerminal(id, cluster: cluster, seconds: 60)
        #expect(job["state"] as? String == "DONE", "\(job)")

        let reference = CleanReference.jsonlTransform(lines)
        var out: [(String, Double?)] = []
        for shard in 0..<2 {
            let text = try String(contentsOf: data.root.appendingPathComponent("out/events-0000\(shard)-of-00002"), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                guard let object, let tag = object["tag"] as? String, object.count == 2 else {
                    Issue.record("bad output line \(line)")
                    continue
                }
                out.append((tag, (object["score"] as? NSNumber)?.doubleValue))
            }
        }
        #expect(out.count == reference.rows.count)
        let sorted = out.sorted(by: CleanReference.order)
        for (got, want) in zip(sorted, reference.rows.sorted(by: CleanReference.order)) {
            let close = got.1 == nil ? want.1 == nil : abs((got.1 ?? 0) - (want.1 ?? .nan)) < 1e-9
            #expect(got.0 == want.0 && close, "\(got) != \(want)")
        }
        let rejects = try String(contentsOf: data.root.appendingPathComponent("out/events-rejects.jsonl"), encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == reference.malformed)
        let counters = job["counters"] as? [String: Any] ?? [:]
        #expect(counters["records_in"] as? Int == reference.recordsIn, "\(counters)")
        #expect(counters["malformed_records"] as? Int == reference.malformed, "\(counters)")
    }

    @Test func aCleaningJobWithABadSpecOrPathIsRefusedNamingTheParameter() async throws {
        let data = try JobData()
        defer { data.remove() }
        try data.write("in/t.csv", "a,b\n1,2\n")
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let cases: [([String: Any], String)] = [
            (["inputFile": "in/t.csv", "output": "out/x", "spec": ["select": ["zz"]]], "parameters.spec.select[0]"),
            (["inputFile": "in/t.csv", "output": "out/x", "spec": ["selekt": ["a"]]], "parameters.spec.selekt"),
            (["inputFile": "in/t.csv", "output": "out/x"], "parameters.spec"),
            (["inputFile": "../t.csv", "output": "out/x", "spec": [:]], "parameters.inputFile"),
            (["inputFile": "in/t.csv", "output": "/etc/x", "spec": [:]], "parameters.output"),
            (["inputFile": "in/t.csv", "output": "out/x", "tempLocation": "/tmp", "spec": [:]], "parameters.tempLocation"),
            (["inputFile": "in/t.csv", "output": "out/x", "spec": [:], "testDelayMs": 5], "parameters.testDelayMs"),
        ]
        for (parameters, field) in cases {
            let reply = try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/jobs",
                                            body: HTTP.json(["template": "csv-clean", "parameters": parameters]))
            let error = reply.json?["error"] as? [String: Any]
            #expect(reply.status == 400, "\(parameters): \(String(decoding: reply.body, as: UTF8.self))")
            #expect(error?["field"] as? String == field, "\(parameters): \(String(decoding: reply.body, as: UTF8.self))")
        }
        let list = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/jobs")
        #expect((list.json?["jobs"] as? [[String: Any]])?.isEmpty == true, "no job was recorded")
    }
}
