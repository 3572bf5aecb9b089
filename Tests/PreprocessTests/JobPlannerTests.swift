import Foundation
import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct JobPlannerTests {
    @Test func wordCountPlanResolvesEverythingUnderTheRoot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.mkdir("root/in")
        try dir.write("root/in/a.txt", String(repeating: "x\n", count: 50))
        try dir.write("root/in/b.txt", "y\n")
        let root = try DataRoot(dir.path + "/root")
        let plan = try JobPlanner.plan(WordCountParameters(inputFile: "in/*.txt", output: "out/counts"), root: root,
                                       tempLocation: "tmp/job1", targetSplitBytes: 40)
        #expect(plan.numShards == 3)
        #expect(plan.splits.map(\.path) == [String](repeating: root.path + "/in/a.txt", count: 3) + [root.path + "/in/b.txt"])
        #expect(plan.outputFiles == (0..<3).map { root.path + "/out/counts-0000\($0)-of-00003" })
        #expect(FileManager.default.fileExists(atPath: root.path + "/tmp/job1"))
        #expect(FileManager.default.fileExists(atPath: root.path + "/out"))
    }

    @Test(arguments: [
        WordCountParameters(inputFile: "../secret.txt", output: "out/c"),
        WordCountParameters(inputFile: "in.txt", output: "../out/c"),
        WordCountParameters(inputFile: "in.txt", output: "/etc/c"),
        WordCountParameters(inputFile: "/etc/passwd", output: "out/c"),
        WordCountParameters(inputFile: "in.txt", output: "out/c", numShards: 0),
        WordCountParameters(inputFile: "nothing-*.txt", output: "out/c"),
    ])
    func refusedBeforeAnyTaskRuns(params: WordCountParameters) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.mkdir("root")
        try dir.write("root/in.txt", "a\n")
        try dir.write("secret.txt", "s\n")
        let root = try DataRoot(dir.path + "/root")
        #expect(throws: PreprocessError.self) {
            _ = try JobPlanner.plan(params, root: root, tempLocation: "tmp")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out"))
        #expect(throws: PreprocessError.self) {
            _ = try JobPlanner.plan(WordCountParameters(inputFile: "in.txt", output: "o"), root: root, tempLocation: "../tmp")
        }
    }

    @Test func cleanPlanReadsTheHeaderAndValidatesTheSpec() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.mkdir("root")
        try dir.write("root/p.csv", "a,b\n1,\"x\ny\"\n2,z\n")
        let root = try DataRoot(dir.path + "/root")
        var spec = CSVCleanSpec()
        spec.select = ["b"]
        let plan = try JobPlanner.plan(CleanParameters(kind: .csv, inputFile: "p.csv", output: "o/p", spec: spec),
                                       root: root, tempLocation: "t", targetSplitBytes: 1)
        #expect(plan.cleanInput == .csv(header: ["a", "b"]))
        #expect(plan.splits == [InputSplit(path: root.path + "/p.csv", start: 4, end: 12),
                                InputSplit(path: root.path + "/p.csv", start: 12, end: 16)])
        spec.select = ["nope"]
        #expect(throws: PreprocessError.invalidParameter(field: "select[0]", reason: "unknown column \"nope\"")) {
            _ = try JobPlanner.plan(CleanParameters(kind: .csv, inputFile: "p.csv", output: "o/p", spec: spec),
                                    root: root, tempLocation: "t")
        }
    }
}
