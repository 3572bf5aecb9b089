import Executor
import Logging
import Raft
import Scheduler
import Store

/// The leader's scheduler and this node's executor, plugged into the driver loop.
///
/// Thread-safety: every stored `var` is touched only on the driver thread (the hooks and the
/// proposal handlers the driver calls there), which is what makes `@unchecked Sendable` safe.
final class NodeScheduling: @unchecked Sendable {
    let schedulerConfig: SchedulerConfig
    let executor: ExecutorService?
    let executorID: String
    /// Moves jobs between stages while leader (every `ticksPerJobs` plans).
    let jobs: JobCoordinator?
    /// Plan once every this many driver ticks (about every 20 ms).
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

    init(schedulerConfig: SchedulerConfig, executor: ExecutorService?, executorID: String, tickMs: Int, logger: Logger,
         jobs: JobCoordinator? = nil) {
        self.schedulerConfig = schedulerConfig
        self.jobs = jobs
        self.executor = executor
        self.executorID = executorID
        self.ticksPerPlan = max(1, 20 / max(tickMs, 1))
        self.logger = logger
    }

    var hooks: DriverHooks<StoreMachine> {
        DriverHooks(afterApply: { [self] machine in afterApply(machine.store) },
                    onTick: { [self] machine, status, propose in onTick(machine.store, status: status, propose: propose) })
    }

    func afterApply(_ store: StateStore) {
        guard let executor else { return }
        do {
            executor.applied(try ExecutorView(store: store, executorID: executorID))
        } catch {
            logger.error("executor view failed", metadata: ["error": "\(error)"])
        }
    }

    func onTick(_ store: StateStore, status: RaftStatus, propose: DriverHooks<StoreMachine>.ProposeNow) {
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
        if tickCount % (ticksPerPlan * 5) == 0 { coordinateJobs(store, propose: propose) }
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
        leaderTerm = nil
        generation &+= 1
    }
}
