import Foundation
import Testing

/// `@Suite(.ownThreads)`: every test of the suite runs with its whole task tree on threads of
/// its own, never on Swift's cooperative pool.
///
/// Why: the pool has one thread per core, two on the CI machines, and every test in the process
/// shares it. A test that blocks a pool thread (a child process's pipe read to its end, a
/// blocking socket, a Python cross-check, a long synchronous reference computation in a debug
/// build) takes half the process with it; two at once stop every `await` in every other test.
/// That stalled the test process for ~30 s on a loaded 2-core VM, and five cluster tests
/// failed together with "no agreed leader within 30 s" while their clusters had long agreed,
/// and in-process node tests all ended at the same instant 30 s late. Suites that block or
/// compute for long run here instead, where the kernel shares the cores among threads and a
/// blocked thread blocks no one else; so do the cluster suites, whose bounded waits must not
/// depend on what the rest of the process is doing.
public struct OwnThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(OwnThreadsExecutor.shared) {
            try await function()
        }
    }
}

extension Trait where Self == OwnThreadsTrait {
    public static var ownThreads: Self { Self() }
}

/// Runs each job on a new thread: nothing queues behind a job that blocks. A thread costs tens
/// of microseconds, nothing next to what these tests do between two suspension points.
public final class OwnThreadsExecutor: TaskExecutor {
    public static let shared = OwnThreadsExecutor()

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        Thread.detachNewThread { job.runSynchronously(on: executor) }
    }
}
