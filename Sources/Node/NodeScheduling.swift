import Executor
import Logging
import Raft
import Scheduler
import Store

/// The leader's scheduler and this node's executor, plugged into the driver loop.
///
/// The leader plans on every tick (time-driven work: tasks falling due, lease expiry, cron)
/// AND right after every apply batch (event-driven: a create or a report that just applied
/// may have queued a task or freed a slot), so a freed slot is refilled within the same
/// driver turn instead of waiting up to a tick.
///
/// Thread-safety: every stored `var` is touched only on the driver thread (the hooks and the
/// proposal handlers the driver calls there), which is what makes `@unchecked Sendable` safe.
final class NodeScheduling: @unchecked Sendable {
    let schedulerConfig: SchedulerConfig
    let executor: ExecutorService?
    let executorID: String
    /// Moves jobs between stages while leader (every `ticksPerJobs` plans).
    let jobs: JobCoordinator?
    /// Plan once every this many driver ticks (about every 10 ms), besides after every apply.
    let ticksPerPlan: Int
    private let logger: Logger

    private var scheduler: SchedulerCore?
    /// Bumped whenever the scheduler is dropped, so late handlers of an old reign are ignored.
    private var generation: UInt64 = 0
    private var leaderTerm: Term?
    /// The last log index when this reign began: once it is applied, so is everything any
    /// earlier leader committed (our own first entry of the term sits at or below it).
    private var readyIndex: UInt64 = 0
    private var tickCount = 0
    /// The driver's propose-now, kept from `onTick` while leader so `afterApply` (also on the
    /// driver thread) can propose what it plans. Nil while not leading. (It holds the driver:
    /// a cycle through the driver's hooks, which live as long as the node anyway.)
    private var proposeNow: DriverHooks<StoreMachine>.ProposeNow?
    /// The executor's view is rebuilt (every lease of this node, payloads and all) after a
    /// batch that granted it a lease, and otherwise at most once per `viewInterval` (a batch
    /// inside the interval leaves it to the next tick or batch after it: a lost lease is
    /// noticed a few milliseconds later). Under load batches come every fraction of a
    /// millisecond, and a rebuild per batch was a tenth of the leader's driver thread.
    static let viewInterval = Duration.milliseconds(2)
    private var lastView: ContinuousClock.Instant?
    private var viewStale = false

    init(schedulerConfig: SchedulerConfig = SchedulerConfig(), executor: ExecutorService?, executorID: String, tickMs: Int, logger: Logger,
         jobs: JobCoordinator? = nil) {
        self.schedulerConfig = schedulerConfig
        self.jobs = jobs
        self.executor = executor
        self.executorID = executorID
        self.ticksPerPlan = max(1, 10 / max(tickMs, 1))
        self.logger = logger
    }

    var hooks: DriverHooks<StoreMachine> {
        DriverHooks(afterApply: { [self] machine in
                        afterApply(machine.store, grantedHere: machine.lastBatchGrants.map { $0.contains(executorID) } ?? true)
                    },
                    onTick: { [self] machine, status, propose in onTick(machine.store, status: status, propose: propose) })
    }

    /// `grantedHere`: the batch gave this node's executor a lease, whose start must not wait.
    func afterApply(_ store: StateStore, grantedHere: Bool = true) {
        refreshExecutorView(store, force: grantedHere)
        // Only once this reign's scheduler exists: it is created by a tick that found the whole
        // committed log of earlier leaders applied. Later entries not yet applied are this
        // reign's own proposals, which the in-flight sets already account for.
        if scheduler != nil, let proposeNow { plan(store, propose: proposeNow) }
    }

    func onTick(_ store: StateStore, status: RaftStatus, propose: @escaping DriverHooks<StoreMachine>.ProposeNow) {
        if viewStale { refreshExecutorView(store, force: true) }
        guard status.role == .leader else {
            if leaderTerm != nil { dropScheduler() }
            return
        }
        if leaderTerm != status.term {
            dropScheduler()
            leaderTerm = status.term
            readyIndex = status.lastIndex.rawValue
        }
        // Plan only on the whole committed log: a half-applied state could offer a task twice.
        guard store.appliedIndex >= readyIndex, store.appliedIndex >= status.commit.rawValue else { return }
        tickCount &+= 1
        guard tickCount % ticksPerPlan == 0 else { return }
        proposeNow = propose
        plan(store, propose: propose)
        if tickCount % (ticksPerPlan * 10) == 0 { coordinateJobs(store, propose: propose) }
    }

    /// Hands this node's executor the leases it holds, unless the last view is younger than
    /// `viewInterval` (then the next tick does it).
    private func refreshExecutorView(_ store: StateStore, force: Bool) {
        guard let executor else { return }
        let now = ContinuousClock.now
        guard force || lastView.map({ $0.duration(to: now) >= Self.viewInterval }) ?? true else {
            viewStale = true
            return
        }
        lastView = now
        viewStale = false
        do {
            executor.applied(try ExecutorView(store: store, executorID: executorID))
        } catch {
            logger.error("executor view failed", metadata: ["error": "\(error)"])
        }
    }

    /// One scheduler step: plan and propose, on the driver thread.
    private func plan(_ store: StateStore, propose: DriverHooks<StoreMachine>.ProposeNow) {
        var core = scheduler ?? SchedulerCore(config: schedulerConfig)
        let commands: [Command]
        do {
            commands = try core.plan(nowMs: HTTPSupport.nowMs(), state: StoreSchedulerState(store: store))
        } catch {
            scheduler = core
            logger.error("scheduler plan failed", metadata: ["error": "\(error)"])
            return
        }
        scheduler = core
        let reign = generation
        for command in commands {
            propose(command.encoded(), { [self] _, _, _ in
                if generation == reign { scheduler?.noteApplied(command) }
            }, { [self] _ in
                if generation == reign { scheduler?.noteDropped(command) }
            })
        }
    }

    /// About every 100 ms: jobs move on from their tasks' states (`JobCoordinator`).
    private func coordinateJobs(_ store: StateStore, propose: DriverHooks<StoreMachine>.ProposeNow) {
        jobs?.tick(store: store, nowMs: HTTPSupport.nowMs()) { command, applied, dropped in
            propose(command.encoded(), { _, _, outcome in applied(outcome) }, { _ in dropped() })
        }
    }

    private func dropScheduler() {
        jobs?.reset()
        scheduler = nil
        proposeNow = nil
        leaderTerm = nil
        generation &+= 1
    }
}
