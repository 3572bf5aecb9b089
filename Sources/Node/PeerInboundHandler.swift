import Logging
import NIOCore
import NIOSSL
import Raft

/// Server side of a peer connection: runs the handshake, then decodes Raft batches and hands
/// them to the sink. A peer that fails authentication, sends a malformed frame or claims
/// another node's id is logged and disconnected; nothing it sent reaches Raft.
final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello
        case awaitingAuth(from: NodeID, clientNonce: [UInt8], serverNonce: [UInt8], version: UInt8)
        case authenticated(NodeID)
        case closed
    }

    private let selfID: NodeID
    private let authenticator: PeerAuthenticator
    private let sink: any PeerMessageSink
    private var logger: Logger
    private let limit: FrameLimit
    private let limits: PeerTransport.Limits
    private var state = State.awaitingHello
    private var handshakeTimer: Scheduled<Void>?
    /// Mutual TLS is on: the client certificate (already verified against the cluster CA by
    /// the TLS handler before any frame arrives) must name the node the `hello` claims.
    private let requireCertificate: Bool

    init(selfID: NodeID, authenticator: PeerAuthenticator, sink: any PeerMessageSink, logger: Logger,
         limit: FrameLimit, limits: PeerTransport.Limits, requireCertificate: Bool = false) {
        self.requireCertificate = requireCertificate
        self.selfID = selfID
        self.authenticator = authenticator
        self.sink = sink
        self.logger = logger
        self.limit = limit
        self.limits = limits
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "remote"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        let channel = context.channel
        handshakeTimer = context.eventLoop.scheduleTask(in: limits.handshakeTimeout) {
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        state = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            let frame = try PeerFrame.read(from: &buffer)
            try handle(frame, context: context)
        } catch {
            reject(context: context, reason: "\(error)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that died (kill -9, crash) ends TLS without close_notify: it is gone, not hostile.
        if case .uncleanShutdown? = error as? NIOSSLError {
            logger.debug("peer connection ended without TLS close_notify")
            state = .closed
            context.close(promise: nil)
            return
        }
        reject(context: context, reason: "\(error)")
    }

    private func handle(_ frame: PeerFrame, context: ChannelHandlerContext) throws {
        switch (state, frame) {
        case (.awaitingHello, .hello(let version, let from, let to, let clientNonce)):
            guard (PeerFrame.oldestProtocolVersion...limits.maxProtocolVersion).contains(version) else {
                throw PeerFrameError.badField("version \(version)")
            }
            guard to == selfID else { throw PeerFrameError.badField("hello addressed to \(to), this is \(selfID)") }
            guard from != selfID else { throw PeerFrameError.badField("hello from our own id") }
            if requireCertificate {
                let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
                let named = certificate.map(PeerIdentity.nodeIDs(in:)) ?? []
                guard named.contains(from) else {
                    throw PeerFrameError.badField("hello claims \(from), the certificate names \(named.sorted())")
                }
            }
            let serverNonce = PeerAuthenticator.nonce()
            let proof = authenticator.serverProof(clientNonce: clientNonce, serverNonce: serverNonce, from: from, to: to,
                                                  version: version)
            state = .awaitingAuth(from: from, clientNonce: clientNonce, serverNonce: serverNonce, version: version)
            var out = context.channel.allocator.buffer(capacity: 80)
            out.writePeerFrame(.challenge(nonce: serverNonce, proof: proof))
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        case (.awaitingAuth(let from, let clientNonce, let serverNonce, let version), .auth(let proof)):
            guard authenticator.verify(proof, label: PeerAuthenticator.clientLabel, clientNonce: clientNonce,
                                       serverNonce: serverNonce, from: from, to: selfID, version: version)
            else { throw PeerFrameError.badField("authentication failed for claimed node \(from)") }
            handshakeTimer?.cancel()
            limit.bytes = limits.maxFrameBytes
            state = .authenticated(from)
            logger.debug("peer authenticated", metadata: ["peer": "\(from)"])
        case (.authenticated(let from), .raftBatch(let encoded)):
            var messages: [Message] = []
            messages.reserveCapacity(encoded.count)
            for bytes in encoded {
                let message = try MessageCodec.decode(bytes)
                guard message.from == from, message.to == selfID else {
                    throw PeerFrameError.badField("message \(message.from)→\(message.to) on \(from)'s connection")
                }
                messages.append(message)
            }
            sink.deliver(messages)
        default:
            throw PeerFrameError.badField("unexpected frame in this state")
        }
    }

    private func reject(context: ChannelHandlerContext, reason: String) {
        if case .closed = state { return }
        state = .closed
        logger.warning("dropping peer connection", metadata: ["reason": "\(reason)"])
        context.close(promise: nil)
    }
}
