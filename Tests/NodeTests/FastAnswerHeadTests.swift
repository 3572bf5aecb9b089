import API
import NIOCore
import NIOEmbedded
import NIOHTTP1
import HTTPTypes
import NIOHTTPTypes
import Testing
@testable import Node

/// `CreateFastPath` writes its answers as bytes past Hummingbird's codec and NIO's encoder, and
/// matches its path without splitting it; both must agree with what they stand in for.
@Suite struct FastAnswerHeadTests {
    /// The bytes NIO's `HTTPResponseEncoder` writes for the same head (fields in the same order,
    /// named as `APIHeader` names them) and body.
    static func encoded(_ head: FastAnswerHead, body: [UInt8]) throws -> [UInt8] {
        var fields: [(String, String)] = []
        if let raft = head.raft { fields += [(APIHeader.raftIndex, "\(raft.index)"), (APIHeader.raftTerm, "\(raft.term)")] }
        if head.retryAfter { fields.append(("Retry-After", "1")) }
        fields += [(APIHeader.index, "\(head.triremeIndex)"), ("Content-Type", "application/json; charset=utf-8"),
                   ("Content-Length", "\(body.count)"), (APIHeader.requestID, head.requestID), ("Date", head.date), ("Server", "trireme")]
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        defer { _ = try? channel.finish() }
        let response = HTTPResponseHead(version: .http1_1, status: .init(statusCode: head.status), headers: HTTPHeaders(fields))
        try channel.writeOutbound(HTTPServerResponsePart.head(response))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        var bytes: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
        }
        return bytes
    }

    @Test(arguments: [201, 400, 404, 409, 413, 415, 429, 500, 503])
    func theHeadIsWhatNIOsEncoderWrites(status: Int) throws {
        for (raft, retryAfter) in [(true, false), (false, false), (false, true)] {
            var head = FastAnswerHead(status: status, requestID: "01a231e4-8c9e-713c-b6b7-0498d8fefb85",
                                      date: "Tue, 01 Dec 2026 13:56:31 GMT", triremeIndex: 41)
            if raft { head.raft = (1_234_567, 9) }
            head.retryAfter = retryAfter
            let body = Array(#"{"error":{"code":"X","message":"y"}}"#.utf8)
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            head.write(contentLength: body.count, into: &buffer)
            #expect(buffer.readableBytes <= FastAnswerHead.maxBytes)
            buffer.writeBytes(body)
            let expected = try Self.encoded(head, body: body)
            #expect(Array(buffer.readableBytesView) == expected,
                    "\(String(decoding: buffer.readableBytesView, as: UTF8.self))\nvs\n\(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test func theTasksPathIsMatchedExactly() {
        let cases: [(String, String?)] = [
            ("/v1/queues/q/tasks", "q"), ("/v1/queues/bench-1_x.y/tasks", "bench-1_x.y"), ("/v1/queues/é/tasks", "é"),
            ("/v1/queues//tasks", nil), ("/v1/queues/a/b/tasks", nil), ("/v1/queues/q/tasks?x=1", nil), ("/v1/queues/q/tasks/", nil),
            ("/v1/queues/q%2F/tasks", nil), ("/v1/queues/q:run/tasks", nil), ("/v1/queues/q?/tasks", nil), ("/v2/queues/q/tasks", nil),
            ("/v1/queues/q/task", nil), ("v1/queues/q/tasks", nil), ("/v1/queues/tasks", nil), ("/v1/queues/", nil), ("", nil),
            ("/v1/queues/\(String(repeating: "a", count: 283))/tasks", String(repeating: "a", count: 283)),
            ("/v1/queues/\(String(repeating: "a", count: 284))/tasks", nil),  // 301 bytes
        ]
        for (path, queue) in cases {
            #expect(CreateFastPath.queue(inTasksPath: path) == queue, "\(path)")
        }
    }
}

/// `FastAnswerEndSink` drops exactly the end parts the fast path announced, and nothing else.
@Suite struct FastAnswerEndSinkTests {
    @Test func onlyAnnouncedEndsAreDropped() throws {
        let sink = FastAnswerEndSink()
        let channel = EmbeddedChannel(handler: sink)
        defer { _ = try? channel.finish() }
        func written() throws -> [String] {
            var parts: [String] = []
            while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
                switch part {
                case .head(let head): parts.append("head \(head.status.code)")
                case .body: parts.append("body")
                case .end: parts.append("end")
                }
            }
            return parts
        }
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try written() == ["head 200", "end"], "an end nobody announced passes")
        sink.expectEnd()
        sink.expectEnd()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(HTTPResponsePart.end(nil), promise: promise)
        try promise.futureResult.wait()
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .created)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try written() == ["head 201"], "two announced ends dropped (the first's promise succeeded), the head passed")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try written() == ["end"], "a third end passes again")
    }
}
