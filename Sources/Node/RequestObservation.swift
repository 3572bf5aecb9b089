import API
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// One HTTP request's id and the lowest store index its reads reflected, reachable from the
/// handler's task (a task local) without threading them through every function.
final class RequestScope: Sendable {
    @TaskLocal static var current: RequestScope?

    let id: String
    private let reflected = Mutex<UInt64?>(nil)

    init(id: String) { self.id = id }

    /// A read saw the store at `index`. With several reads the lowest wins: the header must
    /// never claim more than the whole answer reflects (a watcher would miss a change).
    func noteRead(at index: UInt64) {
        reflected.withLock { $0 = min($0 ?? index, index) }
    }

    var reflectedIndex: UInt64? { reflected.withLock { $0 } }

    /// The client's id when it is short and plain (so it cannot forge log lines), else a new one.
    static func id(from given: String?) -> String {
        if let given, (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                                   || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) {
            return given
        }
        // Not `UUID()`: Foundation on Linux reads /dev/urandom through a fresh file descriptor
        // for every one, a measurable cost at thousands of requests a second.
        return TimeOrderedID.make(nowMs: HTTPSupport.nowMs())
    }
}

/// The outermost middleware: gives each request an id (`X-Request-Id`, the client's own when it
/// sent a sane one), stamps `X-Trireme-Index` on every answer, counts requests by route
/// template, method and status, times them, and logs one line per request (debug; 5xx at
/// warning) with the request id (and, through `LogContext`, node and term). Never logs bodies
/// or headers.
struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: NodeMetrics
    let changes: ChangeTracker
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let scope = RequestScope(id: RequestScope.id(from: request.headers[.requestID]))
        let started = ContinuousClock.now
        // A lower bound for answers that read nothing: what was applied before we began.
        let indexAtStart = changes.appliedIndex
        let outcome: Result<Response, any Error>
        do {
            outcome = .success(try await RequestScope.$current.withValue(scope) { try await next(request, context) })
        } catch {
            outcome = .failure(error)
        }
        // The route template, not the path: ids would make unbounded label sets.
        let route = context.endpointPath ?? "unmatched"
        let status = (try? outcome.get().status.code) ?? ((outcome.failure as? any HTTPResponseError)?.status.code ?? 500)
        Self.record(metrics: metrics, logger: logger, route: route, method: request.method, status: status, started: started,
                    requestID: scope.id)
        var response = try outcome.get()
        response.headers[.requestID] = scope.id
        let written = response.headers[.raftIndex].flatMap { UInt64($0) }
        response.headers[.triremeIndex] = String(written ?? scope.reflectedIndex ?? indexAtStart)
        return response
    }

    /// Counts and times one answered request, and logs its line (also for `CreateFastPath`).
    static func record(metrics: NodeMetrics, logger: Logger, route: String, method: HTTPRequest.Method, status: Int,
                       started: ContinuousClock.Instant, requestID: String) {
        metrics.httpRequest(route: route, method: method.rawValue, status: status, duration: ContinuousClock.now - started)
        let level: Logger.Level = status >= 500 ? .warning : .debug
        if logger.logLevel <= level {
            // Only for a line that is written: setting metadata re-renders the handler's.
            var log = logger
            log[metadataKey: "request"] = "\(requestID)"
            log.log(level: level, "\(method.rawValue) \(route) \(status)", metadata: ["ms": "\((ContinuousClock.now - started).milliseconds)"])
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
