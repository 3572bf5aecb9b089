import API
import Foundation
import Preprocess
import Store

/// `job` tasks waiting for their job run (handed to `StateStore.jobLeaseHolder` by `launchJob`):
/// once the run has ended, the leader ends the task's attempt with the ordinary fenced reports —
/// DONE → `completeTask` (result: the job, its outputs and counters), FAILED → `failTask`
/// (retried per the queue; the next attempt launches run + 1), CANCELLED → `cancelTask`. A
/// repeated report after a leader change is refused by its fence, so the attempt ends once.
extension JobCoordinator {
    /// How many waiting `job` tasks one tick looks at.
    static let jobTasksPerTick = 1_000

    func settleJobTasks(store: StateStore, nowMs: Milliseconds, propose: Propose) throws {
        for task in try store.leasedTasks(executorID: StateStore.jobLeaseHolder, limit: Self.jobTasksPerTick) {
            let key = "@task:" + task.id
            guard inFlight[key] == nil, let fence = task.fence,
                  let command = try settle(task, fence: fence, store: store, nowMs: nowMs) else { continue }
            send(command, job: key, propose: propose)
        }
    }

    /// The report that ends this attempt, or nil while its job runs.
    func settle(_ task: TaskRecord, fence: UInt64, store: StateStore, nowMs: Milliseconds) throws -> Command? {
        guard let link = StateStore.JobLink.decode(task.result) else {
            return .failTask(taskID: task.id, fence: fence, error: "the task's job link is unreadable", nowMs: nowMs)
        }
        guard let progress = try store.jobProgress(link.job) else {
            return .failTask(taskID: task.id, fence: fence, error: "job \(link.job) is missing", nowMs: nowMs)
        }
        switch progress.job.state {
        case .done:
            return .completeTask(taskID: task.id, fence: fence, result: try Self.result(link, progress, store: store),
                                 counters: [:], nowMs: nowMs)
        case .failed:
            let error = "job \(link.job) (run \(link.run)) failed: \(progress.job.error ?? "no error recorded")"
            return .failTask(taskID: task.id, fence: fence, error: String(error.prefix(4_000)), nowMs: nowMs)
        case .cancelled:
            return .cancelTask(taskID: task.id, nowMs: nowMs)
        case .queued, .running, .cancelling:
            return nil
        }
    }

    struct JobTaskResult: Codable {
        var job: String
        var run: Int
        var state: String
        var template: String
        var output: String?
        var outputs: [String]
        var counters: [String: Int64]
    }

    /// The finished task's result: its job, the output files (from the reducers' results) and counters.
    static func result(_ link: StateStore.JobLink, _ progress: JobProgress, store: StateStore) throws -> Data {
        let parameters = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(progress.job.parameters.utf8))) ?? [:]
        var output: String?
        if case .string(let text)? = parameters["output"] { output = text }
        var outputs: [String] = []
        for index in 0..<10_000 {
            guard let task = try store.task(JobTasks.id(link.job, .reduce, index)) else { break }
            if let result = task.result, let reduce = try? JobTaskPayload.decoder.decode(ReduceOutput.self, from: result) {
                outputs.append(reduce.file.path)
            }
        }
        let body = JobTaskResult(job: link.job, run: link.run, state: progress.job.state.rawValue, template: progress.job.template,
                                 output: output, outputs: outputs, counters: progress.counters)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(body)
    }
}
