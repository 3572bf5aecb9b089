import Foundation
import Store

/// What a `job` task's attempt proposes: the job run to create (id `StateStore.jobRunID`, its
/// first tasks planned) and the queue its tasks go to, created by apply if missing.
public struct JobLaunch: Sendable, Equatable {
    public var job: JobSpec
    public var jobsQueue: QueueSpec

    public init(job: JobSpec, jobsQueue: QueueSpec) {
        self.job = job
        self.jobsQueue = jobsQueue
    }
}

/// Plans one run of a `job` task. Implemented by the node (it knows the templates, presets,
/// the data root and the schedules' time zones); must not create anything itself: the job is
/// created by apply of `launchJob`, under the attempt's fence, so it exists at most once.
public protocol JobLauncher: Sendable {
    func plan(_ task: TaskRecord, run: Int, jobID: String) async throws -> JobLaunch
}

/// The `job` kind. The attempt only plans the next job run and reports it (`.launched`): the
/// slot is free again in milliseconds, and the leader's job coordinator ends the attempt with
/// the job's outcome (see `StateStore+JobTasks.swift`). The run number is one more than the
/// run linked in the task's result (a previous attempt's run, which ended FAILED), else 1.
public struct JobTaskRunner: TaskRunner {
    public static let kind = "job"
    let launcher: any JobLauncher

    public init(launcher: any JobLauncher) {
        self.launcher = launcher
    }

    public func run(_ task: TaskRecord) async -> TaskOutcome {
        let run = (StateStore.JobLink.decode(task.result)?.run ?? 0) + 1
        do {
            return .launched(try await launcher.plan(task, run: run, jobID: StateStore.jobRunID(taskID: task.id, run: run)))
        } catch {
            return .failed("job: \(error)")
        }
    }
}
