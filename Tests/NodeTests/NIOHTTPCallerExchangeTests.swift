import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import Executor
@testable import Node

/// Real exchanges against a one-shot raw-socket server: what the caller sends, a bounded body
/// prefix, redirects returned as they are.
@Suite struct NIOHTTPCallerExchangeTests {
    /// Accepts one connection on a thread, records the request head, writes `answer`, closes.
    final class OneShotServer: Sendable {
        let fd: Int32
        let port: Int
        let received = Mutex<String>("")
        private let done = Mutex(false)

        init(answer: [UInt8]) throws {
            (fd, port) = try ExecutorWiringTests.listeningSocket(accepting: true)
            let fd = fd
            let thread = Thread { [self] in
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                var request: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4_096)
                while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                    let n = read(client, &chunk, chunk.count)
                    if n <= 0 { break }
                    request += chunk[0..<n]
                }
                received.withLock { $0 = String(decoding: request, as: UTF8.self) }
                var offset = 0
                while offset < answer.count {
                    let n = answer[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    offset += n
                }
                close(client)
            }
            thread.start()
        }

        deinit { close(fd) }
    }

    static func answer(_ head: String, bodyBytes: Int) -> [UInt8] {
        Array("\(head)\r\nContent-Length: \(bodyBytes)\r\n\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "z"), count: bodyBytes)
    }

    @Test func aLargeAnswerIsReadOnlyUpToTheBoundAndTheRequestIsWellFormed() async throws {
        let server = try OneShotServer(answer: Self.answer("HTTP/1.1 200 OK", bodyBytes: 1_000_000))
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n7")
        let request = OutboundHTTPRequest(
            target: try ExecutorWiringTests.target("http://127.0.0.1:\(server.port)/hook?x=1"), method: "PUT",
            headers: [("X-Custom", "v")], body: Data("hello".utf8), timeoutMs: 5_000)
        let response = try await caller.send(request)
        #expect(response.status == 200)
        #expect(response.bodyPrefix.count == caller.maxBodyPrefix)
        let head = server.received.withLock { $0 }
        #expect(head.hasPrefix("PUT /hook?x=1 HTTP/1.1\r\n"), "\(head)")
        for line in ["Host: 127.0.0.1:\(server.port)", "X-Trireme-Node: n7", "X-Custom: v", "Content-Length: 5", "Connection: close"] {
            #expect(head.contains(line + "\r\n"), "missing \(line) in \(head)")
        }
    }

    @Test func aRedirectIsReturnedNotFollowed() async throws {
        let server = try OneShotServer(answer: Self.answer("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/", bodyBytes: 0))
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        let response = try await caller.send(try ExecutorWiringTests.request("http://127.0.0.1:\(server.port)/"))
        #expect(response.status == 302)
        #expect(response.headers["location"] == "http://169.254.169.254/", "headers come back with lowercased names")
    }

    @Test func theForwarderRelaysTheLeadersAnswerWithItsRaftHeaders() async throws {
        let body = #"{"id":"t-1"}"#
        let server = try OneShotServer(answer: Array("""
            HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTrireme-Raft-Index: 42\r\n\
            Trireme-Raft-Term: 3\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)
            """.utf8))
        let forwarder = Forwarder(selfID: 2, timeout: 5)
        let answer = try await forwarder.forward(
            method: .post, path: "/v1/queues/q/tasks", body: ByteBuffer(string: #"{"kind":"http"}"#),
            contentType: "application/json", idempotencyKey: "k-1", to: "127.0.0.1:\(server.port)")
        #expect(answer.status == 201)
        #expect(String(decoding: answer.body, as: UTF8.self) == body)
        #expect(answer.contentType == "application/json")
        #expect(answer.raftIndex == 42)
        #expect(answer.raftTerm == "3")
        let head = server.received.withLock { $0 }
        #expect(head.hasPrefix("POST /v1/queues/q/tasks HTTP/1.1\r\n"), "\(head)")
        for line in ["Trireme-Forwarded-By: 2", "Idempotency-Key: k-1", "Content-Type: application/json"] {
            #expect(head.contains(line + "\r\n"), "missing \(line) in \(head)")
        }
    }

    @Test func aForwardToAnUnreachableLeaderIsAnUnknownOutcome() async throws {
        let (fd, port) = try ExecutorWiringTests.listeningSocket(accepting: false)
        close(fd)
        let forwarder = Forwarder(selfID: 2, timeout: 2)
        do {
            _ = try await forwarder.forward(method: .post, path: "/v1/queues", body: ByteBuffer(), contentType: nil,
                                            idempotencyKey: nil, to: "127.0.0.1:\(port)")
            Issue.record("a refused connection must throw")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.outcome == .unknown)
        }
    }
}
