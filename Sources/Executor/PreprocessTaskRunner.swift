import Foundation
import Preprocess
import Store

/// What a preprocess shard reports: the result the task stores (e.g. its `MapOutput` or
/// `ReduceOutput` as JSON) and its counters.
public struct PreprocessShardReport: Sendable, Equatable {
    public var result: Data
    public var counters: TaskCounters

    public init(result: Data, counters: TaskCounters) {
        self.result = result
        self.counters = counters
    }
}

/// Runs one shard of a data-parallel job. Implemented by the node over the Preprocess module
/// (it knows the data root and the job's template); must honour Swift task cancellation.
public protocol PreprocessRunner: Sendable {
    /// `task.payload` describes the shard; `task.jobID` names the job; `task.fence` is the
    /// attempt's token, to name its temporary outputs so only the fenced attempt's files win.
    func runShard(_ task: TaskRecord) async throws -> PreprocessShardReport
}

/// The `preprocess` kind: runs the shard and reports its counters under stable names.
public struct PreprocessTaskRunner: TaskRunner {
    let shards: any PreprocessRunner

    public init(shards: any PreprocessRunner) {
        self.shards = shards
    }

    public func run(_ task: TaskRecord) async -> TaskOutcome {
        guard task.jobID != nil else { return .failed("a preprocess task belongs to a job") }
        do {
            let report = try await shards.runShard(task)
            return .succeeded(result: report.result, counters: Self.counters(report.counters))
        } catch {
            return .failed("preprocess: \(error)")
        }
    }

    /// Job counters add up over tasks, so names are per quantity, not per task.
    static func counters(_ c: TaskCounters) -> [String: Int64] {
        [
            "records_in": Int64(c.recordsIn), "bytes_in": c.bytesIn, "records_out": Int64(c.recordsOut),
            "bytes_out": c.bytesOut, "malformed_records": Int64(c.malformedRecords),
            "duration_ms": c.durationNanoseconds / 1_000_000,
        ]
    }
}
