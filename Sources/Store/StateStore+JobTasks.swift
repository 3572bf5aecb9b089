import Foundation
import SQLite

/// Tasks of kind `job`, and named job presets.
///
/// A `job` task's attempt launches one job run and then waits for it WITHOUT an executor:
/// `launchJob` (fenced like any report) creates the run's job (unless it exists) and hands the
/// task to the pseudo lease holder `jobLeaseHolder` with a lease that never expires. The
/// executor's slot is free again at once, so the job's own tasks can use it (a job task that
/// kept its slot for the whole run could starve them: a deadlock on a small cluster). The
/// leader's job coordinator then ends the attempt with the job's outcome through the ordinary
/// fenced reports: `completeTask` (DONE), `failTask` (FAILED: retried per the queue, the next
/// attempt launches run + 1), `cancelTask` (CANCELLED). Cancelling the task cancels its job.
///
/// While handed off, the task's `result` holds the link `{"job": ID, "run": N}`; the next
/// attempt after a failed run reads it to launch run N + 1, so a job id never depends on
/// anything but the task and its run number, and a run exists only if its `launchJob` applied.
extension StateStore {
    /// The lease holder of handed-off `job` tasks. Executors may not register under an `@` name.
    public static let jobLeaseHolder = "@job"
    /// The lease end of a handed-off task: the end of year 9999, the largest time a command may
    /// carry, so no `expireLeases` reaches it (and it still prints as a date).
    public static let jobLeaseUntilMs: Milliseconds = 253_402_300_799_999

    /// The link a handed-off `job` task keeps in its result.
    public struct JobLink: Codable, Sendable, Equatable {
        public var job: String
        public var run: Int

        public init(job: String, run: Int) {
            self.job = job
            self.run = run
        }

        /// The link in a task's result, if it holds one.
        public static func decode(_ data: Data?) -> JobLink? {
            guard let data, !data.isEmpty else { return nil }
            return try? JSONDecoder().decode(JobLink.self, from: data)
        }

        /// Deterministic bytes (sorted keys), as apply must write the same everywhere.
        func encoded() -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(self)) ?? Data()
        }
    }

    func launchJob(_ taskID: String, fence: UInt64, job: JobSpec, jobsQueue: QueueSpec, nowMs: Milliseconds) throws -> ApplyOutcome {
        let task = try requireLease(taskID, fence: fence)
        if task.executorID == Self.jobLeaseHolder { return .created(id: job.id) }  // a repeated report
        if try queueInfo(jobsQueue.name) == nil { _ = try createQueue(jobsQueue) }
        if try jobState(job.id) == nil { _ = try createJob(job) }
        if task.state == .leased {
            try db.run("UPDATE tasks SET state = 'running' WHERE id = ?", [.text(taskID)])
            try recordTransition(task, to: .running, nowMs: nowMs)
            try markAttemptStarted(taskID: taskID, fence: task.fence, nowMs: nowMs)
        }
        let run = Self.runNumber(jobID: job.id) ?? 1
        try db.run("UPDATE tasks SET lease_executor = ?, lease_until_ms = ?, result = ? WHERE id = ?",
                   [.text(Self.jobLeaseHolder), .integer(Self.jobLeaseUntilMs), .blob([UInt8](JobLink(job: job.id, run: run).encoded())),
                    .text(taskID)])
        return .created(id: job.id)
    }

    /// The id of run `run` of a `job` task: `<task>.r<run>`, or, for a task id too long to
    /// leave room for the job's own task suffixes, a hash of it.
    public static func jobRunID(taskID: String, run: Int) -> String {
        if taskID.utf8.count <= 160 { return "\(taskID).r\(run)" }
        var hash = FNV1a()
        hash.add(taskID)
        return "\(taskID.prefix(100))-\(hash.hex).r\(run)"
    }

    static func runNumber(jobID: String) -> Int? {
        guard let dot = jobID.lastIndex(of: "."), jobID[jobID.index(after: dot)...].hasPrefix("r") else { return nil }
        return Int(jobID[jobID.index(dot, offsetBy: 2)...])
    }

    /// Cancelling a handed-off `job` task cancels its job (called before the task's lease is cleared).
    func cancelLinkedJob(_ task: TaskInfo, nowMs: Milliseconds) throws {
        guard task.executorID == Self.jobLeaseHolder else { return }
        var result: Data?
        try db.query("SELECT result FROM tasks WHERE id = ?", [.text(task.id)]) { row in result = Data(row.blob(0)) }
        guard let link = JobLink.decode(result),
              let state = try jobState(link.job), state == .queued || state == .running else { return }
        _ = try cancelJob(link.job, nowMs: nowMs)
    }

    // MARK: Presets

    func putJobPreset(_ spec: JobPresetSpec) throws -> ApplyOutcome {
        try db.run("""
            INSERT INTO job_presets (name, template, parameters, update_time_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET template = excluded.template, parameters = excluded.parameters,
                update_time_ms = excluded.update_time_ms
            """, [.text(spec.name), .text(spec.template), .text(spec.parameters), .integer(spec.nowMs)])
        return .ok
    }

    func deleteJobPreset(_ name: String) throws -> ApplyOutcome {
        guard try db.run("DELETE FROM job_presets WHERE name = ?", [.text(name)]) > 0 else { throw Rejection.unknownPreset }
        return .ok
    }

    /// Every preset, by name (a small table: a cluster's declared setup).
    public func jobPresets() throws(StoreError) -> [JobPresetRecord] {
        try read {
            var presets: [JobPresetRecord] = []
            try db.query("SELECT name, template, parameters, update_time_ms FROM job_presets ORDER BY name LIMIT 10000") { row in
                presets.append(JobPresetRecord(name: row.text(0), template: row.text(1), parameters: row.text(2), updateTimeMs: row.int64(3)))
            }
            return presets
        }
    }

    public func jobPreset(_ name: String) throws(StoreError) -> JobPresetRecord? {
        try read {
            var found: JobPresetRecord?
            try db.query("SELECT name, template, parameters, update_time_ms FROM job_presets WHERE name = ?", [.text(name)]) { row in
                found = JobPresetRecord(name: row.text(0), template: row.text(1), parameters: row.text(2), updateTimeMs: row.int64(3))
            }
            return found
        }
    }
}

public struct JobPresetRecord: Sendable, Equatable {
    public var name: String
    public var template: String
    /// Canonical JSON text of an object.
    public var parameters: String
    public var updateTimeMs: Milliseconds
}
