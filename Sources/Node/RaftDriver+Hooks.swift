import Raft

/// Extension points of the driver loop, called ON THE DRIVER THREAD: they may read the machine
/// (SQLite) but must never block on anything else (no locks held by other threads for long,
/// no network, no waiting on async work). Keeps the driver generic: the scheduler and the
/// executor plug in here (`NodeScheduling`) without the driver knowing them.
struct DriverHooks<Machine: ReplicatedStateMachine>: Sendable {
    /// Proposes on the driver thread at once (no trip through the inbox); the handlers are
    /// called on the driver thread too.
    typealias ProposeNow = (
        _ data: [UInt8],
        _ onApplied: @escaping RaftDriver<Machine>.AppliedHandler,
        _ onFailed: @escaping RaftDriver<Machine>.FailedHandler
    ) -> Void

    /// After each batch of committed entries has been applied.
    var afterApply: @Sendable (Machine) -> Void
    /// Once per loop turn in which ticks fell due, before that turn's effects are drained,
    /// with the core's current status. The hook may keep `ProposeNow` and call it again later,
    /// but ONLY on the driver thread (from `afterApply`, say): proposing between two effect
    /// batches is fine for the core, which persists whatever it appended in its next batch.
    var onTick: @Sendable (Machine, RaftStatus, @escaping ProposeNow) -> Void

    init(afterApply: @escaping @Sendable (Machine) -> Void = { _ in },
         onTick: @escaping @Sendable (Machine, RaftStatus, @escaping ProposeNow) -> Void = { _, _, _ in }) {
        self.afterApply = afterApply
        self.onTick = onTick
    }
}
