import Foundation
import Preprocess
import Store

/// A stage of a job. Every template runs its stages in a fixed order, recorded in each task's
/// payload (`JobTaskPayload.stages`): `wordcount` and single-pass cleaning `[map, reduce]`,
/// cleaning with `normalize` `[stats, map, reduce]`.
enum JobStage: String, Codable, Sendable, CaseIterable {
    /// One task per split: per-column statistics of the rows that survive filtering.
    case stats
    /// One task per split: spills one file per shard into the temp directory.
    case map
    /// One task per shard: merges that shard's spills into `PREFIX-SSSSS-of-NNNNN`.
    case reduce

    /// Per-split stages have one task per split; `reduce` one per shard.
    var perSplit: Bool { self != .reduce }
}

/// What a cleaning task needs besides the split: the input kind (with the CSV header read at
/// planning time), the spec, and the output's format and CSV header.
struct CleanTaskConfig: Codable, Sendable, Equatable {
    var input: CleanInput
    var spec: CSVCleanSpec
    var format: CSVCleanSpec.OutputFormat
    /// The output's header line (CSV output only).
    var outputHeader: [String]?
    /// Where reducer 0 gathers the map tasks' rejects (reject-file policy); nil under `fail`.
    var rejectsPath: String?
}

/// The `preprocess` task payload of every job template: everything one task needs, fixed by the
/// leader (the plan, or the coordinator for later stages). Paths are absolute and were checked
/// against the data root when the job was planned; the runner checks them again.
struct JobTaskPayload: Codable, Sendable, Equatable {
    /// `wordcount`, `csv-clean` or `jsonl-transform`.
    var template: String
    var stages: [JobStage]
    var stage: JobStage
    /// Per-split stages: the split's index (names its spills). Reduce: the shard.
    var index: Int
    var numMaps: Int
    var numShards: Int
    var tempDir: String
    var outputPrefix: String
    /// Per-split stages only.
    var split: InputSplit?
    /// `wordcount` only.
    var tokenizer: WordTokenizer.Rule?
    /// Cleaning templates only.
    var clean: CleanTaskConfig?
    /// The merged statistics pass (map tasks of a cleaning job that normalises).
    var stats: [String: ColumnStats]?
    /// Test clusters only (`testTaskKinds`): each task first sleeps this long, cancellably.
    var testDelayMs: Int?

    func encoded() -> Data {
        // Plain strings and numbers; statistics may hold ±inf or NaN, written as strings.
        (try? JobTaskPayload.encoder.encode(self)) ?? Data()
    }

    static func decode(_ data: Data) throws -> JobTaskPayload {
        try decoder.decode(JobTaskPayload.self, from: data)
    }

    /// How many tasks `stage` has.
    func count(of stage: JobStage) -> Int { stage.perSplit ? numMaps : numShards }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// Task ids and task specs shared by every template. Ids are derived from the job id and the
/// stage, so a second proposal of the same task is refused as `taskExists`.
enum JobTasks {
    /// Every job task lives here. Created by the leader on the first job (`ensureJobsQueue`).
    static let queue = "_jobs"
    /// Templates that run on the cluster.
    static let templates: Set<String> = ["wordcount", "csv-clean", "jsonl-transform"]

    static func id(_ job: String, _ stage: JobStage, _ index: Int) -> String { "\(job)-\(stage.rawValue)-\(pad(index))" }

    static func pad(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    static func queueSpec(nowMs: Milliseconds) -> QueueSpec {
        // A task is deterministic: three attempts tell a broken input from a lost node.
        QueueSpec(name: queue, retryConfig: RetryConfig(maxAttempts: 3, minBackoffMs: 200, maxBackoffMs: 5_000), nowMs: nowMs)
    }

    static func spec(_ job: String, _ payload: JobTaskPayload, scheduleTimeMs: Milliseconds, nowMs: Milliseconds) -> TaskSpec {
        TaskSpec(id: id(job, payload.stage, payload.index), queue: queue, jobID: job, kind: "preprocess",
                 payload: payload.encoded(), scheduleTimeMs: scheduleTimeMs, nowMs: nowMs)
    }

    /// A job's first tasks from its plan: the first stage's tasks, or the reducers at once when
    /// the input has no split (empty inputs still produce every output shard). Due at once,
    /// with a fixed schedule time: a request retried with the same Idempotency-Key plans the
    /// same tasks, so the store sees the same job.
    static func first(job: String, base: JobTaskPayload, splits: [InputSplit], nowMs: Milliseconds) -> [TaskSpec] {
        guard !splits.isEmpty, let stage = base.stages.first else {
            return reduce(job: job, base: base, shards: Array(0..<base.numShards), scheduleTimeMs: 0, nowMs: nowMs)
        }
        return splits.enumerated().map { index, split in
            var payload = base
            payload.stage = stage
            payload.index = index
            payload.split = split
            return spec(job, payload, scheduleTimeMs: 0, nowMs: nowMs)
        }
    }

    /// The reducers of `shards`, from any task's payload of the same job.
    static func reduce(job: String, base: JobTaskPayload, shards: [Int], scheduleTimeMs: Milliseconds,
                       nowMs: Milliseconds) -> [TaskSpec] {
        shards.map { shard in
            var payload = base
            payload.stage = .reduce
            payload.index = shard
            payload.split = nil
            payload.stats = nil
            return spec(job, payload, scheduleTimeMs: scheduleTimeMs, nowMs: nowMs)
        }
    }
}
