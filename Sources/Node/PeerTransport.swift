import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Raft
import Synchronization

/// Where the transport delivers what it receives. Called on NIO event loops: must not block.
protocol PeerMessageSink: Sendable {
    func deliver(_ messages: [Message])
    /// Messages to `peer` were dropped (not connected, or its connection is backed up).
    func unreachable(_ peer: NodeID)
}

struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int
    var description: String { "\(host):\(port)" }
}

/// Persistent authenticated TCP connections between nodes.
///
/// With `tls`, every connection is mutual TLS first (both certificates from the cluster CA,
/// each naming its node, see `NodeTLS`), and the HMAC handshake then runs inside it: defence in
/// depth, a stolen certificate alone or a leaked secret alone does not let anyone in.
///
/// Each node listens on its peer address; to send to a peer it keeps one outbound connection
/// (`PeerLink`), so every connection carries Raft messages one way. Messages to a peer that is
/// not connected, or whose socket is backed up past the high-water mark, are dropped and
/// reported unreachable: Raft retransmits, and memory stays bounded.
final class PeerTransport: Sendable {
    struct Limits: Sendable {
        var maxFrameBytes = 16 << 20
        /// Frames before authentication are tiny; anything larger is an attack or a confused client.
        var handshakeFrameBytes = 256
        var handshakeTimeout = TimeAmount.seconds(5)
        var writeBufferHighWaterMark = 8 << 20
        var reconnectMin = TimeAmount.milliseconds(20)
        /// The newest peer protocol version this node speaks; tests set 1 to play an older build.
        var maxProtocolVersion = PeerFrame.protocolVersion
        var reconnectMax = TimeAmount.seconds(2)
    }

    let selfID: NodeID
    let listen: PeerAddress
    let limits: Limits
    private let group: any EventLoopGroup
    private let authenticator: PeerAuthenticator
    private let sink: any PeerMessageSink
    private let logger: Logger
    private let links: [NodeID: PeerLink]
    private let server = Mutex<(any Channel)?>(nil)
    private let tls: NodeTLS?

    init(
        selfID: NodeID, listen: PeerAddress, peers: [NodeID: PeerAddress], secret: [UInt8],
        group: any EventLoopGroup, sink: any PeerMessageSink, logger: Logger, limits: Limits = Limits(),
        tls: NodeTLS? = nil
    ) {
        self.tls = tls
        self.selfID = selfID
        self.listen = listen
        self.limits = limits
        self.group = group
        self.authenticator = PeerAuthenticator(secret: secret)
        self.sink = sink
        self.logger = logger
        var links: [NodeID: PeerLink] = [:]
        for (id, address) in peers where id != selfID {
            links[id] = PeerLink(
                selfID: selfID, peer: id, address: address, sourceHost: listen.host,
                eventLoop: group.next(), authenticator: authenticator, sink: sink, logger: logger, limits: limits,
                tls: tls?.toNode(id))
        }
        self.links = links
    }

    /// Binds the listener. Returns the bound port (useful when `listen.port` is 0).
    @discardableResult
    func start() async throws -> Int {
        let selfID = selfID, authenticator = authenticator, sink = sink, logger = logger, limits = limits
        let tlsContext = tls?.peerServer
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let limit = FrameLimit(bytes: limits.handshakeFrameBytes)
                    let handler = PeerInboundHandler(
                        selfID: selfID, authenticator: authenticator, sink: sink, logger: logger,
                        limit: limit, limits: limits, requireCertificate: tlsContext != nil)
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(limit: limit)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: listen.host, port: listen.port)
            .get()
        server.withLock { $0 = channel }
        for link in links.values { link.start() }
        return channel.localAddress?.port ?? listen.port
    }

    /// Bytes queued to each peer and not yet on the wire.
    var queuedBytes: [NodeID: Int] {
        links.mapValues { $0.queuedBytes.load(ordering: .relaxed) }
    }

    /// Messages dropped to each peer since start.
    var droppedMessages: [NodeID: Int] {
        links.mapValues { $0.droppedTotal.load(ordering: .relaxed) }
    }

    /// Sends messages, grouped per destination: written at once from the transport's own loop
    /// (the Raft driver's), else one event-loop hop per peer. Never blocks.
    func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        var byPeer: [NodeID: [Message]] = [:]
        for message in messages {
            precondition(message.from == selfID, "sending a message from \(message.from) on \(selfID)'s transport")
            byPeer[message.to, default: []].append(message)
        }
        for (peer, batch) in byPeer {
            guard let link = links[peer] else {
                logger.debug("dropping message to unknown peer", metadata: ["peer": "\(peer)"])
                continue
            }
            link.send(batch)
        }
    }

    func shutdown() async {
        let channel = server.withLock { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        for link in links.values { await link.stop() }
    }
}

/// The current frame-size limit of one connection: small until the peer authenticates.
/// Confined to the connection's event loop (decoder and handler run there).
final class FrameLimit {
    var bytes: Int
    init(bytes: Int) { self.bytes = bytes }
}
