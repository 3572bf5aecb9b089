import Foundation
import Raft
import Store

/// What the node learns from each applied batch, beside the store: which watched resources
/// changed (`ChangeTracker` keys) and the queue and job events the metrics count. Runs on the
/// driver thread, around `StateStore.apply`: a decode of each entry (handed on to the store,
/// which so decodes nothing again) and one primary-key read per task a command names (creates
/// excepted: their spec says it all), before apply (so a deleted task's queue is still known)
/// and after it for the outcome's task state.
struct ApplyObserver: Sendable {
    let changes: ChangeTracker
    let metrics: NodeMetrics

    /// Every watch includes this key: it changes when a batch command touched tasks it did not
    /// name one by one (garbage collection).
    static let anyKey = "*"
    /// Changes with any queue (the queue list's watch), and with any job (the job list's).
    static let anyQueueKey = "q*"
    static let anyJobKey = "j*"

    /// One entry's command and the tasks it names, as they stood before apply.
    struct Noted {
        var index: UInt64
        var command: Command?
        /// The entry's command format version (handed to the store with the command).
        var version = Command.version
        var tasks: [String: TaskRecord] = [:]
        var taskIDs: [String] = []
    }

    func note(_ entries: [LogEntry], store: StateStore) -> [Noted] {
        entries.map { entry in
            guard !entry.data.isEmpty, let (command, version) = try? Command.decodeVersioned(entry.data, index: entry.index) else {
                return Noted(index: entry.index, command: nil)
            }
            var noted = Noted(index: entry.index, command: command, version: version, taskIDs: Self.taskIDs(command, store: store))
            for id in noted.taskIDs {
                if let record = try? store.task(id) { noted.tasks[id] = record }
            }
            return noted
        }
    }

    /// After the batch committed: record changed keys (waking watchers) and count events.
    func finish(_ noted: [Noted], outcomes: [ApplyOutcome], store: StateStore) {
        var changes: [(index: UInt64, keys: [String])] = []
        for (entry, outcome) in zip(noted, outcomes) {
            guard let command = entry.command else { continue }
            if case .rejected = outcome { continue }
            var keys = Self.directKeys(command, outcome: outcome)
            // A renewal moves only the tasks' lease expiry: neither a queue's nor a job's
            // answer shows it, so their watchers sleep on (executors renew every few seconds).
            let tasksOnly: Bool
            if case .renewLeases = command { tasksOnly = true } else { tasksOnly = false }
            for id in entry.taskIDs {
                // A task created by this very entry is read after apply.
                guard let task = entry.tasks[id] ?? (try? store.task(id)) else { continue }
                keys.append("t:\(task.id)")
                if tasksOnly { continue }
                keys.append("q:\(task.queue)")
                if let job = task.jobID { keys.append("j:\(job)") }
            }
            if keys.contains(where: { $0.hasPrefix("q:") }) { keys.append(Self.anyQueueKey) }
            if keys.contains(where: { $0.hasPrefix("j:") }) { keys.append(Self.anyJobKey) }
            if !keys.isEmpty { changes.append((entry.index, keys)) }
            var before = entry.tasks
            for id in entry.taskIDs where before[id] == nil {
                // Created earlier in this same batch: its queue and times are read after apply.
                before[id] = try? store.task(id)
            }
            count(command, outcome: outcome, before: before, store: store)
        }
        self.changes.record(changes, applied: store.appliedIndex)
    }

    /// Keys a command names outright (queues and jobs, and tasks created with their queue).
    static func directKeys(_ command: Command, outcome: ApplyOutcome) -> [String] {
        switch command {
        case .createQueue(let spec), .updateQueue(let spec):
            return ["q:\(spec.name)"]
        case .deleteQueue(let name, _), .purgeQueue(let name, _):
            // Every task of the queue may have changed: `qx:` is in each task watch's keys.
            return ["q:\(name)", "qx:\(name)"]
        case .pauseQueue(let name), .resumeQueue(let name), .disableQueue(let name):
            return ["q:\(name)"]
        case .createTask(let spec):
            // The spec names everything a create changes: no store read (creates are the
            // hottest command). An idempotent replay wakes the first task's watchers for nothing.
            return ["t:\(spec.id)", "q:\(spec.queue)"] + (spec.jobID.map { ["j:\($0)"] } ?? [])
        case .createJob(let spec):
            return jobKeys(spec)
        case .launchJob(_, _, let spec, let jobsQueue, _):
            // The launching task itself is among `taskIDs`.
            return jobKeys(spec) + ["q:\(jobsQueue.name)"]
        case .updateJobProgress(let job, _, _), .cancelJob(let job, _), .finishJob(let job, _, _, _):
            return ["j:\(job)"]
        case .collectGarbage:
            if case .counted(let changed, _) = outcome, changed == 0 { return [] }
            return [anyKey]
        default:
            return []
        }
    }

    static func jobKeys(_ spec: JobSpec) -> [String] {
        ["j:\(spec.id)"] + Array(Set(spec.tasks.map { "q:\($0.queue)" })).sorted() + spec.tasks.map { "t:\($0.id)" }
    }

    /// The tasks a command names one by one (read from the store before and after apply).
    static func taskIDs(_ command: Command, store: StateStore) -> [String] {
        switch command {
        case .deleteTask(let id, _), .cancelTask(let id, _), .runTask(let id, _), .assignTask(let id, _, _, _),
             .startTask(let id, _, _), .completeTask(let id, _, _, _, _), .failTask(let id, _, _, _),
             .redriveDeadTask(let id, _), .recordScheduleFire(_, _, let id, _), .launchJob(let id, _, _, _, _):
            return [id]
        case .renewLeases(_, let leases, _, _):
            return leases.map(\.taskID)
        case .expireLeases(let now, let limit):
            // The same query apply runs, so exactly the tasks it will expire.
            return ((try? store.expiredLeases(nowMs: now, limit: limit)) ?? []).map(\.taskID)
        default:
            return []
        }
    }

    private func count(_ command: Command, outcome: ApplyOutcome, before: [String: TaskRecord], store: StateStore) {
        switch (command, outcome) {
        case (.assignTask(let id, _, _, let now), .assigned):
            guard let task = before[id] else { return }
            let due = max(task.scheduleTimeMs, task.createTimeMs)
            metrics.dispatched(queue: task.queue, latency: .milliseconds(max(0, now - due)))
        case (.failTask(let id, _, _, _), .failed(let retryAt)):
            guard let task = before[id] else { return }
            if retryAt == nil { metrics.died(queue: task.queue) } else { metrics.retried(queue: task.queue) }
        case (.expireLeases, .counted(let changed, _)) where changed > 0:
            for task in before.values {
                switch (try? store.task(task.id))?.state {
                case .queued?: metrics.retried(queue: task.queue)
                case .dead?: metrics.died(queue: task.queue)
                default: break
                }
            }
        case (.completeTask(let id, _, _, let counters, _), .ok):
            if before[id]?.jobID != nil { metrics.jobBytesProcessed(counters["bytes_in"] ?? 0) }
        default:
            break
        }
    }
}
