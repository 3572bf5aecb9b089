/// The checks over created tasks, their deliveries and the store's final state.
public enum TaskChecks {
    public struct Result: Sendable, Equatable {
        /// Keys of creates the cluster acknowledged (ok) that are missing from the final state.
        public var lostCreates: [String] = []
        /// Keys of creates every attempt of which was answered with a definite failure, yet the
        /// task exists (a "false failure": the write did commit).
        public var falseFailures: [String] = []
        /// Tasks in the final state that no create of the workload named.
        public var unexpected: [String] = []
        /// Creates with only unknown outcomes: how many turned out committed / never happened.
        public var unknownCommitted = 0
        public var unknownAbsent = 0
        /// Succeeded tasks whose accepted result names no delivery of that task, or a delivery of
        /// an attempt other than the task's last one (a completion accepted from a stale fence,
        /// which also means a second completion for the same task was accepted).
        public var staleCompletions: [String] = []
        /// Tasks whose attempt history holds more than one succeeded attempt: the store accepted
        /// a completion twice.
        public var doubleCompletions: [String] = []
        /// Queue states where the store's per-state count differs from the tasks it lists (a
        /// transition, such as a completion, applied twice or lost).
        public var countMismatches: [String] = []
        /// Tasks neither succeeded, dead nor cancelled after healing.
        public var stuck: [String] = []
        /// Tasks delivered more than once (at-least-once, allowed): task id → each delivery's
        /// attempt and, when the store's attempt history was read, that attempt's fence.
        public var redelivered: [String: [String]] = [:]
        public var acknowledged = 0
        public var succeeded = 0

        public var violations: Int {
            lostCreates.count + falseFailures.count + unexpected.count + staleCompletions.count + doubleCompletions.count
                + countMismatches.count + stuck.count
        }
    }

    public static func check(_ history: History, _ final: FinalState) -> Result {
        var result = Result()
        checkCreates(history, final, into: &result)
        checkCompletions(history, final, into: &result)
        result.stuck = final.tasks.filter { !FinalState.terminalStates.contains($0.state) }.map(\.id).sorted()
        return result
    }

    static func checkCreates(_ history: History, _ final: FinalState, into result: inout Result) {
        var outcomes: [String: Set<ClientOp.Outcome>] = [:]
        for op in history.operations where op.kind == .createTask {
            guard let key = op.key else { continue }
            outcomes[key, default: []].insert(op.outcome)
        }
        let present = Set(final.tasks.compactMap(\.name))
        for (key, seen) in outcomes {
            if seen.contains(.ok) {
                result.acknowledged += 1
                if !present.contains(key) { result.lostCreates.append(key) }
            } else if seen.contains(.unknown) {
                if present.contains(key) { result.unknownCommitted += 1 } else { result.unknownAbsent += 1 }
            } else if present.contains(key) {
                result.falseFailures.append(key)
            }
        }
        result.unexpected = final.tasks.filter { task in task.name.map { outcomes[$0] == nil } ?? true }.map(\.id)
        result.lostCreates.sort()
        result.falseFailures.sort()
        result.unexpected.sort()
    }

    static func checkCompletions(_ history: History, _ final: FinalState, into result: inout Result) {
        var deliveries: [Int64: Delivery] = [:]
        var attemptsByTask: [String: [Int]] = [:]
        for delivery in history.deliveries {
            deliveries[delivery.id] = delivery
            attemptsByTask[delivery.taskID, default: []].append(delivery.attempt)
        }
        var fences: [String: [Int: UInt64]] = [:]
        for task in final.tasks {
            for a in task.attemptHistory ?? [] { fences[task.id, default: [:]][a.attempt] = a.fence }
        }
        for (task, attempts) in attemptsByTask where attempts.count > 1 {
            result.redelivered[task] = attempts.sorted().map { a in fences[task]?[a].map { "attempt \(a) fence \($0)" } ?? "attempt \(a)" }
        }
        var listed: [String: Int] = [:]
        for task in final.tasks {
            listed[task.state, default: 0] += 1
            if (task.attemptHistory ?? []).filter({ $0.outcome == "succeeded" }).count > 1 {
                result.doubleCompletions.append(task.id)
            }
            guard task.state == "succeeded", task.kind == "http" else { continue }
            result.succeeded += 1
            guard let id = task.acceptedDelivery, let delivery = deliveries[id], delivery.taskID == task.id,
                  delivery.attempt == task.attempts else {
                result.staleCompletions.append(task.id)
                continue
            }
        }
        result.staleCompletions.sort()
        result.doubleCompletions.sort()
        for state in Set(listed.keys).union(final.queueStats.keys).sorted() {
            let stored = final.queueStats[state] ?? 0
            let seen = listed[state] ?? 0
            if stored != seen { result.countMismatches.append("\(state): store counts \(stored), lists \(seen)") }
        }
    }
}
