import Store

/// Assignment planning: which due tasks go to which executor this tick.
extension SchedulerCore {
    /// An executor that may take work, with its slots in use (store leases + in-flight grants).
    struct Candidate {
        var id: String
        var slots: Int
        var used: Int
        var free: Int { slots - used }
    }

    mutating func planAssignments(nowMs: Milliseconds, state: some SchedulerState) throws(StoreError) -> [Command] {
        var waitingByQueue: [String: Int] = [:]
        var waitingByExecutor: [String: Int] = [:]
        for grant in inFlightAssignments.values {
            waitingByQueue[grant.queue, default: 0] += 1
            waitingByExecutor[grant.executorID, default: 0] += 1
        }
        var candidates = try liveExecutors(nowMs: nowMs, waiting: waitingByExecutor, state: state)
        var freeSlots = candidates.reduce(0) { $0 + max($1.free, 0) }
        // Saturated: nothing to read. Buckets refill from their own timestamps next time.
        guard freeSlots > 0 else { return [] }
        let queues = try state.queues()
        let names = Set(queues.map(\.name))
        buckets = buckets.filter { names.contains($0.key) }
        guard !queues.isEmpty else { return [] }

        var commands: [Command] = []
        let start = queueCursor % queues.count
        queueCursor &+= 1
        for offset in 0..<queues.count {
            let queue = queues[(start + offset) % queues.count]
            var bucket = buckets[queue.name] ?? TokenBucket(limits: queue.rateLimits, nowMs: nowMs)
            bucket.refill(limits: queue.rateLimits, nowMs: nowMs)
            defer { buckets[queue.name] = bucket }
            // Paused and disabled queues dispatch nothing; their buckets still fill up to the burst.
            guard queue.state == .running else { continue }
            let waiting = waitingByQueue[queue.name] ?? 0
            let concurrencyRoom = queue.rateLimits.maxConcurrentDispatches - (try state.activeTaskCount(queue: queue.name)) - waiting
            let room = min(bucket.available, config.maxAssignmentsPerPlan - commands.count, freeSlots, concurrencyRoom)
            guard room > 0 else { continue }
            // Each grant below takes one from every bound that made `room`, so `room` grants fit them all.
            let due = try state.dueTasks(queue: queue.name, nowMs: nowMs, limit: room + waiting)
            let fresh = due.filter { inFlightAssignments[$0.id] == nil }.prefix(room)
            for task in fresh {
                guard let pick = pickExecutor(&candidates) else { break }
                let executorID = candidates[pick].id
                commands.append(.assignTask(taskID: task.id, executorID: executorID,
                                            leaseUntilMs: nowMs + config.leaseDurationMs, nowMs: nowMs))
                inFlightAssignments[task.id] = InFlightAssignment(
                    queue: queue.name, executorID: executorID, expiresAtMs: nowMs + config.inFlightTimeoutMs)
                candidates[pick].used += 1
                freeSlots -= 1
                bucket.take()
            }
            if freeSlots == 0 || commands.count >= config.maxAssignmentsPerPlan { break }
        }
        return commands
    }

    /// Executors heard from within the liveness window, with their load.
    func liveExecutors(nowMs: Milliseconds, waiting: [String: Int], state: some SchedulerState) throws(StoreError) -> [Candidate] {
        var candidates: [Candidate] = []
        for executor in try state.executors() where nowMs - executor.lastHeartbeatMs <= config.executorLivenessMs {
            let leased = try state.leaseCount(executorID: executor.id, limit: executor.slots)
            candidates.append(Candidate(id: executor.id, slots: executor.slots, used: leased + (waiting[executor.id] ?? 0)))
        }
        return candidates
    }

    /// The least loaded executor with a free slot (lowest share of its slots in use); among
    /// equals, the rotation decides, so equal executors take turns.
    mutating func pickExecutor(_ candidates: inout [Candidate]) -> Int? {
        guard !candidates.isEmpty else { return nil }
        var best: Int?
        let start = executorCursor % candidates.count
        for offset in 0..<candidates.count {
            let index = (start + offset) % candidates.count
            let candidate = candidates[index]
            guard candidate.free > 0 else { continue }
            guard let current = best else {
                best = index
                continue
            }
            // used/slots < current.used/current.slots, without division.
            if candidate.used * candidates[current].slots < candidates[current].used * candidate.slots { best = index }
        }
        executorCursor &+= 1
        return best
    }
}
