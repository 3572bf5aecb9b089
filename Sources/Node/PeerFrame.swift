import NIOCore
import Raft

/// Frames on a peer connection: `u32 length (big endian) | u8 kind | body`.
///
/// Handshake (mutual HMAC-SHA256 over fresh nonces, see `PeerAuthenticator`):
///   client → server `hello`      version, from, to, clientNonce
///   server → client `challenge`  serverNonce, serverProof
///   client → server `auth`       clientProof
/// then client → server `raftBatch` frames only. A connection carries messages one way.
enum PeerFrame: Equatable {
    case hello(version: UInt8, from: NodeID, to: NodeID, nonce: [UInt8])
    case challenge(nonce: [UInt8], proof: [UInt8])
    case auth(proof: [UInt8])
    /// Encoded Raft messages (each `MessageCodec` bytes).
    case raftBatch([[UInt8]])

    /// 2 added commit notices (`MessageCodec` tag 11), which a version-1 build cannot decode.
    /// A node accepts hellos of either version. A link whose version-2 hello is closed before
    /// the challenge (an older build refuses it) retries with version 1, and on a version-1
    /// connection sends commit notices as the ordinary appends they replace, so a cluster can
    /// be upgraded one node at a time.
    static let protocolVersion: UInt8 = 2
    static let oldestProtocolVersion: UInt8 = 1
    static let nonceBytes = 32
    static let proofBytes = 32

    enum Kind: UInt8 {
        case hello = 1, challenge = 2, auth = 3, raftBatch = 4
    }
}

enum PeerFrameError: Error, Equatable, CustomStringConvertible {
    case truncated(String)
    case unknownKind(UInt8)
    case badField(String)
    case frameTooLarge(Int, limit: Int)

    var description: String {
        switch self {
        case .truncated(let what): "truncated peer frame: \(what)"
        case .unknownKind(let kind): "unknown peer frame kind \(kind)"
        case .badField(let what): "bad peer frame field: \(what)"
        case .frameTooLarge(let size, let limit): "peer frame of \(size) bytes exceeds the limit of \(limit)"
        }
    }
}

extension PeerFrame {
    /// Writes the frame body (kind and payload, without the length prefix).
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .hello(let version, let from, let to, let nonce):
            buffer.writeInteger(Kind.hello.rawValue)
            buffer.writeInteger(version)
            buffer.writeInteger(from.rawValue)
            buffer.writeInteger(to.rawValue)
            buffer.writeBytes(nonce)
        case .challenge(let nonce, let proof):
            buffer.writeInteger(Kind.challenge.rawValue)
            buffer.writeBytes(nonce)
            buffer.writeBytes(proof)
        case .auth(let proof):
            buffer.writeInteger(Kind.auth.rawValue)
            buffer.writeBytes(proof)
        case .raftBatch(let messages):
            buffer.writeInteger(Kind.raftBatch.rawValue)
            buffer.writeInteger(UInt32(messages.count))
            for message in messages {
                buffer.writeInteger(UInt32(message.count))
                buffer.writeBytes(message)
            }
        }
    }

    /// Parses one frame body. Every length is checked against the bytes present.
    static func read(from buffer: inout ByteBuffer) throws(PeerFrameError) -> PeerFrame {
        guard let rawKind = buffer.readInteger(as: UInt8.self) else { throw .truncated("kind") }
        guard let kind = Kind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        let frame: PeerFrame
        switch kind {
        case .hello:
            guard let version = buffer.readInteger(as: UInt8.self),
                  let from = buffer.readInteger(as: UInt64.self),
                  let to = buffer.readInteger(as: UInt64.self),
                  let nonce = buffer.readBytes(length: nonceBytes)
            else { throw .truncated("hello") }
            guard from != 0, to != 0 else { throw .badField("node id 0 in hello") }
            frame = .hello(version: version, from: NodeID(from), to: NodeID(to), nonce: nonce)
        case .challenge:
            guard let nonce = buffer.readBytes(length: nonceBytes),
                  let proof = buffer.readBytes(length: proofBytes)
            else { throw .truncated("challenge") }
            frame = .challenge(nonce: nonce, proof: proof)
        case .auth:
            guard let proof = buffer.readBytes(length: proofBytes) else { throw .truncated("auth") }
            frame = .auth(proof: proof)
        case .raftBatch:
            guard let count = buffer.readInteger(as: UInt32.self) else { throw .truncated("batch count") }
            // Each message needs at least its 4-byte length: bound the count before allocating.
            guard Int(count) <= buffer.readableBytes / 4 else { throw .badField("batch count \(count)") }
            var messages: [[UInt8]] = []
            messages.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let length = buffer.readInteger(as: UInt32.self) else { throw .truncated("message length") }
                guard let bytes = buffer.readBytes(length: Int(length)) else { throw .truncated("message body") }
                messages.append(bytes)
            }
            frame = .raftBatch(messages)
        }
        guard buffer.readableBytes == 0 else { throw .badField("\(buffer.readableBytes) trailing bytes") }
        return frame
    }
}

/// Splits the byte stream into frames: `u32 length | body`, refusing any frame above `maxFrameBytes`
/// before buffering it (NIOExtras' length-field decoder has no such bound).
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let limit: FrameLimit

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= limit.bytes else {
            throw PeerFrameError.frameTooLarge(Int(length), limit: limit.bytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

extension ByteBuffer {
    /// Appends a length-prefixed frame.
    mutating func writePeerFrame(_ frame: PeerFrame) {
        let start = writerIndex
        writeInteger(UInt32(0))
        frame.write(into: &self)
        setInteger(UInt32(writerIndex - start - 4), at: start)
    }
}
