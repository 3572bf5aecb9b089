import API
import HummingbirdCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// Open connections per client address, shared by every connection of one server.
final class ClientConnections: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection; false when the client already had `limit` open.
    func open(_ client: String) -> Bool {
        counts.withLock { counts in
            let now = (counts[client] ?? 0) + 1
            counts[client] = now
            return now <= limit
        }
    }

    func close(_ client: String) {
        counts.withLock { counts in
            let now = (counts[client] ?? 1) - 1
            counts[client] = now > 0 ? now : nil
        }
    }

    func count(_ client: String) -> Int { counts.withLock { $0[client] ?? 0 } }
}

/// The HTTP limits Hummingbird does not answer with their own status, on each API connection
/// (added through `HTTP1Channel.Configuration.additionalChannelHandlers`, after HTTP decoding):
/// - more than `maxConnectionsPerClient` open connections from one address: 429, closed;
/// - a request target longer than `maxURLBytes`: 414, closed;
/// - request headers beyond the decoder's limits (`maxHeaderBytes`): 431 instead of the plain
///   400 the decoder error would give, closed;
/// - a request whose body has not fully arrived `requestReadTimeoutMs` after its head: 408,
///   closed (a slow body; slow headers and idle keep-alive are Hummingbird's `idleTimeout`).
/// It also installs `RawHeadGuard` in front of the decoder, which bounds the bytes of a request
/// line and headers before the decoder buffers them (NIO does not bound the URL).
/// Lives on its channel's event loop only.
final class RequestLimitsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let security: SecurityConfig
    let clients: ClientConnections
    private var client: String?
    private var overLimit = false
    private var refused = false
    private var readTimer: Scheduled<Void>?
    /// The current request's response has started (then a timeout closes without answering).
    private var responding = false
    private let guardState = RawHeadGuard.State()

    init(security: SecurityConfig, clients: ClientConnections) {
        self.security = security
        self.clients = clients
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Right in front of the decoder: behind TLS (when on), so it counts plaintext bytes.
        let rawGuard = RawHeadGuard(state: guardState, limit: security.maxHeaderBytes + security.maxURLBytes)
        let sync = context.pipeline.syncOperations
        if let decoder = try? sync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? sync.addHandler(rawGuard, position: .before(decoder))
        }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        client = address
        overLimit = !clients.open(address)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        readTimer?.cancel()
        if let client {
            clients.close(client)
            self.client = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guardState.awaitingHead = false
            responding = false
            if overLimit {
                refuse(context, APIError(.resourceExhausted, "too many connections from \(client ?? "this client") "
                                          + "(at most \(security.maxConnectionsPerClient))"))
                return
            }
            if (head.path?.utf8.count ?? 0) > security.maxURLBytes {
                refuse(context, APIError(.uriTooLong, "request target longer than \(security.maxURLBytes) bytes"))
                return
            }
            readTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(security.requestReadTimeoutMs))) {
                [self] in
                readTimer = nil
                if responding {
                    context.close(promise: nil)
                } else {
                    refuse(context, APIError(.requestTimeout, "request body not received within \(security.requestReadTimeoutMs) ms"))
                }
            }
        case .body:
            break
        case .end:
            readTimer?.cancel()
            readTimer = nil
            guardState.awaitingHead = true
            guardState.bytes = 0
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { responding = true }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parse = error as? HTTPParserError, parse == .headerOverflow, !refused {
            // The decoder counts the request target against the same limit: no line end yet
            // means the URL is what overflowed.
            refuse(context, guardState.sawLineEnd ? APIError(.headersTooLarge, "request headers exceed \(security.maxHeaderBytes) bytes")
                                                  : APIError(.uriTooLong, "request target longer than \(security.maxURLBytes) bytes"))
            return
        }
        context.fireErrorCaught(error)
    }

    /// Answers `error` and closes; nothing of this request reaches the application.
    private func refuse(_ context: ChannelHandlerContext, _ error: APIError) {
        refused = true
        readTimer?.cancel()
        readTimer = nil
        let body = (try? JSONEncoder().encode(APIErrorBody(error: error))) ?? Data()
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        let head = HTTPResponse(status: .init(code: error.code.httpStatus), headerFields: fields)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Just before the HTTP decoder: counts the raw bytes of a request line and headers, and answers
/// 414 (no line end yet: the URL is the long part) or 431 once they exceed `limit`, before the
/// decoder buffers more. `RequestLimitsHandler` tells it where requests start and end. Limitation:
/// bytes of a pipelined request that arrived in the same read as the previous one's end are not
/// counted (the decoder's own limits still apply to them).
final class RawHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Shared with the `RequestLimitsHandler` of the same channel (same event loop), which sets
    /// `awaitingHead` again at the end of each request.
    final class State {
        /// Counting head bytes (until the blank line that ends a head).
        var awaitingHead = true
        var bytes = 0
        var sawLineEnd = false
        /// How much of "\r\n\r\n" the last bytes matched.
        var matched = 0
    }

    let state: State
    let limit: Int
    private var tripped = false

    init(state: State, limit: Int) {
        self.state = state
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !tripped else { return }
        let buffer = unwrapInboundIn(data)
        if state.awaitingHead {
            if state.bytes == 0 {
                state.sawLineEnd = false
                state.matched = 0
            }
            // Count up to the blank line ending the head; what follows is body (not counted).
            for byte in buffer.readableBytesView where state.awaitingHead {
                state.bytes += 1
                if byte == UInt8(ascii: "\n") { state.sawLineEnd = true }
                let expected: UInt8 = state.matched % 2 == 0 ? UInt8(ascii: "\r") : UInt8(ascii: "\n")
                state.matched = byte == expected ? state.matched + 1 : (byte == UInt8(ascii: "\r") ? 1 : 0)
                if state.matched == 4 { state.awaitingHead = false }
                if state.bytes > limit { break }
            }
            if state.bytes > limit {
                tripped = true
                let error = state.sawLineEnd ? APIError(.headersTooLarge, "request headers too large")
                    : APIError(.uriTooLong, "request target too long")
                let body = (try? JSONEncoder().encode(APIErrorBody(error: error))) ?? Data()
                let reason = state.sawLineEnd ? "Request Header Fields Too Large" : "URI Too Long"
                let text = "HTTP/1.1 \(error.code.httpStatus) \(reason)\r\nContent-Type: application/json; charset=utf-8\r\n"
                    + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                var out = context.channel.allocator.buffer(capacity: text.utf8.count + body.count)
                out.writeString(text)
                out.writeBytes(body)
                context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
        }
        context.fireChannelRead(data)
    }
}

extension RequestLimitsHandler {
    /// The API server's HTTP/1 channel: decoder header limits, idle timeout, and a fresh
    /// `RequestLimitsHandler` per connection sharing one per-client connection count.
    static func channelConfiguration(_ security: SecurityConfig) -> HTTP1Channel.Configuration {
        let clients = ClientConnections(limit: security.maxConnectionsPerClient)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestLimitsHandler(security: security, clients: clients)],
            idleTimeout: .milliseconds(Int64(security.idleTimeoutMs)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: security.maxHeaderBytes, maxHeaderListSize: security.maxHeaderBytes,
                                            maxHeaderFieldCount: 200))
    }
}
