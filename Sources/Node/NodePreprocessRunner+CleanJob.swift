import Executor
import Foundation
import Preprocess

/// The reducer-0 result of a cleaning job: its shard, plus the job's gathered rejects file.
struct CleanReduceResult: Codable, Sendable, Equatable {
    var output: ReduceOutput
    var rejects: OutputFile?
    var rejectedRecords: Int?
}

/// The stages of `csv-clean` and `jsonl-transform`: `stats` (per split, result `CleanStats`),
/// `map` (clean and spill, with the merged statistics from the payload), `reduce` (merge a
/// shard; reducer 0 also gathers every map's rejects into `PREFIX-rejects.jsonl`).
extension NodePreprocessRunner {
    func clean(_ payload: JobTaskPayload, tempDir: String, outputPrefix: String) async throws -> PreprocessShardReport {
        guard let config = payload.clean else { throw BadPayload(why: "a cleaning task needs its spec") }
        switch payload.stage {
        case .stats:
            guard let split = payload.split else { throw BadPayload(why: "a stats task needs a split") }
            let stats = try await CleanMapper.stats(split: split, input: config.input, spec: config.spec, root: root, options: mapOptions)
            return PreprocessShardReport(result: try Self.json(stats), counters: stats.counters)
        case .map:
            guard let split = payload.split else { throw BadPayload(why: "a map task needs a split") }
            var stats = CleanStats()
            stats.columns = payload.stats ?? [:]
            let output = try await CleanMapper.run(split: split, input: config.input, spec: config.spec, stats: stats,
                                                   numShards: payload.numShards, tempDir: tempDir, taskID: payload.index,
                                                   root: root, options: mapOptions)
            return PreprocessShardReport(result: try Self.json(output), counters: output.counters)
        case .reduce:
            return try await cleanReduce(payload, config: config, tempDir: tempDir, outputPrefix: outputPrefix)
        }
    }

    private func cleanReduce(_ payload: JobTaskPayload, config: CleanTaskConfig, tempDir: String,
                             outputPrefix: String) async throws -> PreprocessShardReport {
        let shard = payload.index
        let inputs = (0..<payload.numMaps).map { map in
            SpillInput(mapTaskIndex: map, path: CleanMapper.spillPath(tempDir: tempDir, taskID: map, shard: shard))
        }
        let root = self.root
        let rejectsTarget = shard == 0 ? try config.rejectsPath.map { try root.resolve($0, mustExist: false) } : nil
        let numMaps = payload.numMaps
        let result = try await Self.offPool { () throws -> CleanReduceResult in
            var result = CleanReduceResult(output: try CleanReducer.run(
                shard: shard, of: payload.numShards, inputs: inputs, outputPrefix: outputPrefix, format: config.format,
                csvHeader: config.outputHeader, dedupe: config.spec.dedupe, root: root))
            if let rejectsTarget {
                let paths = (0..<numMaps).map { CleanMapper.rejectsPath(tempDir: tempDir, taskID: $0) }
                let gathered = try CleanReducer.gatherRejects(paths, into: rejectsTarget, root: root)
                result.rejects = gathered.file
                result.rejectedRecords = gathered.records
            }
            return result
        }
        return PreprocessShardReport(result: try Self.json(result), counters: result.output.counters)
    }
}
