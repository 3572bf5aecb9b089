import Foundation
import Testing
@testable import Store

/// A fresh store in a unique temporary directory, removed by `cleanup()`.
final class TempStore {
    let directory: URL
    let store: StateStore
    private var nextIndex: UInt64 = 1

    init(name: String = "state.db") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try StateStore(path: directory.appendingPathComponent(name).path)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Applies a command at the next log index and returns its outcome.
    @discardableResult
    func apply(_ command: Command) throws -> ApplyOutcome {
        let index = max(nextIndex, store.appliedIndex + 1)
        nextIndex = index + 1
        return try store.apply(index: index, term: 1, data: command.encoded()).outcome
    }

    var lastIndex: UInt64 { store.appliedIndex }

    func cleanup() {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Builds a store, runs `body`, and always removes the files.
func withStore(_ body: (TempStore) throws -> Void) throws {
    let temp = try TempStore()
    defer { temp.cleanup() }
    try body(temp)
}

let t0: Milliseconds = 1_700_000_000_000

func queueSpec(_ name: String = "q", retry: RetryConfig = RetryConfig(), window: Milliseconds = 3_600_000) -> QueueSpec {
    QueueSpec(name: name, retryConfig: retry, tombstoneWindowMs: window, nowMs: t0)
}

func taskSpec(_ id: String, queue: String = "q", name: String? = nil, at time: Milliseconds = t0, now: Milliseconds = t0,
              payload: String = "p", key: String? = nil, job: String? = nil) -> TaskSpec {
    TaskSpec(id: id, queue: queue, name: name, jobID: job, kind: "http", payload: Data(payload.utf8),
             scheduleTimeMs: time, nowMs: now, idempotencyKey: key)
}
