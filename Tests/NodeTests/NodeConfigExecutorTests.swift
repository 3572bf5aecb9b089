import Foundation
import Testing
@testable import Node

@Suite struct NodeConfigExecutorTests {
    static let base = #"{"nodeId": 1, "dataDir": "/tmp/x", "clusterSecret": "0123456789abcdef0123", "members": [{"id": 1, "api": "127.0.0.1:1", "peer": "127.0.0.1:2"}]"#

    static func config(_ extra: String = "") throws -> NodeConfig {
        try JSONDecoder().decode(NodeConfig.self, from: Data((base + extra + "}").utf8))
    }

    @Test func anOlderConfigFileGetsTheExecutorDefaults() throws {
        let config = try Self.config()
        #expect(config.executorSlots == 4 && config.leaseDurationMs == 10_000 && !config.testTaskKinds)
        #expect(config.allowedTargets == nil)
        let validated = try config.validated()
        #expect(validated.allowList.networks.count >= 1)
        #expect(validated.allowList.allows(.v4(0x7F00_0001)))
        #expect(!validated.allowList.allows(.v4(0x0A00_0001)))
    }

    @Test func allowedTargetsWidenTheAllowList() throws {
        let validated = try Self.config(#", "allowedTargets": ["10.0.0.0/8"], "executorSlots": 16"#).validated()
        #expect(validated.allowList.allows(.v4(0x0A01_0203)))
        #expect(!validated.allowList.allows(.v4(0x7F00_0001)))
        #expect(validated.config.executorSlots == 16)
    }

    @Test(arguments: [#", "allowedTargets": ["10.0.0.0/33"]"#, #", "executorSlots": 0"#, #", "leaseDurationMs": 5"#,
                      #", "executorHeartbeatMs": 5000, "executorLivenessMs": 4000"#])
    func outOfRangeExecutorSettingsAreRefused(_ extra: String) throws {
        let config = try Self.config(extra)
        #expect(throws: NodeConfigError.self) { try config.validated() }
    }
}
