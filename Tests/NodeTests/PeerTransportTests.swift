import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import Synchronization
import Testing
import TestSupport
@testable import Node

/// Collects what a transport delivers, and lets a test wait for it with a bound.
final class CollectingSink: PeerMessageSink {
    private let state = Mutex<(messages: [Message], unreachable: [NodeID])>(([], []))

    func deliver(_ messages: [Message]) { state.withLock { $0.messages += messages } }
    func unreachable(_ peer: NodeID) { state.withLock { $0.unreachable.append(peer) } }

    var messages: [Message] { state.withLock { $0.messages } }
    var unreachablePeers: [NodeID] { state.withLock { $0.unreachable } }

    /// Polls until `count` messages arrived or `seconds` passed; returns what arrived.
    func waitFor(_ count: Int, seconds: Double = 5) async -> [Message] {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while messages.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return messages
    }
}


private func heartbeat(from: UInt64, to: UInt64, term: UInt64 = 3) -> Message {
    Message(from: NodeID(from), to: NodeID(to), term: Term(term), payload: .heartbeat(.init(commit: LogIndex(7), context: [1, 2])))
}

@Suite(.serialized, .ownThreads) struct PeerTransportTests {
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()
    let secret = Array("a-cluster-secret-of-32-bytes-...".utf8)

    func pair(secretA: [UInt8]? = nil, secretB: [UInt8]? = nil, limitsB: PeerTransport.Limits = .init())
        throws -> (PeerTransport, CollectingSink, PeerTransport, CollectingSink) {
        let ports = try FreePorts.take(2)
        let addresses = [NodeID(1): PeerAddress(host: "127.0.0.1", port: ports[0]),
                         NodeID(2): PeerAddress(host: "127.0.0.1", port: ports[1])]
        let sinkA = CollectingSink(), sinkB = CollectingSink()
        let group = MultiThreadedEventLoopGroup.singleton
        let a = PeerTransport(selfID: NodeID(1), listen: addresses[NodeID(1)]!, peers: addresses, secret: secretA ?? secret,
                              group: group, sink: sinkA, logger: logger)
        let b = PeerTransport(selfID: NodeID(2), listen: addresses[NodeID(2)]!, peers: addresses, secret: secretB ?? secret,
                              group: group, sink: sinkB, logger: logger, limits: limitsB)
        return (a, sinkA, b, sinkB)
    }

    static func notice(from: UInt64, to: UInt64) -> Message {
        Message(from: NodeID(from), to: NodeID(to), term: Term(3), payload: .append(.init(
            prevLogIndex: LogIndex(9), prevLogTerm: Term(3), entries: [], commit: LogIndex(9), quiet: true)))
    }

    /// Sends until `sink` has a message (the link may still be connecting), bounded.
    func deliverOne(_ message: Message, over transport: PeerTransport, to sink: CollectingSink) async -> Message? {
        var received: [Message] = []
        for _ in 0..<200 where received.isEmpty {
            transport.send([message])
            received = await sink.waitFor(1, seconds: 0.05)
        }
        return received.first
    }

    /// A peer of an older build (protocol version 1) refuses a version-2 hello: the link retries
    /// with version 1 and sends it commit notices as ordinary appends, which it can decode; the
    /// older peer's own version-1 hellos are accepted. Two current peers keep notices quiet.
    @Test func anOlderPeerGetsCommitNoticesAsOrdinaryAppends() async throws {
        var old = PeerTransport.Limits()
        old.maxProtocolVersion = 1
        let (a, sinkA, b, sinkB) = try pair(limitsB: old)
        try await a.start()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        var plain = Self.notice(from: 1, to: 2)
        plain.payload = .append(.init(prevLogIndex: LogIndex(9), prevLogTerm: Term(3), entries: [], commit: LogIndex(9)))
        #expect(await deliverOne(Self.notice(from: 1, to: 2), over: a, to: sinkB) == plain)
        #expect(await deliverOne(heartbeat(from: 2, to: 1), over: b, to: sinkA) == heartbeat(from: 2, to: 1))

        let (c, _, d, sinkD) = try pair()
        try await c.start()
        try await d.start()
        defer { Task { await c.shutdown(); await d.shutdown() } }
        #expect(await deliverOne(Self.notice(from: 1, to: 2), over: c, to: sinkD) == Self.notice(from: 1, to: 2))
    }

    @Test func deliversMessagesBothWaysAfterAuthentication() async throws {
        let (a, sinkA, b, sinkB) = try pair()
        try await a.start()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        // The first sends may be dropped while the link connects: Raft retransmits, so do we.
        var received: [Message] = []
        for _ in 0..<200 where received.isEmpty {
            a.send([heartbeat(from: 1, to: 2)])
            received = await sinkB.waitFor(1, seconds: 0.05)
        }
        #expect(received.first == heartbeat(from: 1, to: 2))
        var back: [Message] = []
        for _ in 0..<200 where back.isEmpty {
            b.send([heartbeat(from: 2, to: 1, term: 4)])
            back = await sinkA.waitFor(1, seconds: 0.05)
        }
        #expect(back.first == heartbeat(from: 2, to: 1, term: 4))
    }

    @Test func wrongSecretDeliversNothing() async throws {
        let (a, _, b, sinkB) = try pair(secretB: Array("another-secret-entirely-32-bytes".utf8))
        try await a.start()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        for _ in 0..<50 {
            a.send([heartbeat(from: 1, to: 2)])
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(sinkB.messages.isEmpty)
    }

    @Test(arguments: [
        [UInt8](repeating: 0xFF, count: 64),               // a huge length prefix: refused before buffering
        [0, 0, 0, 5, 9, 9, 9, 9, 9],                       // unknown frame kind
        [0, 0, 0, 1, 4],                                   // a raft batch before any handshake
        [0, 0, 0, 3, 1, 1, 0],                             // truncated hello
    ])
    func garbageFromAStrangerIsDroppedAndTheListenerSurvives(_ garbage: [UInt8]) async throws {
        let (a, _, b, sinkB) = try pair()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let closed = try await sendRaw(garbage, to: b.listen)
        #expect(closed, "the server must close a connection that sends garbage")
        #expect(sinkB.messages.isEmpty)
        // A legitimate peer still gets through afterwards.
        try await a.start()
        var received: [Message] = []
        for _ in 0..<200 where received.isEmpty {
            a.send([heartbeat(from: 1, to: 2)])
            received = await sinkB.waitFor(1, seconds: 0.05)
        }
        #expect(received.count >= 1)
    }

    @Test func authenticatedPeerCannotForgeAnotherSender() async throws {
        let (a, _, b, sinkB) = try pair()
        try await b.start()
        defer { Task { await a.shutdown(); await b.shutdown() } }
        // Handshake correctly as node 1, then send a message claiming to be from node 3.
        let auth = PeerAuthenticator(secret: secret)
        let forged = Message(from: NodeID(3), to: NodeID(2), term: Term(99), payload: .timeoutNow)
        let closed = try await sendAuthenticated(as: NodeID(1), to: NodeID(2), auth: auth, messages: [forged], address: b.listen)
        #expect(closed)
        #expect(sinkB.messages.isEmpty, "a message whose sender differs from the authenticated peer must not reach Raft")
    }

    @Test func frameRoundTripAndTruncationsAreErrors() throws {
        let frames: [PeerFrame] = [
            .hello(version: 1, from: NodeID(1), to: NodeID(2), nonce: Array(repeating: 7, count: 32)),
            .challenge(nonce: Array(repeating: 1, count: 32), proof: Array(repeating: 2, count: 32)),
            .auth(proof: Array(repeating: 3, count: 32)),
            .raftBatch([MessageCodec.encode(heartbeat(from: 1, to: 2)), []]),
        ]
        for frame in frames {
            var buffer = ByteBuffer()
            frame.write(into: &buffer)
            var copy = buffer
            #expect(try PeerFrame.read(from: &copy) == frame)
            let bytes = Array(buffer.readableBytesView)
            for cut in 0..<bytes.count {
                var truncated = ByteBuffer(bytes: bytes[..<cut])
                #expect(throws: PeerFrameError.self) { try PeerFrame.read(from: &truncated) }
            }
        }
    }
}

// MARK: raw clients

/// Connects, writes `bytes`, and reports whether the server closed the connection within 2 s.
func sendRaw(_ bytes: [UInt8], to address: PeerAddress) async throws -> Bool {
    let closedPromise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: address.host, port: address.port).get()
    channel.closeFuture.whenComplete { _ in closedPromise.succeed(()) }
    try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    return await waitClosed(channel, seconds: 2)
}

func waitClosed(_ channel: any Channel, seconds: Double) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while channel.isActive && ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(10))
    }
    let closed = !channel.isActive
    if !closed { try? await channel.close() }
    return closed
}

/// Performs the client side of the handshake by hand, then sends `messages` as one batch.
func sendAuthenticated(as from: NodeID, to: NodeID, auth: PeerAuthenticator, messages: [Message],
                       address: PeerAddress) async throws -> Bool {
    let challenge = ByteBox()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteCollector(into: challenge))
            }
        }
        .connect(host: address.host, port: address.port).get()
    let clientNonce = PeerAuthenticator.nonce()
    var hello = ByteBuffer()
    hello.writePeerFrame(.hello(version: PeerFrame.protocolVersion, from: from, to: to, nonce: clientNonce))
    try await channel.writeAndFlush(hello)
    var reply: [UInt8] = []
    for _ in 0..<200 where reply.count < 4 + 1 + 64 {
        try await Task.sleep(for: .milliseconds(10))
        reply = challenge.bytes.withLock { $0 }
    }
    guard reply.count >= 4 + 1 + 64 else { return false }
    let serverNonce = Array(reply[5..<37])
    var out = ByteBuffer()
    out.writePeerFrame(.auth(proof: auth.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, from: from, to: to)))
    out.writePeerFrame(.raftBatch(messages.map(MessageCodec.encode)))
    try await channel.writeAndFlush(out)
    return await waitClosed(channel, seconds: 2)
}

final class ByteBox: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

final class ByteCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let box: ByteBox
    init(into box: ByteBox) { self.box = box }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        box.bytes.withLock { $0 += buffer.readableBytesView }
    }
}
