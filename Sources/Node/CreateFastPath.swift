import API
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Store

/// The API's HTTP/1 child channel: Hummingbird's, with `CreateFastPath` inserted right behind
/// its connection-state handler (so that handler's idle timeout and graceful close count the
/// requests the fast path answers, as they do Hummingbird's own).
struct APIChildChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let http1: HTTP1Channel
    let api: NodeAPI

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let api = self.api
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(CreateFastPath(api: api), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// Answers the leader's task creates (`POST /v1/queues/{queue}/tasks`, the busiest route) on
/// the connection's event loop: decode, propose, and write the answer when the driver thread
/// has applied it, with no hop to a Swift task and back and none of the async channel bridge.
/// Measured on a 2-vCPU VM, 3 alternated pairs of release builds at 64 clients
/// (`bench/cluster/ab_bench.py`): the leader's CPU per create 368-413 → 290-297 µs, the
/// cluster's 531-596 → 454-469 µs; figures against etcd in bench/cluster/README.md.
///
/// It takes a request only when all of this holds, and otherwise hands it to Hummingbird
/// untouched (so every error keeps one wording, from the routes):
/// - nothing Hummingbird is answering is outstanding on the connection (answers stay in order);
/// - the path is exactly `/v1/queues/{queue}/tasks`, the queue segment plain (no `%`, `:`), no
///   query, no `Expect` header and no `Connection` header but `keep-alive`;
/// - this node leads and the bearer token (when the node requires one) may submit to the queue;
/// - the body is within the size limit, JSON by content type, and the route's fast decode and
///   checks (`NodeAPI.createTaskCommand`, `Command.validate`) accept it.
/// From the proposal on, it answers everything itself, errors included, exactly as the route
/// would (`NodeAPI.propose`, `NodeAPI.createdTask`, `NodeAPI.taskAnswer`), and records the
/// request like `RequestObservationMiddleware` (request id, index headers, metrics, log line).
/// Requests pipelined behind a pending answer are held, and the socket not read, until it is
/// written. Lives on its channel's event loop only.
final class CreateFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The route template, as the router labels it in metrics and logs.
    static let route = "/v1/queues/{queue}/tasks"

    private struct Pending {
        var head: HTTPRequest
        var queue: String
        var body: ByteBuffer?
        var started: ContinuousClock.Instant
    }

    private enum State {
        case idle
        /// A request the fast path may take, its body arriving.
        case collecting(Pending)
        /// A request Hummingbird answers: its parts pass until its end.
        case passing
        /// A proposed create waits for its answer.
        case answering
    }

    private let api: NodeAPI
    private var state = State.idle
    /// Requests handed to Hummingbird whose answer has not been written to its end.
    private var unanswered = 0
    /// Parts read while an answer is pending (pipelining), replayed once it is written.
    private var held = CircularBuffer<HTTPRequestPart>()
    /// A `read` asked for while an answer is pending.
    private var readPending = false
    private var date = (second: Int64(-1), text: "")

    init(api: NodeAPI) { self.api = api }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = state {
            held.append(part)
        } else {
            process(context: context, part: part)
        }
    }

    private func process(context: ChannelHandlerContext, part: HTTPRequestPart) {
        switch state {
        case .idle:
            if case .head(let head) = part, unanswered == 0, let queue = eligibleQueue(head) {
                state = .collecting(Pending(head: head, queue: queue, body: nil, started: .now))
            } else {
                handOver(context: context, part)
            }
        case .collecting(var pending):
            switch part {
            case .body(var chunk):
                if (pending.body?.readableBytes ?? 0) + chunk.readableBytes > api.maxRequestBytes {
                    // Hummingbird answers the 413.
                    handOver(context: context, pending)
                    context.fireChannelRead(wrapInboundOut(part))
                } else {
                    if pending.body == nil { pending.body = chunk } else { pending.body?.writeBuffer(&chunk) }
                    state = .collecting(pending)
                }
            case .end(let trailers):
                if trailers == nil, propose(context: context, pending) {
                    state = .answering
                } else {
                    handOver(context: context, pending)
                    context.fireChannelRead(wrapInboundOut(part))
                    state = .idle
                }
            case .head:
                // NIO's decoder never starts a request inside another. Should it, both go to
                // Hummingbird, each counted as a request it owes an answer to.
                assertionFailure("a request head inside a request's body")
                handOver(context: context, pending)
                handOver(context: context, part)
            }
        case .passing:
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part { state = .idle }
        case .answering:
            held.append(part)
        }
    }

    /// Gives a request (from its head) to Hummingbird.
    private func handOver(context: ChannelHandlerContext, _ part: HTTPRequestPart) {
        if case .head = part {
            unanswered += 1
            state = .passing
        }
        context.fireChannelRead(wrapInboundOut(part))
        if case .end = part { state = .idle }
    }

    /// Gives a request the fast path collected but declined to Hummingbird (head and body so far).
    private func handOver(context: ChannelHandlerContext, _ pending: Pending) {
        handOver(context: context, .head(pending.head))
        if let body = pending.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    /// The queue name when the fast path may take this request, from its head alone.
    private func eligibleQueue(_ head: HTTPRequest) -> String? {
        // `Connection: keep-alive` is common (URLSession sends it); `close` or an upgrade is
        // Hummingbird's to handle.
        guard head.method == .post, let path = head.path, path.utf8.count <= 300, head.headerFields[.expect] == nil,
              head.headerFields[values: .connection].allSatisfy({ $0.lowercased() == "keep-alive" }) else { return nil }
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1].elementsEqual("v1".utf8), parts[2].elementsEqual("queues".utf8),
              parts[4].elementsEqual("tasks".utf8), !parts[3].isEmpty,
              !parts[3].contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "?") })
        else { return nil }
        if let type = head.headerFields[.contentType], !type.lowercased().hasPrefix("application/json") { return nil }
        guard api.core.roleAndTerm?.role == .leader else { return nil }
        let queue = String(decoding: parts[3], as: UTF8.self)
        let security = api.core.config.security
        if security.enabled && !security.openPaths.contains(path) {
            guard let presented = AuthMiddleware<BasicRequestContext>.bearer(head.headerFields[.authorization]),
                  let token = APITokens.match(presented, in: security.tokens),
                  AuthMiddleware<BasicRequestContext>.allows(token, .submit(queue: queue)) else { return nil }
        }
        return queue
    }

    // MARK: the write

    /// Decodes, checks and proposes; false (nothing proposed) when the route should answer.
    private func propose(context: ChannelHandlerContext, _ pending: Pending) -> Bool {
        guard let driver = api.core.driver else { return false }
        let bytes = pending.body.map { Array($0.readableBytesView) } ?? []
        let api = self.api
        let command: Command? = HTTPSupport.$maxDepth.withValue(api.core.config.security.config.maxJSONDepth) {
            guard (try? HTTPSupport.checkShape(bytes)) != nil,
                  let body = HTTPSupport.fastValue(TaskRequest.self, bytes: bytes, fields: TaskRequest.fields),
                  let command = try? api.createTaskCommand(body, queue: pending.queue,
                                                           idempotencyKey: pending.head.headerFields[.idempotencyKey]),
                  (try? command.validate(limits: api.limits)) != nil else { return nil }
            return command
        }
        guard let command else { return false }
        let requestID = RequestScope.id(from: pending.head.headerFields[.requestID])
        let indexAtStart = api.core.changes.appliedIndex
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let queue = pending.queue
        let started = pending.started
        api.propose(command, driver: driver, fetch: NodeAPI.createdTask) { result in
            loop.execute {
                let (handler, context) = bound.value
                handler.answer(context: context, result, queue: queue, requestID: requestID, indexAtStart: indexAtStart, started: started)
            }
        }
        return true
    }

    private func answer(context: ChannelHandlerContext, _ result: Result<NodeAPI.Applied<TaskRecord?>, APIError>, queue: String,
                        requestID: String, indexAtStart: UInt64, started: ContinuousClock.Instant) {
        var fields = HTTPFields()
        let status: HTTPResponse.Status
        let body: [UInt8]
        do throws(APIError) {
            let applied = try result.get()
            let task: TaskRecord?
            do {
                task = try NodeAPI.appliedValue(applied)
            } catch {
                guard let known = HTTPSupport.apiError(for: error) else {
                    api.logger.error("request failed", metadata: ["path": "\(Self.route)", "error": "\(error)"])
                    throw APIError(.internalError, "internal error")
                }
                throw known
            }
            body = try NodeAPI.taskAnswer(task, queue: queue)
            status = .created
            fields[.raftIndex] = String(applied.index)
            fields[.raftTerm] = String(api.core.roleAndTerm?.term.rawValue ?? 0)
            fields[.triremeIndex] = String(applied.index)
        } catch {
            body = HTTPSupport.jsonBytes(APIErrorBody(error: error))
            status = .init(code: error.code.httpStatus)
            if error.code == .unavailable { fields[.retryAfter] = "1" }
            fields[.triremeIndex] = String(indexAtStart)
        }
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.count)
        fields[.requestID] = requestID
        fields[.date] = httpDate()
        fields[.server] = "trireme"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        api.core.metrics.createFastPath.increment()
        RequestObservationMiddleware<BasicRequestContext>.record(
            metrics: api.core.metrics, logger: api.logger, route: Self.route, method: .post, status: status.code,
            started: started, requestID: requestID)
        state = .idle
        resumeHeld(context: context)
    }

    /// Replays the parts held behind an answer, then reads again if a read was asked for.
    private func resumeHeld(context: ChannelHandlerContext) {
        var replayed = false
        defer {
            // Outside a read cycle: Hummingbird's async channel hands what it got to its
            // iterator only on a read-complete.
            if replayed { context.fireChannelReadComplete() }
        }
        while let part = held.popFirst() {
            replayed = true
            process(context: context, part: part)
            if case .answering = state { return }
        }
        if readPending {
            readPending = false
            context.read()
        }
    }

    private func httpDate() -> String {
        let second = Int64(HTTPSupport.nowMs() / 1000)
        if second != date.second { date = (second, HTTPSupport.httpDate(epochSeconds: second)) }
        return date.text
    }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's answers pass here (the fast path writes from its own context, past this).
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure while an answer is pending: nothing more is read than is already held.
        if case .answering = state {
            readPending = true
        } else {
            context.read()
        }
    }
}
