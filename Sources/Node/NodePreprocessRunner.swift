import Dispatch
import Executor
import Foundation
import Preprocess
import Store

/// Runs one map or reduce task of a `wordcount` job on this node, over the shared data root.
///
/// Every path in the payload is checked against the data root again here (the plan was checked
/// on the leader, but the file system may have changed), and readers open through the root.
/// Spills are named by map index and written temp-then-rename with a random attempt suffix, so
/// two attempts of one task never see each other's partial files and their final files are
/// byte-identical. Cancellation is honoured between stages: a running map or reduce finishes
/// (its outputs are complete and harmless) and the attempt then ends as cancelled.
struct NodePreprocessRunner: PreprocessRunner {
    let root: DataRoot
    var mapOptions = MapOptions()

    struct BadPayload: Error, CustomStringConvertible {
        var why: String
        var description: String { "bad preprocess payload: \(why)" }
    }

    func runShard(_ task: TaskRecord) async throws -> PreprocessShardReport {
        let payload: WordCountTaskPayload
        do {
            payload = try JSONDecoder().decode(WordCountTaskPayload.self, from: task.payload)
        } catch {
            throw BadPayload(why: "\(error)")
        }
        guard payload.numShards >= 1, payload.numMaps >= 0, payload.index >= 0 else {
            throw BadPayload(why: "counts out of range")
        }
        let tempDir = try root.resolve(payload.tempDir, mustExist: true)
        let outputPrefix = try root.resolve(payload.outputPrefix, mustExist: false)
        try Task.checkCancellation()
        let report: PreprocessShardReport
        switch payload.stage {
        case .map:
            guard let split = payload.split else { throw BadPayload(why: "a map task needs a split") }
            let output = try await WordCountMapper.run(
                split: split, numShards: payload.numShards, tempDir: tempDir, taskID: payload.index,
                tokenizer: WordTokenizer(rule: payload.tokenizer), root: root, options: mapOptions)
            report = PreprocessShardReport(result: try Self.json(output), counters: output.counters)
        case .reduce:
            let inputs = (0..<payload.numMaps).map { map in
                SpillInput(mapTaskIndex: map, path: WordCountMapper.spillPath(tempDir: tempDir, taskID: map, shard: payload.index))
            }
            let root = self.root
            let output = try await Self.offPool {
                try WordCountReducer.run(shard: payload.index, of: payload.numShards, inputs: inputs,
                                         outputPrefix: outputPrefix, root: root)
            }
            report = PreprocessShardReport(result: try Self.json(output), counters: output.counters)
        }
        try Task.checkCancellation()
        return report
    }

    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    /// The reducer is synchronous file I/O: it runs on a Dispatch thread, not the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
