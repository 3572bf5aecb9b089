import API
import Crypto
import Dispatch
import Foundation
import Raft
import Store

/// Turning `POST /v1/jobs` into one `createJob` with the job's first tasks, on the leader.
extension NodeAPI {
    /// A job id: random, or derived from the Idempotency-Key so a retried request plans the same
    /// task ids and gets the first outcome (the store compares the whole job, tasks included).
    static func jobID(idempotencyKey: String?) -> String {
        guard let key = idempotencyKey else { return "job-" + TimeOrderedID.make(nowMs: HTTPSupport.nowMs()) }
        let digest = SHA256.hash(data: Data(key.utf8))
        return "job-k" + digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The job's first tasks (`JobFirstTasks`: off the event loops, every path checked against the
    /// data root, a bad one a 400 before anything is proposed), within the batch limit.
    func plannedTasks(template: String, job: String, parameters: [String: JSONValue],
                      nowMs: Milliseconds) async throws(APIError) -> [TaskSpec] {
        let root = core.config.dataRoot
        let splitBytes = core.config.config.jobSplitBytes
        let testDelayAllowed = core.config.config.testTaskKinds
        let clock = ContinuousClock()
        let started = clock.now
        let planned = await JobFirstTasks.plan(template: template, job: job, parameters: parameters, root: root, splitBytes: splitBytes,
                                            testDelayAllowed: testDelayAllowed, nowMs: nowMs)
        let tasks = try planned.get()
        try Self.checkBatch(tasks.count, limit: core.config.security.config.maxTasksPerBatch)
        let plannedAt = clock.now
        try await ensureJobsQueue(nowMs: nowMs)
        let done = clock.now
        if done - started >= .milliseconds(500) {
            logger.info("slow job planning", metadata: [
                "job": "\(job)", "planMs": "\((plannedAt - started).milliseconds)", "queueMs": "\((done - plannedAt).milliseconds)",
                "tasks": "\(tasks.count)",
            ])
        }
        return tasks
    }

    /// Creates the `_jobs` queue on first use (a concurrent creation is refused as
    /// `queueExists`, which is just as good).
    func ensureJobsQueue(nowMs: Milliseconds) async throws(APIError) {
        guard let driver = core.driver else { throw APIError(.unavailable, "node is starting") }
        let exists: Bool
        do {
            exists = try await driver.read(linearizable: false) { machine in try machine.store.queue(JobTasks.queue) != nil }
        } catch {
            throw APIError(.unavailable, "cannot read the store: \(error)", outcome: .notApplied)
        }
        guard !exists else { return }
        let bytes = Command.createQueue(JobTasks.queueSpec(nowMs: nowMs)).encoded()
        let timeout = writeTimeout
        let outcome = await OneShot<Result<ApplyOutcome, DriverError>?>.wait(timeout: timeout, sweeper: core.writeDeadlines, timedOut: nil) { resume in
            driver.propose(bytes, onApplied: { _, _, outcome in resume(.success(outcome)) }, onFailed: { resume(.failure($0)) })
        }
        switch outcome {
        case .success(.rejected(let rejection))? where rejection != .queueExists:
            throw NodeAPI.apiError(rejection)
        case .success?:
            return
        case .failure(let error)?:
            throw apiError(error)
        case nil:
            throw APIError(.deadlineExceeded, "creating queue \(JobTasks.queue) did not commit in time", outcome: .notApplied)
        }
    }
}
