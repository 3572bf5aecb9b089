import Logging
import Synchronization
import Testing
@testable import Node

@Suite struct LogContextTests {
    static func config(logLevel: String) -> NodeConfig {
        NodeConfig(nodeId: 1, dataDir: "/nonexistent/trireme-log-test", members: [.init(id: 1, api: "127.0.0.1:1", peer: "127.0.0.1:2")],
                   clusterSecret: "0123456789abcdef0123", logLevel: logLevel)
    }

    @Test func anUnknownLogLevelIsAConfigErrorNotSilentlyInfo() throws {
        #expect(throws: NodeConfigError.self) { try Self.config(logLevel: "verbose").validated() }
        #expect(try Self.config(logLevel: "debug").validated().logLevel == .debug)
    }

    @Test func everyLineCarriesTheTermAndInsideARequestItsID() {
        let context = LogContext()
        context.term.store(7, ordering: .relaxed)
        #expect(context.provider.get()["term"] == "7")
        #expect(context.provider.get()["request"] == nil)
        RequestScope.$current.withValue(RequestScope(id: "req-1")) {
            #expect(context.provider.get()["request"] == "req-1")
        }
    }

    final class Capture: TextOutputStream, @unchecked Sendable {
        let lines = Mutex<[String]>([])
        func write(_ string: String) { lines.withLock { $0.append(string) } }
    }

    /// The deferred handler writes exactly the line `StreamLogHandler` writes (its timestamp aside).
    @Test func deferredMetadataLinesAreStreamLogHandlerLines() {
        let plain = Capture()
        let deferred = Capture()
        let context = LogContext()
        context.term.store(3, ordering: .relaxed)
        var reference = Logger(label: "trireme") { label in
            StreamLogHandler(label: label, stream: plain, metadataProvider: context.provider)
        }
        var logger = Logger(label: "trireme") { label in
            DeferredMetadataLogHandler(base: StreamLogHandler(label: label, stream: deferred, metadataProvider: context.provider))
        }
        reference.logLevel = .debug
        logger.logLevel = .debug
        reference[metadataKey: "node"] = "n1"
        logger[metadataKey: "node"] = "n1"
        reference[metadataKey: "hb.request.id"] = "abc"
        logger[metadataKey: "hb.request.id"] = "abc"
        #expect(logger[metadataKey: "node"] == "n1")
        #expect(logger.logLevel == .debug)
        logger.trace("not written")
        RequestScope.$current.withValue(RequestScope(id: "req-9")) {
            reference.info("created", metadata: ["task": "t1"])
            logger.info("created", metadata: ["task": "t1"])
        }
        reference.warning("plain")
        logger.warning("plain")
        func withoutTimestamps(_ capture: Capture) -> [String] {
            capture.lines.withLock { $0 }.map { String($0.split(separator: " ", maxSplits: 1).last ?? "") }
        }
        let written = withoutTimestamps(deferred)
        #expect(written.count == 2)
        #expect(written == withoutTimestamps(plain))
        #expect(written.first?.contains("hb.request.id=abc node=n1 request=req-9 task=t1 term=3") == true)
    }
}
