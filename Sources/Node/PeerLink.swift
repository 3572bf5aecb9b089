import Logging
import NIOCore
import NIOPosix
import Raft
import Synchronization

/// The outbound connection to one peer: connect, authenticate, then write batches of Raft
/// messages. Reconnects with exponential backoff. All mutable state is confined to `eventLoop`
/// (every access goes through `eventLoop.execute` or runs in a callback on it), which is what
/// makes the `@unchecked Sendable` safe.
final class PeerLink: @unchecked Sendable {
    private enum State {
        case idle
        case connecting
        case handshaking(any Channel, clientNonce: [UInt8], version: UInt8)
        case ready(any Channel)
        case waiting
        case stopped
    }

    let selfID: NodeID
    let peer: NodeID
    let address: PeerAddress
    let eventLoop: any EventLoop
    private let sourceHost: String
    private let authenticator: PeerAuthenticator
    private let sink: any PeerMessageSink
    private let logger: Logger
    private let limits: PeerTransport.Limits
    private var state = State.idle
    /// The version of the next hello: the newest, or 1 after a version-2 hello was closed
    /// before the challenge (an older build refuses it); see `PeerFrame.protocolVersion`.
    private var helloVersion: UInt8
    /// The version of the connection in `.ready`.
    private var readyVersion = PeerFrame.oldestProtocolVersion
    private var backoff: TimeAmount
    private var reconnectTask: Scheduled<Void>?
    private var droppedSinceReport = 0
    /// Bytes handed to the channel and not yet written to the socket: the send-queue depth the
    /// metrics page shows (read from any thread, hence atomic).
    let queuedBytes = Atomic<Int>(0)
    /// Messages dropped since start (peer down or backed up), for the metrics page.
    let droppedTotal = Atomic<Int>(0)
    /// Mutual TLS: our certificate goes out, the peer's must name `peer` (`NodeTLS.toNode`).
    private let tls: ClientTLS?

    init(selfID: NodeID, peer: NodeID, address: PeerAddress, sourceHost: String, eventLoop: any EventLoop,
         authenticator: PeerAuthenticator, sink: any PeerMessageSink, logger: Logger, limits: PeerTransport.Limits,
         tls: ClientTLS? = nil) {
        self.tls = tls
        self.selfID = selfID
        self.peer = peer
        self.address = address
        self.sourceHost = sourceHost
        self.eventLoop = eventLoop
        self.authenticator = authenticator
        self.sink = sink
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        self.limits = limits
        self.backoff = limits.reconnectMin
        self.helloVersion = limits.maxProtocolVersion
    }

    func start() {
        eventLoop.execute { self.connect() }
    }

    func stop() async {
        let channel: (any Channel)? = try? await eventLoop.submit { () -> (any Channel)? in
            self.reconnectTask?.cancel()
            let current: (any Channel)?
            switch self.state {
            case .handshaking(let channel, _, _), .ready(let channel): current = channel
            default: current = nil
            }
            self.state = .stopped
            return current
        }.get()
        try? await channel?.close()
    }

    /// On the link's own loop (the node's Raft driver shares it) the messages are written at
    /// once: deferred, an append would wait behind the driver's fsync in the same turn.
    func send(_ messages: [Message]) {
        if eventLoop.inEventLoop {
            write(messages)
        } else {
            eventLoop.execute { self.write(messages) }
        }
    }

    private func write(_ messages: [Message]) {
        guard case .ready(let channel) = state, channel.isWritable else {
            drop(messages.count)
            return
        }
        var buffer = channel.allocator.buffer(capacity: 256)
        var batch: [[UInt8]] = []
        var batchBytes = 0
        for message in messages {
            let bytes = MessageCodec.encode(readyVersion >= 2 ? message : Self.withoutNotices(message))
            if !batch.isEmpty && batchBytes + bytes.count + 64 > limits.maxFrameBytes {
                buffer.writePeerFrame(.raftBatch(batch))
                batch.removeAll(keepingCapacity: true)
                batchBytes = 0
            }
            batch.append(bytes)
            batchBytes += bytes.count + 4
        }
        buffer.writePeerFrame(.raftBatch(batch))
        let size = buffer.readableBytes
        queuedBytes.add(size, ordering: .relaxed)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in self.queuedBytes.subtract(size, ordering: .relaxed) }
        channel.writeAndFlush(buffer, promise: written)
    }

    /// A commit notice as the ordinary (answered) append it replaces, for a version-1 peer.
    static func withoutNotices(_ message: Message) -> Message {
        guard case .append(var append) = message.payload, append.quiet else { return message }
        append.quiet = false
        var plain = message
        plain.payload = .append(append)
        return plain
    }

    private func drop(_ count: Int) {
        if droppedSinceReport == 0 { sink.unreachable(peer) }
        droppedSinceReport += count
        droppedTotal.add(count, ordering: .relaxed)
        if case .idle = state { connect() }
    }

    private func connect() {
        switch state {
        case .idle, .waiting: break
        default: return
        }
        state = .connecting
        let handshakeFrameBytes = limits.handshakeFrameBytes
        let tls = tls
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: limits.writeBufferHighWaterMark / 2,
                                                                high: limits.writeBufferHighWaterMark))
            .connectTimeout(.seconds(1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let limit = FrameLimit(bytes: handshakeFrameBytes)
                    // Our hello is written on connect; the TLS handler holds it until its handshake is done.
                    try tls?.addHandler(to: channel)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(limit: limit)))
                    try channel.pipeline.syncOperations.addHandler(PeerLinkHandler(link: self))
                }
            }
        // Bind the source address to our own loopback alias so partitions can be expressed
        // with iptables rules on (source, destination) pairs.
        let connecting: EventLoopFuture<any Channel>
        if let source = try? SocketAddress(ipAddress: sourceHost, port: 0) {
            connecting = bootstrap.bind(to: source).connect(host: address.host, port: address.port)
        } else {
            connecting = bootstrap.connect(host: address.host, port: address.port)
        }
        connecting.whenComplete { result in
            switch result {
            case .success(let channel):
                self.connected(channel)
            case .failure(let error):
                self.logger.trace("connect failed", metadata: ["error": "\(error)"])
                self.scheduleReconnect()
            }
        }
    }

    private func connected(_ channel: any Channel) {
        guard case .connecting = state else {
            channel.close(promise: nil)
            return
        }
        let nonce = PeerAuthenticator.nonce()
        state = .handshaking(channel, clientNonce: nonce, version: helloVersion)
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writePeerFrame(.hello(version: helloVersion, from: selfID, to: peer, nonce: nonce))
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// From the handler: a frame from the server side.
    func received(_ frame: PeerFrame, on channel: any Channel) {
        guard case .handshaking(let current, let clientNonce, let version) = state, current === channel,
              tls?.accepts(channel) ?? true,
              case .challenge(let serverNonce, let proof) = frame,
              authenticator.verify(proof, label: PeerAuthenticator.serverLabel, clientNonce: clientNonce,
                                   serverNonce: serverNonce, from: selfID, to: peer, version: version)
        else {
            logger.warning("peer failed the handshake; closing")
            channel.close(promise: nil)
            return
        }
        let answer = authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, from: selfID, to: peer,
                                               version: version)
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writePeerFrame(.auth(proof: answer))
        channel.writeAndFlush(buffer, promise: nil)
        state = .ready(channel)
        readyVersion = version
        backoff = limits.reconnectMin
        if droppedSinceReport > 0 {
            logger.info("peer connected", metadata: ["droppedWhileDown": "\(droppedSinceReport)"])
            droppedSinceReport = 0
        }
    }

    /// From the handler: the connection closed or failed.
    func closed(_ channel: any Channel) {
        switch state {
        case .handshaking(let current, _, let version) where current === channel:
            // Closed before the challenge: an older build refuses our version (or the peer went
            // away mid-handshake). Alternate, so an upgraded peer is tried at the newest again.
            helloVersion = version > PeerFrame.oldestProtocolVersion ? PeerFrame.oldestProtocolVersion : limits.maxProtocolVersion
            scheduleReconnect()
        case .ready(let current) where current === channel:
            helloVersion = limits.maxProtocolVersion
            scheduleReconnect()
        default:
            break
        }
    }

    private func scheduleReconnect() {
        if case .stopped = state { return }
        state = .waiting
        let delay = backoff
        backoff = min(backoff * 2, limits.reconnectMax)
        reconnectTask = eventLoop.scheduleTask(in: delay) { self.connect() }
    }
}

/// Pipeline end of an outbound connection; forwards to its `PeerLink` on the same event loop.
final class PeerLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let link: PeerLink

    init(link: PeerLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            link.received(try PeerFrame.read(from: &buffer), on: context.channel)
        } catch {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
