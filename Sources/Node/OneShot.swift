import Synchronization

/// A continuation that may be resumed from several places (a completion and a timeout); the
/// first resume wins and later ones are ignored.
final class OneShot<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    private init(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation = Mutex(continuation)
    }

    /// Calls `start` with a resume function and waits for the first value passed to it.
    static func wait(_ start: (@escaping @Sendable (T) -> Void) -> Void) async -> T {
        await withCheckedContinuation { continuation in
            let shot = OneShot(continuation)
            start { value in shot.resume(value) }
        }
    }

    private func resume(_ value: T) {
        let taken = continuation.withLock { current -> CheckedContinuation<T, Never>? in
            defer { current = nil }
            return current
        }
        taken?.resume(returning: value)
    }
}
