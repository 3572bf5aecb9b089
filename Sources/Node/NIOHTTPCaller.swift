import Executor
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// The executor's outbound HTTP client over SwiftNIO: one connection per request, to the
/// already-checked address (never re-resolved), no redirects, a connect timeout and an
/// overall timeout, at most `maxBodyPrefix` body bytes read. Plain http only for now.
struct NIOHTTPCaller: HTTPCaller {
    let group: any EventLoopGroup
    /// Sent as `X-Trireme-Node`, so a target (and a test) sees which node delivered.
    let node: String
    var connectTimeout: TimeAmount = .seconds(5)
    var maxBodyPrefix = 4_096

    func resolve(host: String) async throws(HTTPCallError) -> [IPAddress] {
        do {
            // getaddrinfo blocks: run it on NIO's blocking-IO pool, never on an event loop.
            return try await NIOThreadPool.singleton.runIfActive { try Resolver.lookup(host) }
        } catch let error as HTTPCallError {
            throw error
        } catch {
            throw .transport("cannot resolve \(host.prefix(100)): \(error)")
        }
    }

    func send(_ request: OutboundHTTPRequest) async throws(HTTPCallError) -> OutboundHTTPResponse {
        guard request.target.url.scheme == "http" else { throw .transport("https targets are not supported yet") }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: request.target.address.description, port: request.target.url.port)
        } catch {
            throw .transport("unusable address \(request.target.address)")
        }
        let head = Self.head(request, node: node)
        return try await Self.exchange(
            group: group, head: head, body: request.body, limit: maxBodyPrefix,
            timeout: .milliseconds(max(request.timeoutMs, 1)), connectTimeout: connectTimeout, target: "\(address)"
        ) { $0.connect(to: address) }
    }

    /// One HTTP/1.1 exchange on a fresh connection made by `connect`: writes `head` and `body`,
    /// collects the status and at most `limit` body bytes; the connection is closed however it
    /// ends. Shared by task targets (a checked address) and the node's own calls to its peers.
    /// With `tls`, the exchange runs over TLS (node-to-node calls of a TLS cluster).
    static func exchange(
        group: any EventLoopGroup, head: HTTPRequestHead, body: Data, limit: Int, timeout: TimeAmount,
        connectTimeout: TimeAmount, target: String, tls: ClientTLS? = nil,
        connect: (ClientBootstrap) -> EventLoopFuture<any Channel>
    ) async throws(HTTPCallError) -> OutboundHTTPResponse {
        let result = start(group: group, head: head, body: body, limit: limit, timeout: timeout,
                           connectTimeout: connectTimeout, target: target, tls: tls, connect: connect)
        do {
            return try await withTaskCancellationHandler {
                try await result.promise.futureResult.get()
            } onCancel: {
                result.finish(.failure(.transport("cancelled")))
            }
        } catch let error as HTTPCallError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Starts one exchange (see `exchange`); its outcome completes the returned result's promise.
    /// For callers on a thread of their own that wait on the future (`SnapshotFetcher`).
    static func start(
        group: any EventLoopGroup, head: HTTPRequestHead, body: Data, limit: Int, timeout: TimeAmount,
        connectTimeout: TimeAmount, target: String, tls: ClientTLS?,
        connect: (ClientBootstrap) -> EventLoopFuture<any Channel>
    ) -> ExchangeResult {
        let loop = group.next()
        let result = ExchangeResult(promise: loop.makePromise())
        let timer = loop.scheduleTask(in: timeout) { result.finish(.failure(.timeout)) }
        result.promise.futureResult.whenComplete { _ in timer.cancel() }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(min(connectTimeout, timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addHandler(to: channel)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ExchangeHandler(head: head, body: body, limit: limit, result: result, tls: tls))
                }
            }
        connect(bootstrap).whenComplete { outcome in
            switch outcome {
            case .success(let channel):
                // Closed after every exchange, however it ended (answer, timeout, cancel).
                result.promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                result.finish(.failure(.transport("connect to \(target) failed: \(error)")))
            }
        }
        return result
    }

    static func head(_ request: OutboundHTTPRequest, node: String) -> HTTPRequestHead {
        let url = request.target.url
        var headers = HTTPHeaders()
        let defaultPort = url.scheme == "https" ? 443 : 80
        headers.add(name: "Host", value: url.port == defaultPort ? url.host : "\(url.host):\(url.port)")
        headers.add(name: "User-Agent", value: "trireme")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "X-Trireme-Node", value: node)
        headers.add(name: "Content-Length", value: String(request.body.count))
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: url.pathAndQuery,
                               headers: headers)
    }
}

/// The single outcome of one exchange: the first of answer, error, timeout or cancellation wins.
final class ExchangeResult: Sendable {
    let promise: EventLoopPromise<OutboundHTTPResponse>
    private let done = Mutex(false)

    init(promise: EventLoopPromise<OutboundHTTPResponse>) { self.promise = promise }

    func finish(_ outcome: Result<OutboundHTTPResponse, HTTPCallError>) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch outcome {
        case .success(let response): promise.succeed(response)
        case .failure(let error): promise.fail(error)
        }
    }
}

/// Writes the request once connected, collects the status and a bounded body prefix.
/// Lives on its channel's event loop only.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let body: Data
    private let limit: Int
    private let result: ExchangeResult
    private var status: Int?
    private var headers: [String: String] = [:]
    private var prefix = Data()
    /// With TLS, the request waits for the handshake and the server's identity check.
    private let tls: ClientTLS?

    init(head: HTTPRequestHead, body: Data, limit: Int, result: ExchangeResult, tls: ClientTLS? = nil) {
        self.tls = tls
        self.head = head
        self.body = body
        self.limit = limit
        self.result = result
    }

    func channelActive(context: ChannelHandlerContext) {
        if tls == nil { sendRequest(context: context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls, case .handshakeCompleted = event as? TLSUserEvent {
            if tls.accepts(context.channel) {
                sendRequest(context: context)
            } else {
                result.finish(.failure(.transport("the server's certificate does not name node \(tls.node.map { "\($0)" } ?? "?")")))
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func sendRequest(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
            for (name, value) in response.headers { headers[name.lowercased()] = value }
        case .body(var buffer):
            let room = limit - prefix.count
            if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) { prefix.append(contentsOf: bytes) }
            // Enough of the body: stop reading (the connection is closed once finished).
            if prefix.count >= limit { complete() }
        case .end:
            complete()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if status == nil {
            result.finish(.failure(.transport("connection closed before an answer")))
        } else {
            complete()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        result.finish(.failure(.transport("\(error)")))
        context.close(promise: nil)
    }

    private func complete() {
        guard let status else { return }
        result.finish(.success(OutboundHTTPResponse(status: status, bodyPrefix: prefix, headers: headers)))
    }
}
