import API
import Foundation
import Hummingbird

/// Long polls: `GET …?waitIndex=N&wait=30s` on a task, a queue, a queue's tasks, the queue
/// list, a job or the job list answers as soon as what it reads changed after log index `N`
/// (as this node applies it), or when `wait` runs out (then with the unchanged resource). The
/// answer's `X-Trireme-Index` is the index to pass next time. A wake-up says "look again", not
/// "it differs": a list wakes on any change in its queue, and a node that restarted since `N`
/// answers at once (see `ChangeTracker`).
extension NodeAPI {
    /// The longest `wait` accepted; the default when only `waitIndex` is given.
    static let watchWaitMax = Duration.seconds(60)
    static let watchWaitDefault = Duration.seconds(30)

    /// Waits as described above when the request asks to; returns at once otherwise.
    func watch(_ request: Request, keys: [String]) async throws {
        guard let (index, wait) = try Self.watchParameters(request) else { return }
        let keys = keys + [ApplyObserver.anyKey]
        guard core.changes.modifiedIndex(keys) <= index else { return }
        await core.changes.wait(for: keys, after: index, timeout: wait)
    }

    /// nil without `waitIndex`; 400 for a malformed one, for `wait` alone, or for a `wait` that
    /// is not a positive duration of at most 60 s (`500ms`, `30s`, `1m`).
    static func watchParameters(_ request: Request) throws(APIError) -> (index: UInt64, wait: Duration)? {
        let waitText = request.uri.queryParameters["wait"].map(String.init)
        guard let indexText = request.uri.queryParameters["waitIndex"].map(String.init) else {
            if waitText != nil { throw APIError(.invalidArgument, "wait needs waitIndex", field: "wait") }
            return nil
        }
        guard let index = UInt64(indexText) else {
            throw APIError(.invalidArgument, "waitIndex must be a log index (a non-negative integer)", field: "waitIndex")
        }
        guard let waitText else { return (index, watchWaitDefault) }
        guard let wait = parseWait(waitText), wait > .zero, wait <= watchWaitMax else {
            throw APIError(.invalidArgument, "wait must be a duration like 500ms, 30s or 1m, at most 60s", field: "wait")
        }
        return (index, wait)
    }

    /// A task changes with its own commands and with whole-queue ones (purge, delete).
    static func taskWatchKeys(queue: String, id: String) -> [String] { ["t:\(id)", "qx:\(queue)"] }

    static func parseWait(_ text: String) -> Duration? {
        let units: [(suffix: String, ms: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.count <= 9, number.allSatisfy(\.isASCII), let value = Int64(number), value >= 0 else {
                return nil
            }
            return .milliseconds(value * unit.ms)
        }
        return nil
    }
}
