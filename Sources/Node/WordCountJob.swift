import API
import Foundation
import Preprocess
import Store

/// Planning a `wordcount` job: its parameters (Dataflow template names) and its first tasks.
/// Stages: `map` per split, then `reduce` per shard (added by `JobCoordinator`).
enum WordCountJob {
    static let parameterNames: Set<String> = ["inputFile", "output", "numShards", "tokenizer", "tempLocation", "testDelayMs"]

    /// The user's parameters (strings from the CLI or JSON numbers) as `WordCountParameters`.
    static func parameters(_ raw: [String: JSONValue]) throws(APIError) -> (WordCountParameters, JobParameters.Common) {
        let common = try JobParameters.common(raw, template: "wordcount", allowed: parameterNames)
        var rule: WordTokenizer.Rule?
        if let value = raw["tokenizer"] {
            guard case .string(let text) = value, let parsed = WordTokenizer.Rule(rawValue: text) else {
                let names = WordTokenizer.Rule.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidArgument, "parameters.tokenizer must be one of \(names)", field: "parameters.tokenizer")
            }
            rule = parsed
        }
        return (WordCountParameters(inputFile: common.inputFile, output: common.output, numShards: common.numShards, tokenizer: rule),
                common)
    }

    /// Plans the job (file system: globs, stats, creates the output and temp directories) and
    /// returns its first tasks.
    static func tasks(job: String, raw: [String: JSONValue], root: DataRoot, splitBytes: Int64, testDelayAllowed: Bool,
                      nowMs: Milliseconds) throws(APIError) -> [TaskSpec] {
        let (parameters, common) = try Self.parameters(raw)
        let testDelayMs = try JobParameters.testDelay(common, allowed: testDelayAllowed)
        try JobParameters.checkPaths(common, root: root)
        let plan: JobPlan
        do {
            plan = try JobPlanner.plan(parameters, root: root, tempLocation: common.tempLocation + "/" + job, targetSplitBytes: splitBytes)
        } catch {
            throw JobParameters.apiError(error)
        }
        let base = JobTaskPayload(template: "wordcount", stages: [.map, .reduce], stage: .map, index: 0, numMaps: plan.splits.count,
                                  numShards: plan.numShards, tempDir: plan.tempDir, outputPrefix: plan.outputPrefix, split: nil,
                                  tokenizer: parameters.tokenizer ?? .beam, clean: nil, stats: nil, testDelayMs: testDelayMs)
        return JobTasks.first(job: job, base: base, splits: plan.splits, nowMs: nowMs)
    }
}
