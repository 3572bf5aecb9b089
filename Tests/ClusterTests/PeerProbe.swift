import Foundation
import NIOCore
import NIOPosix
import NIOSSL
@testable import Node
import Raft
import Synchronization

/// A hostile or confused client of a node's peer port (B11): connects over plain TCP or TLS
/// (with whatever certificate a test gives it), writes raw bytes or peer frames, and reports what
/// the node answered and whether it ended the connection.
final class PeerProbe: Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    /// Received bytes and the end of the connection, shared with the channel's handler.
    final class Inbox: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let error = Mutex<String?>(nil)
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to 127.0.0.1:`port`; with `tls`, runs a TLS client handshake first (it may fail:
    /// the node then ends the connection, which `ended(within:)` reports).
    static func connect(port: Int, tls: NIOSSLContext? = nil) async throws -> PeerProbe {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return PeerProbe(channel: channel, inbox: inbox)
    }

    /// Writes bytes; a connection the node already closed swallows them (that is the point).
    func send(_ bytes: [UInt8]) async {
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func send(_ frame: PeerFrame) async {
        var buffer = ByteBuffer()
        buffer.writePeerFrame(frame)
        await send(Array(buffer.readableBytesView))
    }

    /// True once the connection has ended (the node closed it, or the TLS handshake failed),
    /// waiting at most `seconds` (the node's handshake timeout is 5 s).
    func ended(within seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !channel.isActive { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !channel.isActive
    }

    /// The first complete frame the node sent, waiting at most `seconds`; nil if the connection
    /// ended first or nothing complete arrived.
    func firstFrame(within seconds: Double = 10) async -> PeerFrame? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let bytes = inbox.bytes.withLock { $0 }
            var buffer = ByteBuffer(bytes: bytes)
            if let length = buffer.readInteger(as: UInt32.self), buffer.readableBytes >= Int(length),
               var body = buffer.readSlice(length: Int(length)) {
                return try? PeerFrame.read(from: &body)
            }
            if !channel.isActive { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func close() async {
        try? await channel.close()
    }

    /// Collects what arrives; any error ends the connection.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            inbox.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            inbox.error.withLock { $0 = "\(error)" }
            context.close(promise: nil)
        }
    }
}

/// Forged Raft traffic: an AppendEntries heartbeat and a (real, not pre-) vote request, both with
/// a term far beyond anything a test cluster reaches. Either one, if it reached Raft, would move
/// the receiver to that term.
enum Forged {
    static let term: UInt64 = 1 << 60

    static func batch(from: UInt64, to: UInt64) -> PeerFrame {
        let heartbeat = Message(from: NodeID(from), to: NodeID(to), term: Term(term), payload: .heartbeat(.init(commit: LogIndex(0))))
        let vote = Message(from: NodeID(from), to: NodeID(to), term: Term(term),
                           payload: .voteRequest(.init(preVote: false, lastLogTerm: Term(term), lastLogIndex: LogIndex(1 << 40))))
        return .raftBatch([MessageCodec.encode(heartbeat), MessageCodec.encode(vote)])
    }

    static func isChallenge(_ frame: PeerFrame?) -> Bool {
        if case .challenge = frame { return true }
        return false
    }

    static func hello(from: UInt64, to: UInt64) -> PeerFrame {
        .hello(version: PeerFrame.protocolVersion, from: NodeID(from), to: NodeID(to), nonce: PeerAuthenticator.nonce())
    }
}
