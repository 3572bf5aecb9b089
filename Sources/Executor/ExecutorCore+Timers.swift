import Foundation
import Store

/// Time-driven duties and runner results.
extension ExecutorCore {
    /// Error texts in reports are cut to this many bytes (the log is not a log file).
    static let errorBytesMax = 4_096
    /// How often an executor that the store does not know yet re-sends its registration.
    static let registrationRetryMs: Milliseconds = 250

    /// Call every tick (e.g. every 50–100 ms): dispatch deadlines, report retries, the
    /// batched lease renewal and the heartbeat.
    public mutating func tick(nowMs: Milliseconds) -> [ExecutorAction] {
        var actions: [ExecutorAction] = []
        for (key, attempt) in attempts.sorted(by: { ($0.key.taskID, $0.key.fence) < ($1.key.taskID, $1.key.fence) }) {
            switch attempt.phase {
            case .running where nowMs >= attempt.deadlineMs:
                actions.append(.cancel(taskID: key.taskID, fence: key.fence))
                actions.append(report(.failTask(taskID: key.taskID, fence: key.fence, error: "dispatch deadline exceeded", nowMs: nowMs),
                                      for: key, nowMs: nowMs))
            case .running where attempt.unreportedStartMs.map { nowMs - $0 >= config.startReportDelayMs } ?? false:
                // Still running after the delay: now it shows as running, with its real start.
                attempts[key]?.unreportedStartMs = nil
                actions.append(.propose(.startTask(taskID: key.taskID, fence: key.fence, nowMs: attempt.unreportedStartMs ?? nowMs)))
            case .reporting(let command, let sent, _) where nowMs - sent >= config.reportRetryMs:
                // Lost on the way (leader change)? Same command again; apply refuses a duplicate.
                actions.append(report(command, for: key, nowMs: nowMs))
            default:
                break
            }
        }
        actions += maybeRenew(nowMs: nowMs)
        if nowMs >= (nextHeartbeatMs ?? .min) {
            // Until the store knows us, registration is retried quickly: the first attempt is
            // usually sent before the cluster has a leader and is lost, and no task reaches
            // this executor before it is registered.
            let interval = registeredAsConfigured ? config.heartbeatIntervalMs : min(config.heartbeatIntervalMs, Self.registrationRetryMs)
            nextHeartbeatMs = nowMs + interval
            actions.append(.propose(registeredAsConfigured
                ? .executorHeartbeat(executorID: config.executorID, nowMs: nowMs)
                : .registerExecutor(executorID: config.executorID, node: config.node, slots: config.slots, nowMs: nowMs)))
        }
        return actions
    }

    /// One `renewLeases` (per `renewBatchMax` leases) for every lease held, once per period.
    mutating func maybeRenew(nowMs: Milliseconds) -> [ExecutorAction] {
        guard let due = nextRenewMs, nowMs >= due else { return [] }
        guard !heldLeases.isEmpty else {
            nextRenewMs = nil
            return []
        }
        nextRenewMs = nowMs + config.renewIntervalMs
        let leases = leasesToRenew(nowMs: nowMs)
        return stride(from: 0, to: leases.count, by: config.renewBatchMax).map { start in
            .propose(.renewLeases(executorID: config.executorID, leases: Array(leases[start..<min(start + config.renewBatchMax, leases.count)]),
                                  leaseUntilMs: nowMs + config.leaseDurationMs, nowMs: nowMs))
        }
    }

    /// A runner returned. Reports its outcome if the attempt is still ours and unreported.
    public mutating func finished(taskID: String, fence: UInt64, outcome: TaskOutcome, nowMs: Milliseconds) -> [ExecutorAction] {
        let key = AttemptKey(taskID: taskID, fence: fence)
        guard let attempt = attempts[key] else { return [] }
        attempts[key]?.runnerActive = false
        switch attempt.phase {
        case .running:
            let command: Command
            switch outcome {
            case .succeeded(let result, let counters):
                command = .completeTask(taskID: taskID, fence: fence, result: result, counters: counters, nowMs: nowMs)
            case .failed(let message):
                command = .failTask(taskID: taskID, fence: fence, error: Self.clip(message), nowMs: nowMs)
            case .launched(let launch):
                command = .launchJob(taskID: taskID, fence: fence, job: launch.job, jobsQueue: launch.jobsQueue, nowMs: nowMs)
            }
            return [report(command, for: key, nowMs: nowMs)]
        case .abandoned:
            attempts[key] = nil
            return []
        case .reporting:
            // Already reported (deadline, job cancel): the runner's late outcome is dropped.
            return []
        }
    }

    static func clip(_ message: String) -> String {
        guard message.utf8.count > errorBytesMax else { return message.isEmpty ? "failed" : message }
        var cut = message.utf8.prefix(errorBytesMax)
        while String(cut) == nil { cut = cut.dropLast() }
        return String(cut) ?? "failed"
    }
}
