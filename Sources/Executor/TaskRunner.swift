import Foundation
import Store

/// Runs one attempt of a task. Must stop cooperatively when its Swift task is cancelled
/// (lease lost, job cancelled, deadline, shutdown) and then return promptly; the outcome of a
/// cancelled attempt is ignored. Never throws: every failure is an outcome.
public protocol TaskRunner: Sendable {
    func run(_ task: TaskRecord) async -> TaskOutcome
}

/// Routes each task to the runner of its kind; an unknown kind fails the attempt (and so,
/// after its retries, the task) instead of leaving it leased.
public struct KindRouter: TaskRunner {
    public var runners: [String: any TaskRunner]

    public init(_ runners: [String: any TaskRunner]) {
        self.runners = runners
    }

    /// The standard kinds: `http`, `preprocess`, and `sleep`/`fail` only when test kinds are
    /// enabled in the node config.
    public static func standard(http: HTTPTaskRunner, preprocess: PreprocessTaskRunner, job: JobTaskRunner? = nil,
                                testKindsEnabled: Bool) -> KindRouter {
        var runners: [String: any TaskRunner] = ["http": http, "preprocess": preprocess]
        if let job { runners[JobTaskRunner.kind] = job }
        if testKindsEnabled {
            runners["sleep"] = TestKindRunner(kind: .sleep)
            runners["fail"] = TestKindRunner(kind: .fail)
        }
        return KindRouter(runners)
    }

    public func run(_ task: TaskRecord) async -> TaskOutcome {
        guard let runner = runners[task.kind] else { return .failed("unsupported task kind '\(task.kind.prefix(100))'") }
        return await runner.run(task)
    }
}

/// Test and chaos kinds, enabled only by a config flag.
/// - `sleep`: payload `{"ms": N}` (default 0): sleeps N ms, then succeeds with result `slept N ms`.
/// - `fail`: payload `{"message": "…", "untilAttempt": K}`: fails with the message, or, with
///   `untilAttempt`, fails attempts 1…K and succeeds from attempt K+1.
public struct TestKindRunner: TaskRunner {
    public enum Kind: Sendable { case sleep, fail }

    struct Payload: Decodable {
        var ms: Int64?
        var message: String?
        var untilAttempt: Int?
    }

    public let kind: Kind
    /// Injected so tests need not wait; the default is `Task.sleep` (throws on cancellation).
    let sleep: @Sendable (Duration) async throws -> Void

    public init(kind: Kind, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.kind = kind
        self.sleep = sleep
    }

    public func run(_ task: TaskRecord) async -> TaskOutcome {
        let payload: Payload
        if task.payload.isEmpty {
            payload = Payload()
        } else if let decoded = try? JSONDecoder().decode(Payload.self, from: task.payload) {
            payload = decoded
        } else {
            return .failed("\(kind) payload is not valid JSON")
        }
        switch kind {
        case .sleep:
            let ms = payload.ms ?? 0
            guard (0...86_400_000).contains(ms) else { return .failed("sleep ms out of range") }
            do {
                try await sleep(.milliseconds(ms))
            } catch {
                return .failed("cancelled")
            }
            return .succeeded(result: Data("slept \(ms) ms".utf8), counters: [:])
        case .fail:
            if let until = payload.untilAttempt, task.attempts > until {
                return .succeeded(result: Data("succeeded on attempt \(task.attempts)".utf8), counters: [:])
            }
            return .failed(payload.message ?? "failed on purpose")
        }
    }
}
