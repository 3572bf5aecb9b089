import NIOCore
import Synchronization

/// A completion that may be called from several places (a result and a timeout); the first
/// call wins and later ones are ignored.
final class OneShot<T: Sendable>: Sendable {
    private let done: Mutex<(@Sendable (T) -> Void)?>

    private init(_ done: @escaping @Sendable (T) -> Void) {
        self.done = Mutex(done)
    }

    /// Calls `start` with a resume function and waits for the first value passed to it, or gives
    /// `timedOut` when nothing resumed within `timeout` (give or take the sweeper's interval).
    static func wait(timeout: TimeAmount, sweeper: DeadlineSweeper, timedOut: T,
                     _ start: (@escaping @Sendable (T) -> Void) -> Void) async -> T {
        await withCheckedContinuation { continuation in
            first(timeout: timeout, sweeper: sweeper, timedOut: timedOut, then: { continuation.resume(returning: $0) }, start)
        }
    }

    /// `wait` without a task: `then` runs exactly once, on the thread of the first resume (or
    /// the sweeper's event loop with `timedOut`). For callers on an event loop.
    static func first(timeout: TimeAmount, sweeper: DeadlineSweeper, timedOut: T, then: @escaping @Sendable (T) -> Void,
                      _ start: (@escaping @Sendable (T) -> Void) -> Void) {
        let shot = OneShot(then)
        let token = sweeper.add(deadline: .now() + timeout) { shot.resume(timedOut) }
        start { value in
            sweeper.remove(token)
            shot.resume(value)
        }
    }

    private func resume(_ value: T) {
        done.withLock { taken in
            defer { taken = nil }
            return taken
        }?(value)
    }
}

/// Fires the timeouts of waiting writes in bulk: one timer for all of them, checked every
/// `interval`, instead of one event-loop timer per write. A timer per write cost a schedule on
/// the request path and a cross-thread cancel on the Raft driver thread when the write
/// committed (each cancel wakes the event loop): at thousands of writes a second that was
/// about 3% of the machine. The timer runs only while something waits.
final class DeadlineSweeper: Sendable {
    private struct Entry {
        var deadline: NIODeadline
        var fire: @Sendable () -> Void
    }
    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var armed = false
    }
    private let eventLoop: any EventLoop
    private let interval: TimeAmount
    private let state = Mutex(State())

    init(eventLoop: any EventLoop, interval: TimeAmount = .milliseconds(20)) {
        self.eventLoop = eventLoop
        self.interval = interval
    }

    /// Registers `fire` to run once `deadline` has passed, unless `remove`d first.
    func add(deadline: NIODeadline, fire: @escaping @Sendable () -> Void) -> UInt64 {
        let (token, arm) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            state.entries[state.next] = Entry(deadline: deadline, fire: fire)
            defer { state.armed = true }
            return (state.next, !state.armed)
        }
        if arm { schedule() }
        return token
    }

    func remove(_ token: UInt64) {
        _ = state.withLock { state in state.entries.removeValue(forKey: token) }
    }

    /// Entries still waiting (for tests).
    var waiting: Int { state.withLock { $0.entries.count } }

    private func schedule() {
        eventLoop.scheduleTask(in: interval) { self.sweep() }
    }

    private func sweep() {
        let now = NIODeadline.now()
        let (due, rearm) = state.withLock { state -> ([@Sendable () -> Void], Bool) in
            let expired = state.entries.filter { $0.value.deadline <= now }
            for token in expired.keys { state.entries.removeValue(forKey: token) }
            state.armed = !state.entries.isEmpty
            return (expired.values.map(\.fire), state.armed)
        }
        if rearm { schedule() }
        for fire in due { fire() }
    }
}
