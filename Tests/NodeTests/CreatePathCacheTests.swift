import API
import Executor
import Testing
@testable import Node

/// The two caches on the create path must not change what they cache.
@Suite struct CreatePathCacheTests {
    static func payload(_ url: String) -> JSONValue { .object(["url": .string(url)]) }

    @Test func onlyAcceptedTargetsAreRememberedAndRefusalsAreReCheckedEveryTime() throws {
        let accepted = AcceptedTargets()
        let list = OutboundAllowList.loopbackOnly
        try NodeAPI.checkHTTPTarget(Self.payload("http://127.0.0.1:9/"), allowList: list, accepted: accepted)
        #expect(accepted.contains("http://127.0.0.1:9/"))
        for _ in 0..<2 {
            #expect(throws: APIError.self) {
                try NodeAPI.checkHTTPTarget(Self.payload("http://169.254.169.254/"), allowList: list, accepted: accepted)
            }
            #expect(throws: APIError.self) {
                try NodeAPI.checkHTTPTarget(Self.payload("ftp://127.0.0.1/"), allowList: list, accepted: accepted)
            }
        }
        #expect(accepted.count == 1)
        // A repeat is answered from the set, and the set stays bounded.
        try NodeAPI.checkHTTPTarget(Self.payload("http://127.0.0.1:9/"), allowList: list, accepted: accepted)
        for port in 0..<(AcceptedTargets.capacity + 10) {
            try NodeAPI.checkHTTPTarget(Self.payload("http://127.0.0.1:\(port + 1)/"), allowList: list, accepted: accepted)
        }
        #expect(accepted.count <= AcceptedTargets.capacity)
    }

    @Test func cachedHTTPMetricHandlesKeepCountingPerLabelSet() {
        let metrics = NodeMetrics()
        for _ in 0..<3 { metrics.httpRequest(route: "/v1/queues/:queue/tasks", method: "POST", status: 201, duration: .milliseconds(1)) }
        metrics.httpRequest(route: "/v1/queues/:queue/tasks", method: "POST", status: 409, duration: .milliseconds(1))
        let text = metrics.exposition()
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("trireme_http_requests_total{") }
        #expect(lines.count == 2)
        #expect(lines.contains { $0.contains("status=\"201\"") && $0.hasSuffix(" 3") })
        #expect(lines.contains { $0.contains("status=\"409\"") && $0.hasSuffix(" 1") })
        #expect(text.contains("trireme_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/queues/:queue/tasks\"} 4")
                || text.contains("trireme_http_request_duration_seconds_count{route=\"/v1/queues/:queue/tasks\",method=\"POST\"} 4"))
    }
}
