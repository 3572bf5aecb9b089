import Logging
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
}
