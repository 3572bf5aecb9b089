import API
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Store

/// The API's HTTP/1 child channel: Hummingbird's, with `CreateFastPath` inserted right behind
/// its connection-state handler (so that handler's idle timeout and graceful close count the
/// requests the fast path answers, as they do Hummingbird's own), and `FastAnswerEndSink` right
/// in front of it.
struct APIChildChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let http1: HTTP1Channel
    let api: NodeAPI

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let api = self.api
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            let encoder = try pipeline.context(handlerType: HTTPResponseEncoder.self)
            let sink = FastAnswerEndSink()
            try pipeline.addHandler(sink, position: .before(state))
            try pipeline.addHandler(CreateFastPath(api: api, encoder: encoder, sink: sink), position: .after(state))
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
/// The answer is written as HTTP/1.1 bytes past the codec and the encoder (`FastAnswerHead`),
/// with an end part for the connection-state handler that `FastAnswerEndSink` then drops; with
/// the single pass over the head's fields and the payload copied verbatim, that took the
/// leader's CPU per create from 243-307 to 214-287 µs (5 alternated pairs, bench/cluster/README.md).
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
        var taken: Eligible
        var body: ByteBuffer?
        var started: ContinuousClock.Instant
    }

    /// What the fast path reads off a request head it may take.
    struct Eligible {
        var queue: String
        var idempotencyKey: String?
        var requestID: String?
    }

    private enum State {
        case idle
        /// A request the fast path may take (`pending`), its body arriving.
        case collecting
        /// A request Hummingbird answers: its parts pass until its end.
        case passing
        /// A proposed create waits for its answer.
        case answering
    }

    private let api: NodeAPI
    /// The context of NIO's `HTTPResponseEncoder`: a write through it goes on toward the socket
    /// (through TLS when on) past the encoder, which is how an answer's ready bytes are written.
    private let encoder: ChannelHandlerContext
    private let sink: FastAnswerEndSink
    private var state = State.idle
    /// The request being collected, in state `.collecting` only. Kept out of `State`, so a body
    /// chunk is added in place rather than the whole request copied out of the enum and back.
    private var pending: Pending?
    /// Requests handed to Hummingbird whose answer has not been written to its end.
    private var unanswered = 0
    /// Parts read while an answer is pending (pipelining), replayed once it is written.
    private var held = CircularBuffer<HTTPRequestPart>()
    /// A `read` asked for while an answer is pending.
    private var readPending = false
    private var date = (second: Int64(-1), text: "")

    init(api: NodeAPI, encoder: ChannelHandlerContext, sink: FastAnswerEndSink) {
        self.api = api
        self.encoder = encoder
        self.sink = sink
    }

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
            if case .head(let head) = part, unanswered == 0, let taken = eligible(head) {
                pending = Pending(head: head, taken: taken, body: nil, started: .now)
                state = .collecting
            } else {
                handOver(context: context, part)
            }
        case .collecting:
            switch part {
            case .body(var chunk):
                if (pending?.body?.readableBytes ?? 0) + chunk.readableBytes > api.maxRequestBytes {
                    // Hummingbird answers the 413.
                    handOverPending(context: context)
                    context.fireChannelRead(wrapInboundOut(part))
                } else if pending?.body == nil {
                    pending?.body = chunk
                } else {
                    pending?.body?.writeBuffer(&chunk)
                }
            case .end(let trailers):
                if trailers == nil, let collected = pending, propose(context: context, collected) {
                    pending = nil
                    state = .answering
                } else {
                    handOverPending(context: context)
                    handOver(context: context, part)
                }
            case .head:
                // NIO's decoder never starts a request inside another. Should it, both go to
                // Hummingbird, each counted as a request it owes an answer to.
                assertionFailure("a request head inside a request's body")
                handOverPending(context: context)
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

    /// Gives the request the fast path collected but declined to Hummingbird (head and body so far).
    private func handOverPending(context: ChannelHandlerContext) {
        guard let collected = pending.take() else {
            assertionFailure("no collected request to hand over")
            return
        }
        handOver(context: context, .head(collected.head))
        if let body = collected.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    /// The queue name (and the headers the write needs) when the fast path may take this
    /// request, from its head alone. One pass over the fields: `HTTPFields`' lookup by name
    /// builds and locks an index, and the path is matched without splitting it (both were a
    /// twentieth of the HTTP threads' time per create).
    private func eligible(_ head: HTTPRequest) -> Eligible? {
        guard head.method == .post, let path = head.path, let queue = Self.queue(inTasksPath: path) else { return nil }
        var contentType: String?, authorization: String?, idempotencyKey: String?, requestID: String?
        for field in head.headerFields {
            switch field.name {
            // `Connection: keep-alive` is common (URLSession sends it); `close` or an upgrade
            // is Hummingbird's to handle, as is `Expect`.
            case .expect: return nil
            case .connection: guard field.value.lowercased() == "keep-alive" else { return nil }
            case .contentType: Self.combine(&contentType, field.value)
            case .authorization: Self.combine(&authorization, field.value)
            case .idempotencyKey: Self.combine(&idempotencyKey, field.value)
            case .requestID: Self.combine(&requestID, field.value)
            default: break
            }
        }
        if let contentType, !contentType.lowercased().hasPrefix("application/json") { return nil }
        guard api.core.roleAndTerm?.role == .leader else { return nil }
        let security = api.core.config.security
        if security.enabled && !security.openPaths.contains(path) {
            guard let presented = AuthMiddleware<BasicRequestContext>.bearer(authorization),
                  let token = APITokens.match(presented, in: security.tokens),
                  AuthMiddleware<BasicRequestContext>.allows(token, .submit(queue: queue)) else { return nil }
        }
        return Eligible(queue: queue, idempotencyKey: idempotencyKey, requestID: requestID)
    }

    /// A field's value as `HTTPFields`' subscript gives it: repeated fields joined by ", ".
    private static func combine(_ value: inout String?, _ next: String) {
        value = value.map { $0 + ", " + next } ?? next
    }

    /// The queue of `/v1/queues/{queue}/tasks`, when the path is exactly that with a plain queue
    /// segment (no `%`, `:`, `?`, `/`, not empty) and at most 300 bytes; else nil.
    static func queue(inTasksPath path: String) -> String? {
        let prefix = "/v1/queues/".utf8, suffix = "/tasks".utf8
        let utf8 = path.utf8
        guard utf8.count > prefix.count + suffix.count, utf8.count <= 300, utf8.starts(with: prefix),
              utf8.reversed().starts(with: suffix.reversed()) else { return nil }
        let segment = utf8.dropFirst(prefix.count).dropLast(suffix.count)
        guard !segment.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "?") })
        else { return nil }
        return String(decoding: segment, as: UTF8.self)
    }

    // MARK: the write

    /// Decodes, checks and proposes; false (nothing proposed) when the route should answer.
    private func propose(context: ChannelHandlerContext, _ pending: Pending) -> Bool {
        guard let driver = api.core.driver else { return false }
        let bytes = pending.body.map { Array($0.readableBytesView) } ?? []
        let api = self.api
        let made: (command: Command, verbatimPayload: Data?)? = HTTPSupport.$maxDepth.withValue(api.core.config.security.config.maxJSONDepth) {
            guard (try? HTTPSupport.checkShape(bytes)) != nil,
                  let body = HTTPSupport.fastValue(TaskRequest.self, bytes: bytes, fields: TaskRequest.fields),
                  let made = try? api.createTask(body, queue: pending.taken.queue, idempotencyKey: pending.taken.idempotencyKey),
                  (try? made.command.validate(limits: api.limits)) != nil else { return nil }
            return made
        }
        guard let (command, verbatimPayload) = made else { return false }
        let requestID = RequestScope.id(from: pending.taken.requestID)
        let indexAtStart = api.core.changes.appliedIndex
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let queue = pending.taken.queue
        let started = pending.started
        api.propose(command, driver: driver, fetch: NodeAPI.createdTask) { result in
            loop.execute {
                let (handler, context) = bound.value
                handler.answer(context: context, result, queue: queue, verbatimPayload: verbatimPayload, requestID: requestID,
                               indexAtStart: indexAtStart, started: started)
            }
        }
        return true
    }

    private func answer(context: ChannelHandlerContext, _ result: Result<NodeAPI.Applied<TaskRecord?>, APIError>, queue: String,
                        verbatimPayload: Data?, requestID: String, indexAtStart: UInt64, started: ContinuousClock.Instant) {
        var head = FastAnswerHead(status: 201, requestID: requestID, date: httpDate(), triremeIndex: indexAtStart)
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
            body = try NodeAPI.taskAnswer(task, queue: queue, verbatimPayload: verbatimPayload)
            head.raft = (applied.index, api.core.roleAndTerm?.term.rawValue ?? 0)
            head.triremeIndex = applied.index
        } catch {
            body = HTTPSupport.jsonBytes(APIErrorBody(error: error))
            head.status = error.code.httpStatus
            head.retryAfter = error.code == .unavailable
        }
        var bytes = context.channel.allocator.buffer(capacity: FastAnswerHead.maxBytes + body.count)
        head.write(contentLength: body.count, into: &bytes)
        bytes.writeBytes(body)
        // The bytes go past Hummingbird's codec and NIO's encoder (the answer is already HTTP/1.1,
        // written as they would write it); then an end part goes the usual way, so the
        // connection-state handler counts the request answered (idle timeout, a graceful close
        // after the answer), and `FastAnswerEndSink` drops it before the codec.
        encoder.writeAndFlush(NIOAny(bytes), promise: nil)
        sink.expectEnd()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        api.core.metrics.createFastPath.increment()
        RequestObservationMiddleware<BasicRequestContext>.record(
            metrics: api.core.metrics, logger: api.logger, route: Self.route, method: .post, status: head.status,
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

/// Drops the end part `CreateFastPath` writes after an answer it wrote as bytes (that part is
/// only for the connection-state handler's count), so the codec and the encoder never see an end
/// without its head. Sits right in front of the connection-state handler; every other part passes.
/// Lives on its channel's event loop only.
final class FastAnswerEndSink: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Ends announced by the fast path and not yet seen.
    private var expected = 0

    func expectEnd() { expected += 1 }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if expected > 0, case .end = unwrapOutboundIn(data) {
            expected -= 1
            promise?.succeed(())
            return
        }
        context.write(data, promise: promise)
    }
}

/// The head of an answer of `CreateFastPath`, written as the HTTP/1.1 bytes Hummingbird's codec
/// and NIO's `HTTPResponseEncoder` would write for the same `HTTPResponse`: the status line with
/// NIO's reason phrase, then the fields in the order the fast path used to set them. Every
/// value is plain ASCII by construction (numbers, a sanitized request id, an HTTP date).
/// `CreateFastPathTests` compare its answers with the route's on the wire.
struct FastAnswerHead {
    var status: Int
    var requestID: String
    var date: String
    /// `Trireme-Raft-Index` and `-Term`, on a write's answer.
    var raft: (index: UInt64, term: UInt64)?
    var triremeIndex: UInt64
    var retryAfter = false

    init(status: Int, requestID: String, date: String, triremeIndex: UInt64) {
        self.status = status
        self.requestID = requestID
        self.date = date
        self.triremeIndex = triremeIndex
    }

    /// An upper bound of `write`'s bytes (request ids are at most 64 bytes, dates 29).
    static let maxBytes = 512

    func write(contentLength: Int, into buffer: inout ByteBuffer) {
        assert(requestID.utf8.count <= 64 && date.utf8.count <= 40, "a fast answer's head outgrew maxBytes")
        // Static text in as few writes as possible: each write checks capacity and uniqueness,
        // and a write per piece was 3% of the HTTP threads' time. The names are those of
        // `APIHeader` (`FastAnswerHeadTests` checks).
        if status == 201 {
            buffer.writeStaticString("HTTP/1.1 201 Created\r\n")
        } else {
            buffer.writeString("HTTP/1.1 \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\r\n")
        }
        if let raft {
            buffer.writeStaticString("Trireme-Raft-Index: ")
            buffer.writeString(String(raft.index))
            buffer.writeStaticString("\r\nTrireme-Raft-Term: ")
            buffer.writeString(String(raft.term))
            buffer.writeStaticString("\r\n")
        }
        if retryAfter { buffer.writeStaticString("Retry-After: 1\r\n") }
        buffer.writeStaticString("X-Trireme-Index: ")
        buffer.writeString(String(triremeIndex))
        buffer.writeStaticString("\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ")
        buffer.writeString(String(contentLength))
        buffer.writeStaticString("\r\nX-Request-Id: ")
        buffer.writeString(requestID)
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(date)
        buffer.writeStaticString("\r\nServer: trireme\r\n\r\n")
    }
}
