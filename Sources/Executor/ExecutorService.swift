import Store
import Synchronization

/// Sends an executor's commands through the log (to the leader). Fire and forget: the
/// executor sees the effect, or its absence, in the applied state and retries reports.
public protocol CommandProposer: Sendable {
    func propose(_ command: Command)
}

/// This node's wall clock in Unix milliseconds (the node's, or a fake in tests).
public protocol ExecutorClock: Sendable {
    func nowMs() -> Milliseconds
}

/// Runs the attempts `ExecutorCore` decides on. The node:
/// - runs `run()` as a long-lived service (it returns when its task is cancelled, after
///   every attempt stopped);
/// - calls `applied(_:)` after each apply batch, on the thread that owns the store, with
///   `ExecutorView(store:executorID:)`;
/// - calls `tick()` from a timer (every 50–100 ms).
/// Commands go out through the `CommandProposer` as they are decided, from the calling thread.
public final class ExecutorService: Sendable {
    let core: Mutex<ExecutorCore>
    let runner: any TaskRunner
    let proposer: any CommandProposer
    let clock: any ExecutorClock
    let events: AsyncStream<Event>
    let eventSink: AsyncStream<Event>.Continuation

    enum Event: Sendable {
        case start(TaskRecord, fence: UInt64)
        case cancel(ExecutorCore.AttemptKey)
        case ended(ExecutorCore.AttemptKey)
    }

    public init(config: ExecutorConfig, runner: any TaskRunner, proposer: any CommandProposer, clock: any ExecutorClock) {
        core = Mutex(ExecutorCore(config: config))
        self.runner = runner
        self.proposer = proposer
        self.clock = clock
        // Unbounded, but bounded in practice: at most a start and a cancel per leased task
        // and an end per attempt, and the loop drains it without awaiting anything else.
        (events, eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    public func applied(_ view: ExecutorView) {
        let now = clock.nowMs()
        decide { $0.reconcile(view, nowMs: now) }
    }

    public func tick() {
        let now = clock.nowMs()
        decide { $0.tick(nowMs: now) }
    }

    /// Attempts whose runner has not returned.
    public var activeRunners: Int { core.withLock { $0.activeRunners } }

    /// Runs one core step. Start and cancel events are queued under the lock, so the run
    /// loop sees them in the order the core decided them (a cancel never overtakes its
    /// start); proposals go out after the lock is released.
    func decide(_ step: (inout ExecutorCore) -> [ExecutorAction]) {
        let proposals = core.withLock { core -> [Command] in
            var proposals: [Command] = []
            for action in step(&core) {
                switch action {
                case .propose(let command): proposals.append(command)
                case .start(let task, let fence): eventSink.yield(.start(task, fence: fence))
                case .cancel(let taskID, let fence): eventSink.yield(.cancel(.init(taskID: taskID, fence: fence)))
                }
            }
            return proposals
        }
        for command in proposals { proposer.propose(command) }
    }

    /// Owns every running attempt in one task group; no attempt outlives it.
    public func run() async {
        await withDiscardingTaskGroup { group in
            var signals: [ExecutorCore.AttemptKey: AttemptSignal] = [:]
            for await event in events {
                switch event {
                case .start(let task, let fence):
                    let key = ExecutorCore.AttemptKey(taskID: task.id, fence: fence)
                    let signal = AttemptSignal()
                    signals[key] = signal
                    group.addTask { [runner] in
                        let outcome = await Self.runAttempt(task, runner: runner, signal: signal)
                        let now = self.clock.nowMs()
                        self.decide { $0.finished(taskID: key.taskID, fence: key.fence, outcome: outcome, nowMs: now) }
                        self.eventSink.yield(.ended(key))
                    }
                case .cancel(let key):
                    signals[key]?.cancel()
                case .ended(let key):
                    signals[key] = nil
                }
            }
            // Our task was cancelled (shutdown): stop every attempt; the group waits for them.
            group.cancelAll()
        }
    }

    /// Runs one attempt until it returns or its signal fires; then cancels the runner and
    /// waits for it to unwind (cooperative cancellation: no attempt is left behind).
    static func runAttempt(_ task: TaskRecord, runner: any TaskRunner, signal: AttemptSignal) async -> TaskOutcome {
        await withTaskGroup(of: TaskOutcome?.self) { group in
            group.addTask { await runner.run(task) }
            group.addTask {
                await signal.wait()
                return nil
            }
            var outcome: TaskOutcome?
            while let next = await group.next() {
                group.cancelAll()
                if let next, outcome == nil { outcome = next }
            }
            return outcome ?? .failed("cancelled")
        }
    }
}

/// A one-shot cancellation signal for one attempt. `wait()` returns once `cancel()` was
/// called or the waiting task is cancelled.
final class AttemptSignal: Sendable {
    private struct State {
        var fired = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func cancel() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            cancel()
        }
    }
}
