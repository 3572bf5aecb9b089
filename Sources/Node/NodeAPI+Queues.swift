import API
import Foundation
import Hummingbird
import Store

extension NodeAPI {
    func addQueueRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/queues") { request, context in
            try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await HTTPSupport.decode(QueueRequest.self, from: request, context: context,
                                                        fields: QueueRequest.fields, maxBytes: self.maxRequestBytes)
                guard let name = body.name else { throw APIError(.invalidArgument, "missing required field \"name\"", field: "name") }
                return .createQueue(Self.queueSpec(name: name, body, base: nil))
            }, fetch: { store, outcome in try Self.queueSnapshot(store, Self.createdID(outcome)) },
               render: { snapshot, _ in try Self.render(snapshot, status: .created) })
        }
        router.get("/v1/queues") { request, _ in
            let token = request.uri.queryParameters["pageToken"].map(String.init)
            let size = try Self.pageSize(request)
            try await self.watch(request, keys: [ApplyObserver.anyQueueKey])
            let (page, counts) = try await self.read(request) { store in
                (try store.listQueues(pageToken: token, pageSize: size), try store.allTaskCounts())
            }
            return HTTPSupport.json(QueueList(queues: page.items.map { Self.body($0, counts: counts[$0.name]) },
                                              nextPageToken: page.nextPageToken))
        }
        router.get("/v1/queues/:queue") { request, context in
            let name = try Self.plainName(context)
            try await self.watch(request, keys: ["q:\(name)"])
            return try await self.queueResponse(request, name: name, status: .ok)
        }
        router.patch("/v1/queues/:queue") { request, context in
            let name = try Self.plainName(context)
            return try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await HTTPSupport.decode(QueueRequest.self, from: request, context: context,
                                                        fields: QueueRequest.fields, maxBytes: self.maxRequestBytes)
                let current: QueueRecord?
                do {
                    current = try await self.read(request) { store in try store.queue(name) }
                } catch let error as APIError { throw error } catch { throw APIError(.unavailable, "\(error)") }
                guard let current else { throw APIError(.notFound, "no such queue") }
                return .updateQueue(Self.queueSpec(name: name, body, base: current))
            }, fetch: { store, _ in try Self.queueSnapshot(store, name) }, render: { snapshot, _ in try Self.render(snapshot, status: .ok) })
        }
        router.delete("/v1/queues/:queue") { request, context in
            let name = try Self.plainName(context)
            return try await self.write(request, context: context, build: { _, _ in
                .deleteQueue(name: name, nowMs: HTTPSupport.nowMs())
            })
        }
        router.post("/v1/queues/:queue") { request, context in
            let (name, verb) = try Self.nameAndVerb(context)
            let now = HTTPSupport.nowMs()
            let command: Command
            switch verb {
            case "pause": command = .pauseQueue(name: name)
            case "resume": command = .resumeQueue(name: name)
            case "purge": command = .purgeQueue(name: name, nowMs: now)
            default: throw APIError(.notFound, "unknown queue verb :\(verb) (pause, resume, purge)")
            }
            return try await self.write(request, context: context, build: { _, _ in command },
                                        fetch: { store, _ in try Self.queueSnapshot(store, name) },
                                        render: { snapshot, _ in try Self.render(snapshot, status: .ok) })
        }
    }

    func queueResponse(_ request: Request, name: String, status: HTTPResponse.Status) async throws -> Response {
        try Self.render(try await read(request) { store in try Self.queueSnapshot(store, name) }, status: status)
    }

    struct QueueSnapshot: Sendable {
        var record: QueueRecord?
        var counts: [TaskState: Int]
    }

    static func queueSnapshot(_ store: StateStore, _ name: String?) throws -> QueueSnapshot {
        guard let name, let record = try store.queue(name) else { return QueueSnapshot(record: nil, counts: [:]) }
        return QueueSnapshot(record: record, counts: try store.taskCounts(queue: name))
    }

    static func render(_ snapshot: QueueSnapshot, status: HTTPResponse.Status) throws -> Response {
        guard let record = snapshot.record else { throw APIError(.notFound, "no such queue") }
        return HTTPSupport.json(body(record, counts: snapshot.counts), status: status)
    }

    /// The id an applied create reports (also on an idempotent replay).
    static func createdID(_ outcome: ApplyOutcome) -> String? {
        if case .created(let id) = outcome { return id }
        return nil
    }

    static func queueSpec(name: String, _ body: QueueRequest, base: QueueRecord?) -> QueueSpec {
        let rateDefaults = base?.rateLimits ?? RateLimits()
        let retryDefaults = base?.retryConfig ?? RetryConfig()
        let rate = RateLimits(
            maxDispatchesPerSecond: body.rateLimits?.maxDispatchesPerSecond ?? rateDefaults.maxDispatchesPerSecond,
            maxBurstSize: body.rateLimits?.maxBurstSize ?? rateDefaults.maxBurstSize,
            maxConcurrentDispatches: body.rateLimits?.maxConcurrentDispatches ?? rateDefaults.maxConcurrentDispatches)
        let retry = RetryConfig(
            maxAttempts: body.retryConfig?.maxAttempts ?? retryDefaults.maxAttempts,
            minBackoffMs: body.retryConfig?.minBackoffMs ?? retryDefaults.minBackoffMs,
            maxBackoffMs: body.retryConfig?.maxBackoffMs ?? retryDefaults.maxBackoffMs,
            maxDoublings: body.retryConfig?.maxDoublings ?? retryDefaults.maxDoublings,
            maxRetryDurationMs: body.retryConfig?.maxRetryDurationMs ?? retryDefaults.maxRetryDurationMs)
        return QueueSpec(name: name, rateLimits: rate, retryConfig: retry,
                         tombstoneWindowMs: body.tombstoneWindowMs ?? base?.tombstoneWindowMs ?? 3_600_000,
                         nowMs: HTTPSupport.nowMs())
    }

    static func body(_ queue: QueueRecord, counts: [TaskState: Int]?) -> QueueBody {
        QueueBody(
            name: queue.name, state: queue.state.rawValue,
            rateLimits: RateLimitsBody(maxDispatchesPerSecond: queue.rateLimits.maxDispatchesPerSecond,
                                       maxBurstSize: queue.rateLimits.maxBurstSize,
                                       maxConcurrentDispatches: queue.rateLimits.maxConcurrentDispatches),
            retryConfig: RetryConfigBody(maxAttempts: queue.retryConfig.maxAttempts, minBackoffMs: queue.retryConfig.minBackoffMs,
                                         maxBackoffMs: queue.retryConfig.maxBackoffMs, maxDoublings: queue.retryConfig.maxDoublings,
                                         maxRetryDurationMs: queue.retryConfig.maxRetryDurationMs),
            tombstoneWindowMs: queue.tombstoneWindowMs,
            stats: counts.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key.rawValue, $0.value) }) })
    }

    // MARK: path and query helpers

    /// The `:queue` path parameter, which must carry no custom verb.
    static func plainName(_ context: BasicRequestContext, _ key: String = "queue") throws(APIError) -> String {
        guard let raw = context.parameters.get(key) else { throw APIError(.notFound, "missing \(key)") }
        let name = raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding ?? raw : raw
        guard !name.utf8.contains(UInt8(ascii: ":")) else { throw APIError(.notFound, "no route for \(name)") }
        return name
    }

    /// Splits `name:verb` (custom verbs, Google API style).
    static func nameAndVerb(_ context: BasicRequestContext, _ key: String = "queue") throws(APIError) -> (String, String) {
        guard let raw = context.parameters.get(key) else { throw APIError(.notFound, "missing \(key)") }
        let text = raw.removingPercentEncoding ?? raw
        // No verb is an unknown custom method, like an unknown verb: 404 (a 405 would owe an
        // Allow header; found by schemathesis).
        guard let colon = text.lastIndex(of: ":") else { throw APIError(.notFound, "POST needs a custom verb like :pause") }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func pageSize(_ request: Request) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters["pageSize"] else { return 100 }
        guard let size = Int(text), (1...1_000).contains(size) else {
            throw APIError(.invalidArgument, "pageSize must be 1–1000", field: "pageSize")
        }
        return size
    }
}
