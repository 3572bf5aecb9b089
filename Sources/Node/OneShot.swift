import NIOCore
import Synchronization

/// A continuation that may be resumed from several places (a completion and a timeout); the
/// first resume wins and later ones are ignored.
final class OneShot<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var timer: Scheduled<Void>?
    }
    private let state: Mutex<State>

    private init(_ continuation: CheckedContinuation<T, Never>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Calls `start` with a resume function and waits for the first value passed to it, or gives
    /// `timedOut` when nothing resumed within `timeout`. A value that comes first cancels the
    /// timer. (A timer left to fire on its own stays in the event loop's
    /// task heap until then: one per write, at thousands of writes a second, made every other
    /// timer operation on that loop slow.)
    static func wait(timeout: TimeAmount, on eventLoop: any EventLoop, timedOut: T,
                     _ start: (@escaping @Sendable (T) -> Void) -> Void) async -> T {
        await withCheckedContinuation { continuation in
            let shot = OneShot(continuation)
            let timer = eventLoop.scheduleTask(in: timeout) { shot.resume(timedOut) }
            let resumed = shot.state.withLock { state -> Bool in
                guard state.continuation != nil else { return true }
                state.timer = timer
                return false
            }
            if resumed { timer.cancel() }
            start { value in shot.resume(value) }
        }
    }

    private func resume(_ value: T) {
        let (taken, timer) = state.withLock { state -> (CheckedContinuation<T, Never>?, Scheduled<Void>?) in
            defer { state = State() }
            return (state.continuation, state.timer)
        }
        timer?.cancel()
        taken?.resume(returning: value)
    }
}
