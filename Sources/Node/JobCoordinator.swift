import Dispatch
import Foundation
import Logging
import Preprocess
import Store

/// Leader-only: moves jobs from stage to stage, from replicated state alone.
///
/// Every task payload carries its job's stage plan (`JobTaskPayload.stages`, e.g.
/// `[stats, map, reduce]`). For each RUNNING job (the store marks a job RUNNING when its first
/// task is assigned), once none of its tasks is active: a dead or cancelled task (or a deleted
/// one) fails the job; otherwise every existing task succeeded, and the first stage with
/// missing tasks gets them (`<job>-<stage>-NNNNN`); when no stage misses any, the job is
/// finished DONE. A per-split stage's task N is derived from task N of the stage before it (same
/// split); the map tasks of a two-pass job also get the statistics merged from every stats
/// task's result. Nothing here is remembered across leader changes except which proposals are
/// in flight, and a repeated proposal is refused by apply (`taskExists`, `invalidState`), so a
/// new leader simply carries on.
///
/// Temp directories: removed (best effort, off the driver thread) after `finishJob` applied
/// here, and for CANCELLED jobs (`cancelJob` ends CANCELLED once no task is active) by a sweep
/// every `sweepEveryTicks`.
///
/// Thread-safety: used only on the driver thread (through `NodeScheduling`'s tick hook), which
/// is what makes `@unchecked Sendable` safe.
final class JobCoordinator: @unchecked Sendable {
    typealias Propose = (Command, _ applied: @escaping @Sendable (ApplyOutcome) -> Void, _ dropped: @escaping @Sendable () -> Void) -> Void

    private let root: DataRoot
    private let logger: Logger
    /// Jobs with a proposal not yet applied or dropped: not looked at again until then.
    var inFlight: [String: Int] = [:]
    private var reign: UInt64 = 0
    /// Temp directories and output prefixes of jobs whose `finishJob` is in flight.
    private var tempDirs: [String: (dir: String, outputPrefix: String)] = [:]
    /// CANCELLED jobs whose temp directory this process already removed (or found none).
    private var swept: Set<String> = []
    private var ticks = 0
    let sweepEveryTicks = 10

    init(root: DataRoot, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    /// A new reign (or none): forget the in-flight set; late handlers of the old one are ignored.
    func reset() {
        inFlight = [:]
        tempDirs = [:]
        ticks = 0
        reign &+= 1
    }

    func tick(store: StateStore, nowMs: Milliseconds, propose: Propose) {
        do {
            let running = try store.listJobs(state: .running, pageSize: 1_000).items
            for job in running where JobTasks.templates.contains(job.template) && inFlight[job.id] == nil {
                for command in try decide(job.id, store: store, nowMs: nowMs) { send(command, job: job.id, propose: propose) }
            }
            try settleJobTasks(store: store, nowMs: nowMs, propose: propose)
            if ticks % sweepEveryTicks == 0 {
                for (job, files) in try cancelledTempDirs(store: store) { removeTemp(job: job, dir: files.dir, outputPrefix: files.outputPrefix) }
            }
            ticks &+= 1
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
        guard let base = try head(job, store: store) else {
            return [.finishJob(jobID: job, failed: true, error: "the job's tasks are missing", nowMs: nowMs)]
        }
        if (byState[.dead] ?? 0) + (byState[.cancelled] ?? 0) > 0 {
            tempDirs[job] = (base.tempDir, base.outputPrefix)
            return [.finishJob(jobID: job, failed: true, error: try failure(job, base: base, store: store), nowMs: nowMs)]
        }
        if (progress.counters["tasks_deleted"] ?? 0) > 0 {
            return [.finishJob(jobID: job, failed: true, error: "a task of the job was deleted", nowMs: nowMs)]
        }
        // No task active, none failed: every existing task succeeded, so every earlier stage
        // is complete and the first stage with missing tasks may start.
        for stage in base.stages {
            let missing = try (0..<base.count(of: stage)).filter { try store.task(JobTasks.id(job, stage, $0)) == nil }
            guard !missing.isEmpty else { continue }
            let created = try tasks(job, stage: stage, indices: missing, base: base, store: store, nowMs: nowMs)
            guard created.count == missing.count else {
                tempDirs[job] = (base.tempDir, base.outputPrefix)
                return [.finishJob(jobID: job, failed: true, error: "cannot derive the \(stage.rawValue) tasks from the previous stage",
                                   nowMs: nowMs)]
            }
            return created.map(Command.createTask)
        }
        tempDirs[job] = (base.tempDir, base.outputPrefix)
        return [.finishJob(jobID: job, failed: false, error: nil, nowMs: nowMs)]
    }

    /// The payload of the job's first task (stage plan, counts, directories), if any exists.
    func head(_ job: String, store: StateStore) throws -> JobTaskPayload? {
        for stage in JobStage.allCases {
            if let task = try store.task(JobTasks.id(job, stage, 0)) { return try? JobTaskPayload.decode(task.payload) }
        }
        return nil
    }

    /// The tasks `indices` of `stage`. A per-split task copies the previous per-split stage's
    /// task of the same index (its split), so the plan's splits need not be stored twice; one
    /// whose previous task is unreadable is left out (the caller fails the job).
    private func tasks(_ job: String, stage: JobStage, indices: [Int], base: JobTaskPayload, store: StateStore,
                       nowMs: Milliseconds) throws -> [TaskSpec] {
        guard stage.perSplit else {
            return JobTasks.reduce(job: job, base: base, shards: indices, scheduleTimeMs: nowMs, nowMs: nowMs)
        }
        guard let position = base.stages.firstIndex(of: stage),
              let previous = base.stages[..<position].last(where: \.perSplit) else {
            return []  // a first stage is created with the job, so it is never missing
        }
        let stats = stage == .map && base.stages.contains(.stats) ? try mergedStats(job, base: base, store: store) : nil
        var out: [TaskSpec] = []
        for index in indices {
            guard let task = try store.task(JobTasks.id(job, previous, index)),
                  var payload = try? JobTaskPayload.decode(task.payload) else { continue }
            payload.stage = stage
            payload.stats = stats
            out.append(JobTasks.spec(job, payload, scheduleTimeMs: nowMs, nowMs: nowMs))
        }
        return out
    }

    /// The statistics of every stats task's result, merged in task order.
    private func mergedStats(_ job: String, base: JobTaskPayload, store: StateStore) throws -> [String: ColumnStats] {
        var merged = CleanStats()
        for index in 0..<base.numMaps {
            guard let result = try store.task(JobTasks.id(job, .stats, index))?.result,
                  let stats = try? JobTaskPayload.decoder.decode(CleanStats.self, from: result) else { continue }
            merged.merge(stats)
        }
        return merged.columns
    }

    /// "task X dead: <its last error>" for the first failed task, in stage and index order.
    private func failure(_ job: String, base: JobTaskPayload, store: StateStore) throws -> String {
        for stage in base.stages {
            for index in 0..<base.count(of: stage) {
                let id = JobTasks.id(job, stage, index)
                guard let task = try store.task(id), task.state == .dead || task.state == .cancelled else { continue }
                return String("task \(id) \(task.state.rawValue): \(task.lastError ?? "no error recorded")".prefix(4_000))
            }
        }
        return "a task of the job failed"
    }

    /// CANCELLED jobs not swept yet by this process, with their temp directories.
    private func cancelledTempDirs(store: StateStore) throws -> [(String, (dir: String, outputPrefix: String))] {
        var out: [(String, (dir: String, outputPrefix: String))] = []
        var token: String?
        for _ in 0..<10 {
            let page = try store.listJobs(state: .cancelled, pageToken: token, pageSize: 1_000)
            for job in page.items where !swept.contains(job.id) {
                swept.insert(job.id)
                if let base = try head(job.id, store: store) { out.append((job.id, (base.tempDir, base.outputPrefix))) }
            }
            guard let next = page.nextPageToken else { break }
            token = next
        }
        return out
    }

    func send(_ command: Command, job: String, propose: Propose) {
        inFlight[job, default: 0] += 1
        let reign = self.reign
        let settle: @Sendable () -> Void = { [self] in
            guard self.reign == reign, let count = inFlight[job] else { return }
            inFlight[job] = count > 1 ? count - 1 : nil
        }
        propose(command, { [self] outcome in
            settle()
            if case .finishJob = command, outcome == .ok, self.reign == reign, let files = tempDirs.removeValue(forKey: job) {
                removeTemp(job: job, dir: files.dir, outputPrefix: files.outputPrefix)
            }
        }, settle)
    }

    /// Best effort, off the driver thread, once no task of the job can run any more: the job's
    /// temp directory (its spills; only a directory named after the job, inside the root) and
    /// the dot-temp files dead reducer attempts left beside its outputs.
    private func removeTemp(job: String, dir: String, outputPrefix: String) {
        let root = self.root
        let logger = self.logger
        DispatchQueue.global(qos: .utility).async {
            if let prefix = try? root.resolve(outputPrefix, mustExist: false) { Self.removeOutputTemps(prefix: prefix) }
            guard let resolved = try? root.resolve(dir, mustExist: true), resolved != root.path,
                  resolved.hasSuffix("/" + job) else { return }
            do {
                try FileManager.default.removeItem(atPath: resolved)
            } catch {
                logger.warning("could not remove a job's temp directory", metadata: ["dir": "\(resolved)", "error": "\(error)"])
            }
        }
    }

    /// Removes `.NAME-….tmp-*` beside the outputs `PREFIX-…` (NAME = the prefix's last
    /// component): `AtomicFileWriter` temp names of shards and the rejects file.
    static func removeOutputTemps(prefix: String) {
        let url = URL(fileURLWithPath: prefix)
        let dir = url.deletingLastPathComponent().path
        let start = "." + url.lastPathComponent + "-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(start) && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }
}
