import Store

/// The leader's scheduler as a value: no clock, no I/O, no threads. The node builds one when
/// it becomes leader (after applying its whole committed log), calls `plan` every tick and
/// proposes what it returns, and tells it what became of those proposals (`noteApplied`,
/// `noteDropped`). It drops the value the moment it loses leadership: everything the next
/// leader needs is in the replicated state, except the token buckets (rebuilt full) and the
/// in-flight set (rebuilt empty; apply refuses a second lease or a second fire of a slot).
public struct SchedulerCore: Sendable {
    public let config: SchedulerConfig
    /// Per-queue dispatch budgets, created full on first sight of a queue.
    var buckets: [String: TokenBucket] = [:]
    /// Assignments proposed but not yet applied, by task id. They count against their queue's
    /// concurrency and their executor's slots, and their tasks are not offered again.
    var inFlightAssignments: [String: InFlightAssignment] = [:]
    /// Schedule fires proposed but not yet applied, by schedule id → expiry.
    var inFlightFires: [String: Milliseconds] = [:]
    /// An `expireLeases` proposed but not yet applied: expiry of that wait.
    var expireInFlightUntilMs: Milliseconds?
    var nextGarbageMs: Milliseconds?
    /// Rotates which queue goes first and which of equally loaded executors wins a tie.
    var queueCursor = 0
    var executorCursor = 0
    /// Next fire of each schedule, cached by the inputs it was computed from.
    var cronCache: [String: CronCacheEntry] = [:]

    struct InFlightAssignment: Sendable, Equatable {
        var queue: String
        var executorID: String
        var expiresAtMs: Milliseconds
    }

    public init(config: SchedulerConfig = SchedulerConfig()) {
        self.config = config
    }

    /// The commands to propose now, at most `maxAssignmentsPerPlan + maxScheduleFiresPerPlan + 2`:
    /// lease expiry first (it frees slots and requeues tasks), then due cron slots, then
    /// assignments within each queue's rate, burst and concurrency and the executors' free
    /// slots, then garbage collection when its period is up.
    public mutating func plan(nowMs: Milliseconds, state: some SchedulerState) throws(StoreError) -> [Command] {
        forgetStaleInFlight(nowMs: nowMs)
        var commands: [Command] = []
        if expireInFlightUntilMs == nil, try state.hasExpiredLeases(nowMs: nowMs) {
            commands.append(.expireLeases(nowMs: nowMs, limit: config.expireBatchLimit))
            expireInFlightUntilMs = nowMs + config.inFlightTimeoutMs
        }
        commands += try planScheduleFires(nowMs: nowMs, state: state)
        commands += try planAssignments(nowMs: nowMs, state: state)
        if config.garbageIntervalMs > 0 {
            if let next = nextGarbageMs, nowMs >= next {
                commands.append(.collectGarbage(nowMs: nowMs, limit: config.garbageLimit))
                nextGarbageMs = nowMs + config.garbageIntervalMs
            } else if nextGarbageMs == nil {
                // Not at once on becoming leader: a flapping leadership would collect every flap.
                nextGarbageMs = nowMs + config.garbageIntervalMs
            }
        }
        return commands
    }

    /// Call for every applied command while leader (any outcome, including rejections): it
    /// ends the in-flight wait of a proposal this scheduler made.
    public mutating func noteApplied(_ command: Command) {
        forget(command)
    }

    /// Call when a proposal this scheduler made will never apply (lost leadership, full
    /// proposal queue): its task or slot becomes eligible again at the next `plan`.
    public mutating func noteDropped(_ command: Command) {
        forget(command)
    }

    /// Number of proposals awaiting apply (for metrics and tests).
    public var inFlightCount: Int {
        inFlightAssignments.count + inFlightFires.count + (expireInFlightUntilMs == nil ? 0 : 1)
    }

    mutating func forget(_ command: Command) {
        switch command {
        case .assignTask(let taskID, _, _, _): inFlightAssignments[taskID] = nil
        case .expireLeases: expireInFlightUntilMs = nil
        case .recordScheduleFire(let scheduleID, _, _, _): inFlightFires[scheduleID] = nil
        default: break
        }
    }

    /// A proposal may vanish without a word (a leader that loses a minority entry): after
    /// `inFlightTimeoutMs` its effect no longer blocks anything.
    mutating func forgetStaleInFlight(nowMs: Milliseconds) {
        inFlightAssignments = inFlightAssignments.filter { $0.value.expiresAtMs > nowMs }
        inFlightFires = inFlightFires.filter { $0.value > nowMs }
        if let until = expireInFlightUntilMs, until <= nowMs { expireInFlightUntilMs = nil }
    }
}
