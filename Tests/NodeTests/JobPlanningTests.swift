import API
import Foundation
import Preprocess
import Store
import Testing
@testable import Node

/// Planning jobs into first tasks (parameters refused naming the parameter, stage plans) and
/// running their payloads with `NodePreprocessRunner` over a temporary data root.
@Suite struct JobPlanningTests {
    /// A temporary data root with `in/t.csv`, removed by `remove()`.
    struct Root {
        let url: URL
        let root: DataRoot

        init(csv: String) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-plan-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url.appendingPathComponent("in"), withIntermediateDirectories: true)
            try Data(csv.utf8).write(to: url.appendingPathComponent("in/t.csv"))
            root = try DataRoot(url.path)
        }

        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    static let csv = "name,price\n  a ,1\nb,\nc,3\nb,2,x\nd,abc\n"

    static func clean(_ parameters: [String: JSONValue], root: DataRoot, template: String = "csv-clean",
                      testDelayAllowed: Bool = false) throws(APIError) -> [TaskSpec] {
        try CleanJob.tasks(template: template, job: "job-1", raw: parameters, root: root, splitBytes: 16,
                           testDelayAllowed: testDelayAllowed, nowMs: 1)
    }

    @Test(arguments: [
        (["output": .string("out/x"), "spec": .object([:])], "parameters.inputFile"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x")], "parameters.spec"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "spec": .string("[1]")], "parameters.spec"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "spec": .object(["select": .array([.string("zz")])])],
         "parameters.spec.select[0]"),
        (["inputFile": .string("in/../in/t.csv"), "output": .string("out/x"), "spec": .object([:])], "parameters.inputFile"),
        (["inputFile": .string("in/t.csv"), "output": .string("/elsewhere/x"), "spec": .object([:])], "parameters.output"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "tempLocation": .string("a/../../b"), "spec": .object([:])],
         "parameters.tempLocation"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "numShards": .string("three"), "spec": .object([:])],
         "parameters.numShards"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "numShards": .number(0), "spec": .object([:])],
         "parameters.numShards"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "testDelayMs": .number(5), "spec": .object([:])],
         "parameters.testDelayMs"),
        (["inputFile": .string("in/t.csv"), "output": .string("out/x"), "bogus": .number(5), "spec": .object([:])], "parameters.bogus"),
    ] as [([String: JSONValue], String)])
    func badParametersAreRefusedNamingTheParameter(parameters: [String: JSONValue], field: String) throws {
        let data = try Root(csv: Self.csv)
        defer { data.remove() }
        #expect(throws: APIError.self) { try Self.clean(parameters, root: data.root) }
        do {
            _ = try Self.clean(parameters, root: data.root)
        } catch {
            #expect(error.field == field, "\(error)")
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func jsonLinesToCSVNeedsSelect() throws {
        let data = try Root(csv: Self.csv)
        defer { data.remove() }
        do {
            _ = try Self.clean(["inputFile": .string("in/t.csv"), "output": .string("out/x"),
                                "spec": .object(["output": .string("csv")])], root: data.root, template: "jsonl-transform")
            Issue.record("planned a CSV output without columns")
        } catch {
            #expect(error.field == "parameters.spec.select", "\(error)")
        }
    }

    /// Normalising plans stats tasks first; the payloads round-trip and name the rejects file.
    @Test func normalisingPlansAStatsStageFirst() throws {
        let data = try Root(csv: Self.csv)
        defer { data.remove() }
        let tasks = try Self.clean(["inputFile": .string("in/t.csv"), "output": .string("out/x"), "numShards": .number(2),
                                    "spec": .object(["normalize": .object(["price": .string("minmax")])])], root: data.root)
        #expect(tasks.count >= 2, "16-byte splits cut several")
        #expect(tasks.map(\.id) == tasks.indices.map { JobTasks.id("job-1", .stats, $0) })
        let payload = try JobTaskPayload.decode(try #require(tasks.first).payload)
        #expect(payload.stages == [.stats, .map, .reduce] && payload.stage == .stats && payload.numShards == 2)
        #expect(payload.clean?.rejectsPath == data.root.path + "/out/x-rejects.jsonl")
        #expect(payload.clean?.outputHeader == ["name", "price"])
        #expect(payload.tempDir == data.root.path + "/.trireme-tmp/job-1")
    }

    /// stats → map (with merged stats) → reduce through the runner: output, one rejects file, job
    /// counters split input/output side.
    @Test func aTwoPassCleaningJobRunsThroughTheRunner() async throws {
        let data = try Root(csv: Self.csv)
        defer { data.remove() }
        let spec: JSONValue = .object(["trim": .bool(true), "missing": .object(["action": .string("drop")]),
                                       "normalize": .object(["price": .string("minmax")])])
        let tasks = try Self.clean(["inputFile": .string("in/t.csv"), "output": .string("out/x"), "spec": spec], root: data.root)
        let runner = NodePreprocessRunner(root: data.root)
        let statsPayloads = try tasks.map { try NodePreprocessRunner.payload($0.payload) }
        var merged = CleanStats()
        for p in statsPayloads {
            let report = try await runner.run(p)
            merged.merge(try JobTaskPayload.decoder.decode(CleanStats.self, from: report.result))
            #expect(report.counters.recordsIn == 0, "stats tasks add only their duration to the job")
        }
        var recordsIn = 0
        var malformed = 0
        for var p in statsPayloads {
            p.stage = .map
            p.stats = merged.columns
            let report = try await runner.run(p)
            recordsIn += report.counters.recordsIn
            malformed += report.counters.malformedRecords
            #expect(report.counters.recordsOut == 0)
        }
        #expect(recordsIn == 5 && malformed == 2)
        var reduce = try #require(statsPayloads.first)
        (reduce.stage, reduce.index, reduce.split, reduce.stats) = (.reduce, 0, nil, nil)
        let report = try await runner.run(reduce)
        #expect(report.counters.recordsOut == 2 && report.counters.recordsIn == 0)
        let out = try String(contentsOf: data.url.appendingPathComponent("out/x-00000-of-00001"), encoding: .utf8)
        #expect(out == "name,price\na,0.0\nc,1.0\n")
        let rejects = try String(contentsOf: data.url.appendingPathComponent("out/x-rejects.jsonl"), encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.url.appendingPathComponent("out").path).sorted()
                == ["x-00000-of-00001", "x-rejects.jsonl"])
    }

    @Test func payloadsOutOfRangeAreRefused() throws {
        let base = JobTaskPayload(template: "wordcount", stages: [.map, .reduce], stage: .reduce, index: 0, numMaps: 1, numShards: 2,
                                  tempDir: "t", outputPrefix: "o", split: nil, tokenizer: .beam, clean: nil, stats: nil, testDelayMs: nil)
        #expect(throws: Never.self) { try NodePreprocessRunner.payload(base.encoded()) }
        var bad = [base, base, base, base, base]
        bad[0].index = 2
        bad[1].template = "sql"
        bad[2].stage = .map
        bad[3].stage = .stats
        bad[4].numShards = 0
        for p in bad {
            #expect(throws: NodePreprocessRunner.BadPayload.self, "\(p)") { try NodePreprocessRunner.payload(p.encoded()) }
        }
        #expect(throws: NodePreprocessRunner.BadPayload.self) { try NodePreprocessRunner.payload(Data("{}".utf8)) }
    }

    /// At the end of a job, dead attempts' temp files beside its outputs go; other files stay.
    @Test func outputTempsOfTheJobAreSweptAndNothingElse() throws {
        let data = try Root(csv: Self.csv)
        defer { data.remove() }
        let out = data.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let names = ["x-00000-of-00002", ".x-00001-of-00002.tmp-dead", ".x-rejects.jsonl.tmp-1", ".xy-00000-of-00001.tmp-2",
                     ".y-00000-of-00001.tmp-3", "x-notes"]
        for name in names { try Data("z".utf8).write(to: out.appendingPathComponent(name)) }
        JobCoordinator.removeOutputTemps(prefix: out.path + "/x")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
                == [".xy-00000-of-00001.tmp-2", ".y-00000-of-00001.tmp-3", "x-00000-of-00002", "x-notes"])
    }
}
