import API
import Foundation
import Preprocess
import Store

/// Planning a `csv-clean` or `jsonl-transform` job. Parameters: `inputFile` (one file),
/// `output` (prefix), `spec` (a `CSVCleanSpec` as a JSON object, or as a string holding one),
/// optional `numShards` (default 1), `tempLocation`. Stages: `[map, reduce]`, or
/// `[stats, map, reduce]` when the spec normalises (the coordinator merges the statistics into
/// the map tasks). Under the reject-file policy malformed records are gathered by reducer 0
/// into `PREFIX-rejects.jsonl`.
enum CleanJob {
    static let parameterNames: Set<String> = ["inputFile", "output", "numShards", "spec", "tempLocation", "testDelayMs"]

    static func kind(template: String) -> CleanParameters.Kind { template == "jsonl-transform" ? .jsonl : .csv }

    static func rejectsPath(outputPrefix: String) -> String { outputPrefix + "-rejects.jsonl" }

    static func spec(_ raw: [String: JSONValue]) throws(APIError) -> CSVCleanSpec {
        let bytes: Data
        switch raw["spec"] {
        case nil:
            throw APIError(.invalidArgument, "parameters.spec (the cleaning spec, a JSON object) is required", field: "parameters.spec")
        case .object(let object)?:
            bytes = NodeAPI.canonicalJSON(.object(object))
        case .string(let text)?:
            bytes = Data(text.utf8)
        default:
            throw APIError(.invalidArgument, "parameters.spec must be a JSON object", field: "parameters.spec")
        }
        do {
            return try CSVCleanSpec.decode(json: Array(bytes))
        } catch .invalidParameter(field: "spec", let reason) {
            throw APIError(.invalidArgument, "parameters.spec: \(reason)", field: "parameters.spec")
        } catch {
            throw JobParameters.apiError(error, prefix: "parameters.spec.")
        }
    }

    /// Plans the job (reads the CSV header, cuts record-aligned splits, creates the output and
    /// temp directories) and returns its first tasks.
    static func tasks(template: String, job: String, raw: [String: JSONValue], root: DataRoot, splitBytes: Int64,
                      testDelayAllowed: Bool, nowMs: Milliseconds) throws(APIError) -> [TaskSpec] {
        let common = try JobParameters.common(raw, template: template, allowed: parameterNames)
        let testDelayMs = try JobParameters.testDelay(common, allowed: testDelayAllowed)
        let spec = try Self.spec(raw)
        try JobParameters.checkPaths(common, root: root)
        let parameters = CleanParameters(kind: kind(template: template), inputFile: common.inputFile, output: common.output,
                                         numShards: common.numShards, spec: spec)
        let plan: JobPlan
        let config: CleanTaskConfig
        do {
            plan = try JobPlanner.plan(parameters, root: root, tempLocation: common.tempLocation + "/" + job, targetSplitBytes: splitBytes)
            config = try taskConfig(spec: spec, input: plan.cleanInput ?? .jsonl, outputPrefix: plan.outputPrefix)
        } catch {
            throw apiError(error)
        }
        let stages: [JobStage] = spec.normalize.isEmpty ? [.map, .reduce] : [.stats, .map, .reduce]
        let base = JobTaskPayload(template: template, stages: stages, stage: stages[0], index: 0, numMaps: plan.splits.count,
                                  numShards: plan.numShards, tempDir: plan.tempDir, outputPrefix: plan.outputPrefix, split: nil,
                                  tokenizer: nil, clean: config, stats: nil, testDelayMs: testDelayMs)
        return JobTasks.first(job: job, base: base, splits: plan.splits, nowMs: nowMs)
    }

    /// The planner names spec fields without a prefix (`select[2]`); the job's own parameters
    /// keep theirs.
    static func apiError(_ error: PreprocessError) -> APIError {
        if case .invalidParameter(let field, _) = error, !parameterNames.contains(String(field.prefix { $0 != "." && $0 != "[" })) {
            return JobParameters.apiError(error, prefix: "parameters.spec.")
        }
        return JobParameters.apiError(error)
    }

    static func taskConfig(spec: CSVCleanSpec, input: CleanInput, outputPrefix: String) throws(PreprocessError) -> CleanTaskConfig {
        let format = spec.output ?? (input == .jsonl ? .jsonl : .csv)
        let transform = try CleanTransform(spec: spec, header: input.header)
        let header = transform.outputColumns(header: input.header)
        if format == .csv && header == nil {
            throw .invalidParameter(field: "select", reason: "CSV output (spec.output) from JSON lines needs the columns to select")
        }
        return CleanTaskConfig(input: input, spec: spec, format: format, outputHeader: format == .csv ? header : nil,
                               rejectsPath: spec.malformed == .rejectFile ? rejectsPath(outputPrefix: outputPrefix) : nil)
    }
}
