import Dispatch
import Foundation
import Logging
import Preprocess
import Store

/// Leader-only: moves `wordcount` jobs from stage to stage, from replicated state alone.
///
/// For each RUNNING wordcount job (the store marks a job RUNNING when its first task is
/// assigned), once none of its tasks is active: a dead or cancelled task (or a deleted one)
/// fails the job; missing reducers (ids `<job>-reduce-SSSSS`) are created once every map task
/// succeeded; when every reducer succeeded too, the job is finished DONE. Nothing here is
/// remembered across leader changes except which proposals are still in flight, and a repeated
/// proposal is refused by apply (`taskExists`, `invalidState`), so a new leader simply carries on.
///
/// Thread-safety: used only on the driver thread (through `NodeScheduling`'s tick hook), which
/// is what makes `@unchecked Sendable` safe.
final class JobCoordinator: @unchecked Sendable {
    typealias Propose = (Command, _ applied: @escaping @Sendable (ApplyOutcome) -> Void, _ dropped: @escaping @Sendable () -> Void) -> Void

    private let root: DataRoot
    private let logger: Logger
    /// Jobs with a proposal not yet applied or dropped: not looked at again until then.
    private var inFlight: [String: Int] = [:]
    private var reign: UInt64 = 0
    /// Temp directories of jobs whose `finishJob` is in flight.
    private var tempDirs: [String: String] = [:]

    init(root: DataRoot, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    /// A new reign (or none): forget the in-flight set; late handlers of the old one are ignored.
    func reset() {
        inFlight = [:]
        tempDirs = [:]
        reign &+= 1
    }

    func tick(store: StateStore, nowMs: Milliseconds, propose: Propose) {
        do {
            let running = try store.listJobs(state: .running, pageSize: 1_000).items
            for job in running where job.template == "wordcount" && inFlight[job.id] == nil {
                for command in try decide(job.id, store: store, nowMs: nowMs) { send(command, job: job.id, propose: propose) }
            }
        } catch {
            logger.error("job coordination failed", metadata: ["error": "\(error)"])
        }
    }

    /// The commands that move `job` on, or none while any of its tasks is active.
    func decide(_ job: String, store: StateStore, nowMs: Milliseconds) throws -> [Command] {
        guard let progress = try store.jobProgress(job) else { return [] }
        let byState = progress.tasksByState
        let active = (byState[.queued] ?? 0) + (byState[.leased] ?? 0) + (byState[.running] ?? 0)
        guard active == 0 else { return [] }
        guard let head = try store.task(WordCountJob.mapTaskID(job, 0)) ?? store.task(WordCountJob.reduceTaskID(job, 0)),
              let base = try? JSONDecoder().decode(WordCountTaskPayload.self, from: head.payload) else {
            return [.finishJob(jobID: job, failed: true, error: "the job's tasks are missing", nowMs: nowMs)]
        }
        if (byState[.dead] ?? 0) + (byState[.cancelled] ?? 0) > 0 {
            tempDirs[job] = base.tempDir
            return [.finishJob(jobID: job, failed: true, error: try failure(job, base: base, store: store), nowMs: nowMs)]
        }
        if (progress.counters["tasks_deleted"] ?? 0) > 0 {
            return [.finishJob(jobID: job, failed: true, error: "a task of the job was deleted", nowMs: nowMs)]
        }
        // No task active, none failed: every existing task succeeded, so every map did (they
        // were all created with the job) and the missing reducers may start.
        var missing: [Int] = []
        for shard in 0..<base.numShards where try store.task(WordCountJob.reduceTaskID(job, shard)) == nil { missing.append(shard) }
        if missing.isEmpty {
            tempDirs[job] = base.tempDir
            return [.finishJob(jobID: job, failed: false, error: nil, nowMs: nowMs)]
        }
        return WordCountJob.reduceTasks(job: job, base: base, shards: missing, scheduleTimeMs: nowMs, nowMs: nowMs).map(Command.createTask)
    }

    /// "task X dead: <its last error>" for the first failed task, in task-id order.
    private func failure(_ job: String, base: WordCountTaskPayload, store: StateStore) throws -> String {
        let ids = (0..<base.numMaps).map { WordCountJob.mapTaskID(job, $0) } + (0..<base.numShards).map { WordCountJob.reduceTaskID(job, $0) }
        for id in ids {
            guard let task = try store.task(id), task.state == .dead || task.state == .cancelled else { continue }
            return String("task \(id) \(task.state.rawValue): \(task.lastError ?? "no error recorded")".prefix(4_000))
        }
        return "a task of the job failed"
    }

    private func send(_ command: Command, job: String, propose: Propose) {
        inFlight[job, default: 0] += 1
        let reign = self.reign
        let settle: @Sendable () -> Void = { [self] in
            guard self.reign == reign, let count = inFlight[job] else { return }
            inFlight[job] = count > 1 ? count - 1 : nil
        }
        propose(command, { [self] outcome in
            settle()
            if case .finishJob = command, outcome == .ok, self.reign == reign { removeTemp(job: job) }
        }, settle)
    }

    /// Best effort, on the leader that finished the job, off the driver thread: the job's temp
    /// directory (its spills) once no task of the job can run any more.
    private func removeTemp(job: String) {
        guard let dir = tempDirs.removeValue(forKey: job) else { return }
        let root = self.root
        let logger = self.logger
        DispatchQueue.global(qos: .utility).async {
            guard let resolved = try? root.resolve(dir, mustExist: true), resolved != root.path,
                  resolved.hasSuffix("/" + job) else { return }
            do {
                try FileManager.default.removeItem(atPath: resolved)
            } catch {
                logger.warning("could not remove a job's temp directory", metadata: ["dir": "\(resolved)", "error": "\(error)"])
            }
        }
    }
}
