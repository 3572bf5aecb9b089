import Dispatch
import Executor
import Foundation
import Preprocess
import Store

/// Runs one task of a job (any template, any stage) on this node, over the shared data root.
///
/// Every path in the payload is checked against the data root again here (the plan was checked
/// on the leader, but the file system may have changed), and readers open through the root.
/// Spills are named by split index and written temp-then-rename with a random attempt suffix,
/// so two attempts of one task never see each other's partial files and their final files are
/// byte-identical. Dot-temp files that dead reducer attempts leave beside the shards are swept
/// when the job ends (`JobCoordinator.removeOutputTemps`), not here: a live attempt may own one.
///
/// Cancellation (job cancelled, lease lost) is cooperative: checked before and after every
/// task and between stages; cleaning maps check it between batches; the test delay is a
/// cancellable sleep. A WordCount map runs to its end (its outputs are complete and harmless).
///
/// Counters reported to the job add up to job-level figures: input side (records and bytes in,
/// malformed records) from map tasks, output side (records and bytes out) from reducers, and
/// durations from every task; each task's full counters stay in its result.
struct NodePreprocessRunner: PreprocessRunner {
    let root: DataRoot
    var mapOptions = MapOptions()

    struct BadPayload: Error, CustomStringConvertible {
        var why: String
        var description: String { "bad preprocess payload: \(why)" }
    }

    func runShard(_ task: TaskRecord) async throws -> PreprocessShardReport {
        let payload = try Self.payload(task.payload)
        // Off the cooperative pool (see PreprocessTaskExecutor); cancellation still propagates.
        return try await withTaskExecutorPreference(PreprocessTaskExecutor.shared) {
            try await run(payload)
        }
    }

    /// Runs one checked payload; the report's counters are already the job-level ones.
    func run(_ payload: JobTaskPayload) async throws -> PreprocessShardReport {
        if let ms = payload.testDelayMs, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        let tempDir = try root.resolve(payload.tempDir, mustExist: true)
        let outputPrefix = try root.resolve(payload.outputPrefix, mustExist: false)
        try Task.checkCancellation()
        let report: PreprocessShardReport
        switch payload.template {
        case "wordcount":
            report = try await wordCount(payload, tempDir: tempDir, outputPrefix: outputPrefix)
        default:
            report = try await clean(payload, tempDir: tempDir, outputPrefix: outputPrefix)
        }
        try Task.checkCancellation()
        return PreprocessShardReport(result: report.result, counters: Self.jobCounters(report.counters, stage: payload.stage))
    }

    /// Decodes and checks a payload: counts in range, a known template, a split for per-split stages.
    static func payload(_ data: Data) throws -> JobTaskPayload {
        let payload: JobTaskPayload
        do {
            payload = try JobTaskPayload.decode(data)
        } catch {
            throw BadPayload(why: "\(error)")
        }
        guard JobTasks.templates.contains(payload.template) else { throw BadPayload(why: "unknown template") }
        guard payload.numShards >= 1, payload.numMaps >= 0, payload.index >= 0, payload.index < payload.count(of: payload.stage),
              payload.stages.contains(payload.stage) else {
            throw BadPayload(why: "counts out of range")
        }
        if payload.stage.perSplit && payload.split == nil { throw BadPayload(why: "a \(payload.stage.rawValue) task needs a split") }
        if payload.template != "wordcount" && payload.clean == nil { throw BadPayload(why: "a cleaning task needs its spec") }
        return payload
    }

    /// What a task adds to its job's counters (see the type's comment).
    static func jobCounters(_ c: TaskCounters, stage: JobStage) -> TaskCounters {
        var out = TaskCounters()
        out.durationNanoseconds = c.durationNanoseconds
        switch stage {
        case .stats:
            break
        case .map:
            out.recordsIn = c.recordsIn
            out.bytesIn = c.bytesIn
            out.malformedRecords = c.malformedRecords
        case .reduce:
            out.recordsOut = c.recordsOut
            out.bytesOut = c.bytesOut
        }
        return out
    }

    private func wordCount(_ payload: JobTaskPayload, tempDir: String, outputPrefix: String) async throws -> PreprocessShardReport {
        switch payload.stage {
        case .map:
            guard let split = payload.split else { throw BadPayload(why: "a map task needs a split") }
            let output = try await WordCountMapper.run(
                split: split, numShards: payload.numShards, tempDir: tempDir, taskID: payload.index,
                tokenizer: WordTokenizer(rule: payload.tokenizer ?? .beam), root: root, options: mapOptions)
            return PreprocessShardReport(result: try Self.json(output), counters: output.counters)
        case .reduce:
            let inputs = (0..<payload.numMaps).map { map in
                SpillInput(mapTaskIndex: map, path: WordCountMapper.spillPath(tempDir: tempDir, taskID: map, shard: payload.index))
            }
            let root = self.root
            let output = try await Self.offPool {
                try WordCountReducer.run(shard: payload.index, of: payload.numShards, inputs: inputs,
                                         outputPrefix: outputPrefix, root: root)
            }
            return PreprocessShardReport(result: try Self.json(output), counters: output.counters)
        case .stats:
            throw BadPayload(why: "wordcount has no stats stage")
        }
    }

    static func json(_ value: some Encodable) throws -> Data {
        try JobTaskPayload.encoder.encode(value)
    }

    /// Synchronous file I/O (reducers) runs on a Dispatch thread, not the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
