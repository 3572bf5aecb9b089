import API
import Foundation
import Preprocess
import Store

/// The `preprocess` task payload of a `wordcount` job: everything one map or reduce task needs,
/// fixed by the leader's plan. Paths are absolute and were checked against the data root when
/// the job was planned; the runner checks them again when it opens them.
struct WordCountTaskPayload: Codable, Sendable, Equatable {
    enum Stage: String, Codable, Sendable { case map, reduce }

    var stage: Stage
    /// Map: the split's index (names its spills). Reduce: the shard.
    var index: Int
    var numMaps: Int
    var numShards: Int
    var tempDir: String
    var outputPrefix: String
    var tokenizer: WordTokenizer.Rule
    /// Map only.
    var split: InputSplit?

    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain strings and numbers cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// Planning a `wordcount` job into tasks, and the names that make it idempotent: task ids are
/// derived from the job id, so a second proposal of the same task is refused as `taskExists`.
enum WordCountJob {
    /// Every job task lives here. Created by the leader on the first job (`ensureJobsQueue`).
    static let queue = "_jobs"
    static let parameterNames: Set<String> = ["inputFile", "output", "numShards", "tokenizer", "tempLocation"]
    /// Where temp (spill) directories go, relative to the data root, unless `tempLocation` is given.
    static let defaultTempLocation = ".trireme-tmp"

    static func queueSpec(nowMs: Milliseconds) -> QueueSpec {
        // A map task is deterministic: three attempts tell a broken input from a lost node.
        QueueSpec(name: queue, retryConfig: RetryConfig(maxAttempts: 3, minBackoffMs: 200, maxBackoffMs: 5_000), nowMs: nowMs)
    }

    static func mapTaskID(_ job: String, _ index: Int) -> String { "\(job)-map-\(pad(index))" }
    static func reduceTaskID(_ job: String, _ shard: Int) -> String { "\(job)-reduce-\(pad(shard))" }

    static func pad(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// The user's parameters (strings from the CLI or JSON numbers) as `WordCountParameters`.
    static func parameters(_ raw: [String: JSONValue]) throws(APIError) -> (WordCountParameters, tempLocation: String) {
        for key in raw.keys.sorted() where !parameterNames.contains(key) {
            throw APIError(.invalidArgument, "unknown wordcount parameter \(key) (\(parameterNames.sorted().joined(separator: ", ")))",
                           field: "parameters.\(key)")
        }
        guard case .string(let input)? = raw["inputFile"] else {
            throw APIError(.invalidArgument, "parameters.inputFile (a path or glob under the data root) is required", field: "parameters.inputFile")
        }
        guard case .string(let output)? = raw["output"] else {
            throw APIError(.invalidArgument, "parameters.output (an output path prefix) is required", field: "parameters.output")
        }
        var shards: Int?
        switch raw["numShards"] {
        case nil: break
        case .number(let n)? where n == n.rounded() && abs(n) < 1e9: shards = Int(n)
        case .string(let text)?: shards = Int(text)
        default: break
        }
        if raw["numShards"] != nil && shards == nil {
            throw APIError(.invalidArgument, "parameters.numShards must be an integer", field: "parameters.numShards")
        }
        var rule: WordTokenizer.Rule?
        if let value = raw["tokenizer"] {
            guard case .string(let text) = value, let parsed = WordTokenizer.Rule(rawValue: text) else {
                let names = WordTokenizer.Rule.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidArgument, "parameters.tokenizer must be one of \(names)", field: "parameters.tokenizer")
            }
            rule = parsed
        }
        var temp = defaultTempLocation
        if let value = raw["tempLocation"] {
            guard case .string(let text) = value else {
                throw APIError(.invalidArgument, "parameters.tempLocation must be a path", field: "parameters.tempLocation")
            }
            temp = text
        }
        return (WordCountParameters(inputFile: input, output: output, numShards: shards, tokenizer: rule), temp)
    }

    /// Plans the job (file system: globs, stats, creates the output and temp directories) and
    /// returns its first tasks: one map per split, or the reducers at once when no split exists
    /// (empty inputs still produce every output shard).
    static func tasks(job: String, raw: [String: JSONValue], root: DataRoot, splitBytes: Int64,
                      nowMs: Milliseconds) throws(APIError) -> [TaskSpec] {
        let (parameters, tempLocation) = try Self.parameters(raw)
        let plan: JobPlan
        do {
            plan = try JobPlanner.plan(parameters, root: root, tempLocation: tempLocation + "/" + job, targetSplitBytes: splitBytes)
        } catch {
            throw apiError(error)
        }
        let base = WordCountTaskPayload(stage: .map, index: 0, numMaps: plan.splits.count, numShards: plan.numShards,
                                        tempDir: plan.tempDir, outputPrefix: plan.outputPrefix,
                                        tokenizer: parameters.tokenizer ?? .beam, split: nil)
        if plan.splits.isEmpty { return reduceTasks(job: job, base: base, shards: Array(0..<plan.numShards), scheduleTimeMs: 0, nowMs: nowMs) }
        return plan.splits.enumerated().map { index, split in
            var payload = base
            payload.index = index
            payload.split = split
            // Due at once, with a fixed schedule time: a request retried with the same
            // Idempotency-Key plans the same tasks, so the store sees the same job.
            return TaskSpec(id: mapTaskID(job, index), queue: queue, jobID: job, kind: "preprocess",
                            payload: payload.encoded(), scheduleTimeMs: 0, nowMs: nowMs)
        }
    }

    /// The reducers of `shards`, from any task's payload of the same job.
    static func reduceTasks(job: String, base: WordCountTaskPayload, shards: [Int], scheduleTimeMs: Milliseconds,
                            nowMs: Milliseconds) -> [TaskSpec] {
        shards.map { shard in
            var payload = base
            payload.stage = .reduce
            payload.index = shard
            payload.split = nil
            return TaskSpec(id: reduceTaskID(job, shard), queue: queue, jobID: job, kind: "preprocess",
                            payload: payload.encoded(), scheduleTimeMs: scheduleTimeMs, nowMs: nowMs)
        }
    }

    static func apiError(_ error: PreprocessError) -> APIError {
        switch error {
        case .invalidParameter(let field, let reason):
            return APIError(.invalidArgument, "parameters.\(field): \(reason)", field: "parameters.\(field)")
        case .path(let path):
            return APIError(.invalidArgument, "bad path: \(describe(path)) (paths must lie under the node's data root)")
        case .io(let path, let operation, let errno):
            return APIError(.invalidArgument, "cannot \(operation) \(path) (errno \(errno))")
        case .corruptSpill, .malformedRecord:
            return APIError(.invalidArgument, "cannot plan the job: \(error)")
        }
    }

    static func describe(_ error: PathError) -> String {
        switch error {
        case .empty: "an empty path"
        case .containsNUL: "a path containing NUL"
        case .parentTraversal(let p): "\"\(p)\" has a '..' component"
        case .outsideRoot(let p, _): "\"\(p)\" is outside the data root"
        case .notFound(let p): "\"\(p)\" does not exist"
        case .notARegularFile(let p): "\"\(p)\" is not a regular file"
        case .notADirectory(let p): "\"\(p)\" is not a directory"
        case .hardLinked(let p): "\"\(p)\" has more than one hard link"
        case .invalidGlob(let p): "\"\(p)\" is not a valid glob"
        }
    }
}
