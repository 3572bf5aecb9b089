import Store

/// Tunables of the leader's scheduler. Times are milliseconds of the leader's clock.
public struct SchedulerConfig: Sendable, Equatable {
    /// A new lease runs until now + this; executors renew it every third of it.
    public var leaseDurationMs: Milliseconds
    /// An executor whose last heartbeat is older than this gets no new work.
    public var executorLivenessMs: Milliseconds
    /// A proposed command not seen applied (nor reported dropped) after this is forgotten,
    /// and its task may be assigned again (apply refuses a second lease anyway).
    public var inFlightTimeoutMs: Milliseconds
    /// Bounds on one `plan` call's output.
    public var maxAssignmentsPerPlan: Int
    public var maxScheduleFiresPerPlan: Int
    /// `limit` of each `expireLeases` command.
    public var expireBatchLimit: Int
    /// `collectGarbage` every this often (0: never), removing at most `garbageLimit` of each kind.
    public var garbageIntervalMs: Milliseconds
    public var garbageLimit: Int

    public init(
        leaseDurationMs: Milliseconds = 10_000, executorLivenessMs: Milliseconds = 10_000, inFlightTimeoutMs: Milliseconds = 5_000,
        maxAssignmentsPerPlan: Int = 256, maxScheduleFiresPerPlan: Int = 64, expireBatchLimit: Int = 256,
        garbageIntervalMs: Milliseconds = 60_000, garbageLimit: Int = 1_000
    ) {
        precondition(leaseDurationMs > 0 && executorLivenessMs > 0 && inFlightTimeoutMs > 0, "durations must be positive")
        precondition(maxAssignmentsPerPlan > 0 && maxScheduleFiresPerPlan > 0 && expireBatchLimit > 0 && garbageLimit > 0,
                     "batch bounds must be positive")
        self.leaseDurationMs = leaseDurationMs
        self.executorLivenessMs = executorLivenessMs
        self.inFlightTimeoutMs = inFlightTimeoutMs
        self.maxAssignmentsPerPlan = maxAssignmentsPerPlan
        self.maxScheduleFiresPerPlan = maxScheduleFiresPerPlan
        self.expireBatchLimit = expireBatchLimit
        self.garbageIntervalMs = garbageIntervalMs
        self.garbageLimit = garbageLimit
    }
}
