import Foundation

/// Static validation: everything that can be decided from the command alone. Run by the
/// proposer before proposing. State-dependent checks (unknown queue, duplicate name, stale
/// fence) happen in apply, deterministically, and become `Rejection`s.
extension Command {
    public func validate(limits: CommandLimits = CommandLimits()) throws(CommandError) {
        let check = Validator(limits: limits)
        switch self {
        case .createQueue(let spec), .updateQueue(let spec):
            try check.queue(spec)
        case .deleteQueue(let name, let now), .purgeQueue(let name, let now):
            try check.queueName(name)
            try check.time("nowMs", now)
        case .pauseQueue(let name), .resumeQueue(let name), .disableQueue(let name):
            try check.queueName(name)
        case .createTask(let spec):
            try check.task(spec)
        case .deleteTask(let id, let now), .cancelTask(let id, let now), .runTask(let id, let now),
             .redriveDeadTask(let id, let now):
            try check.identifier("taskID", id)
            try check.time("nowMs", now)
        case .assignTask(let id, let executor, let leaseUntil, let now):
            try check.identifier("taskID", id)
            try check.identifier("executorID", executor)
            try check.time("nowMs", now)
            guard leaseUntil > now else { throw .invalidValue(field: "leaseUntilMs") }
        case .startTask(let id, _, let now), .failTask(let id, _, _, let now):
            try check.identifier("taskID", id)
            try check.time("nowMs", now)
            if case .failTask(_, _, let error, _) = self, error.utf8.count > limits.errorBytesMax {
                throw .invalidValue(field: "error")
            }
        case .renewLeases(let executor, let leases, let leaseUntil, let now):
            try check.identifier("executorID", executor)
            try check.time("nowMs", now)
            guard leaseUntil > now else { throw .invalidValue(field: "leaseUntilMs") }
            guard leases.count <= 100_000 else { throw .invalidValue(field: "leases") }
            for lease in leases { try check.identifier("taskID", lease.taskID) }
        case .completeTask(let id, _, let result, let counters, let now):
            try check.identifier("taskID", id)
            try check.time("nowMs", now)
            try check.payload(result)
            try check.counters(counters)
        case .expireLeases(let now, let limit), .collectGarbage(let now, let limit):
            try check.time("nowMs", now)
            guard (1...100_000).contains(limit) else { throw .invalidValue(field: "limit") }
        case .createJob(let spec):
            try check.job(spec)
        case .updateJobProgress(let id, let counters, let now):
            try check.identifier("jobID", id)
            try check.time("nowMs", now)
            try check.counters(counters)
        case .cancelJob(let id, let now), .finishJob(let id, _, _, let now):
            try check.identifier("jobID", id)
            try check.time("nowMs", now)
        case .launchJob(let id, _, let job, let queue, let now):
            try check.identifier("taskID", id)
            try check.job(job)
            try check.queue(queue)
            try check.time("nowMs", now)
        case .putJobPreset(let spec):
            try check.identifier("preset", spec.name)
            try check.identifier("template", spec.template)
            try check.time("nowMs", spec.nowMs)
            guard spec.parameters.utf8.count <= limits.payloadBytesMax else {
                throw .payloadTooLarge(bytes: spec.parameters.utf8.count, limit: limits.payloadBytesMax)
            }
        case .deleteJobPreset(let name):
            try check.identifier("preset", name)
        case .registerExecutor(let id, let node, let slots, let now):
            try check.identifier("executorID", id)
            // `@…` names lease holders that are not executors (`StateStore.jobLeaseHolder`).
            guard !id.hasPrefix("@") else { throw .invalidIdentifier(field: "executorID", value: String(id.prefix(100))) }
            try check.identifier("node", node)
            try check.time("nowMs", now)
            guard (1...10_000).contains(slots) else { throw .invalidValue(field: "slots") }
        case .executorHeartbeat(let id, let now):
            try check.identifier("executorID", id)
            try check.time("nowMs", now)
        case .createSchedule(let spec), .updateSchedule(let spec):
            try check.schedule(spec)
        case .deleteSchedule(let id):
            try check.identifier("scheduleID", id)
        case .recordScheduleFire(let id, let fireTime, let taskID, let now):
            try check.identifier("scheduleID", id)
            try check.identifier("taskID", taskID)
            try check.time("fireTimeMs", fireTime)
            try check.time("nowMs", now)
        }
    }
}

struct Validator {
    let limits: CommandLimits

    /// Queue names as in Cloud Tasks: 1–100 of [A-Za-z0-9_-].
    func queueName(_ name: String) throws(CommandError) {
        let ok = !name.isEmpty && name.utf8.count <= 100 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
        guard ok else { throw .invalidIdentifier(field: "queue", value: String(name.prefix(100))) }
    }

    /// Ids and names: non-empty, bounded, printable, no '/' (they appear in URLs).
    func identifier(_ field: String, _ value: String) throws(CommandError) {
        let ok = !value.isEmpty && value.utf8.count <= limits.identifierBytesMax && value.unicodeScalars.allSatisfy { scalar in
            // Printable ASCII other than space and '/' is decided without the Unicode tables.
            if (0x21...0x7E).contains(scalar.value) { return scalar != "/" }
            return !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control
                && scalar.properties.generalCategory != .format
        }
        guard ok else { throw .invalidIdentifier(field: field, value: String(value.prefix(100))) }
    }

    func time(_ field: String, _ value: Milliseconds) throws(CommandError) {
        // Up to year 9999: far enough, and far from Int64 overflow when adding durations.
        guard (0...253_402_300_799_999).contains(value) else { throw .invalidValue(field: field) }
    }

    func payload(_ data: Data) throws(CommandError) {
        guard data.count <= limits.payloadBytesMax else {
            throw .payloadTooLarge(bytes: data.count, limit: limits.payloadBytesMax)
        }
    }

    func counters(_ counters: [String: Int64]) throws(CommandError) {
        guard counters.count <= 1_000 else { throw .invalidValue(field: "counters") }
        for name in counters.keys { try identifier("counter", name) }
    }

    func queue(_ spec: QueueSpec) throws(CommandError) {
        try queueName(spec.name)
        try time("nowMs", spec.nowMs)
        let rate = spec.rateLimits
        guard rate.maxDispatchesPerSecond.isFinite, rate.maxDispatchesPerSecond > 0, rate.maxDispatchesPerSecond <= 100_000 else {
            throw .invalidRateLimits(field: "maxDispatchesPerSecond")
        }
        guard (1...100_000).contains(rate.maxBurstSize) else { throw .invalidRateLimits(field: "maxBurstSize") }
        guard (1...1_000_000).contains(rate.maxConcurrentDispatches) else { throw .invalidRateLimits(field: "maxConcurrentDispatches") }
        let retry = spec.retryConfig
        let thirtyDaysMs: Milliseconds = 30 * 86_400_000
        guard retry.maxAttempts == -1 || (1...10_000).contains(retry.maxAttempts) else { throw .invalidRetryConfig(field: "maxAttempts") }
        guard (0...thirtyDaysMs).contains(retry.minBackoffMs) else { throw .invalidRetryConfig(field: "minBackoffMs") }
        guard (retry.minBackoffMs...thirtyDaysMs).contains(retry.maxBackoffMs) else { throw .invalidRetryConfig(field: "maxBackoffMs") }
        guard (0...30).contains(retry.maxDoublings) else { throw .invalidRetryConfig(field: "maxDoublings") }
        guard (0...(10 * 365 * 86_400_000)).contains(retry.maxRetryDurationMs) else { throw .invalidRetryConfig(field: "maxRetryDurationMs") }
        guard (0...thirtyDaysMs).contains(spec.tombstoneWindowMs) else { throw .invalidValue(field: "tombstoneWindowMs") }
    }

    func task(_ spec: TaskSpec) throws(CommandError) {
        try identifier("taskID", spec.id)
        try queueName(spec.queue)
        if let name = spec.name { try identifier("name", name) }
        if let job = spec.jobID { try identifier("jobID", job) }
        if let key = spec.idempotencyKey { try identifier("idempotencyKey", key) }
        try identifier("kind", spec.kind)
        try payload(spec.payload)
        try time("scheduleTimeMs", spec.scheduleTimeMs)
        try time("nowMs", spec.nowMs)
        guard (1...86_400_000).contains(spec.dispatchDeadlineMs) else { throw .invalidValue(field: "dispatchDeadlineMs") }
    }

    func job(_ spec: JobSpec) throws(CommandError) {
        try identifier("jobID", spec.id)
        try identifier("template", spec.template)
        try time("nowMs", spec.nowMs)
        if let key = spec.idempotencyKey { try identifier("idempotencyKey", key) }
        guard spec.parameters.utf8.count <= limits.payloadBytesMax else {
            throw .payloadTooLarge(bytes: spec.parameters.utf8.count, limit: limits.payloadBytesMax)
        }
        guard spec.tasks.count <= 10_000 else { throw .invalidValue(field: "tasks") }
        for task in spec.tasks {
            try self.task(task)
            guard task.jobID == nil || task.jobID == spec.id else { throw .invalidValue(field: "tasks.jobID") }
            guard task.idempotencyKey == nil else { throw .invalidValue(field: "tasks.idempotencyKey") }
        }
    }

    func schedule(_ spec: ScheduleSpec) throws(CommandError) {
        try identifier("scheduleID", spec.id)
        try queueName(spec.queue)
        try identifier("kind", spec.kind)
        try payload(spec.payload)
        try time("nowMs", spec.nowMs)
        _ = try CronExpression(parsing: spec.cron)
        guard TimeZone(identifier: spec.timeZone) != nil else { throw .invalidTimeZone(spec.timeZone) }
    }
}
