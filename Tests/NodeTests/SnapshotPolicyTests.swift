import Testing
@testable import Node

@Suite struct SnapshotPolicyTests {
    @Test func theGrowthRuleWaitsForLogDataInProportionToTheStore() {
        let policy = SnapshotPolicy(entries: 100, bytes: 64 << 20, growth: 1)
        // Enough entries, but only 30 KB of data since the last compaction, with a 1 MB store: not yet.
        #expect(!policy.due(entriesSince: 100, bytesSince: 30_000, storeBytes: 1_000_000))
        #expect(policy.due(entriesSince: 5_000, bytesSince: 1_000_000, storeBytes: 1_000_000))
        // Data enough but too few entries: not yet.
        #expect(!policy.due(entriesSince: 99, bytesSince: 2_000_000, storeBytes: 1_000_000))
        // An empty store: the entry count alone decides.
        #expect(policy.due(entriesSince: 100, bytesSince: 1, storeBytes: 0))
        // The byte ceiling bounds the log whatever the store's size.
        #expect(policy.due(entriesSince: 1, bytesSince: 64 << 20, storeBytes: 1 << 40))
    }

    @Test func growthZeroIsTheFixedEntryCount() {
        let policy = SnapshotPolicy(entries: 40, bytes: 64 << 20, growth: 0)
        #expect(!policy.due(entriesSince: 39, bytesSince: 10_000, storeBytes: 1 << 30))
        #expect(policy.due(entriesSince: 40, bytesSince: 0, storeBytes: 1 << 30))
    }

    @Test func nodesCompactAtDifferentEntries() {
        let thresholds = (1...4).map { SnapshotPolicy.staggered(entries: 10_000, bytes: 64 << 20, growth: 1, node: UInt64($0)) }
        #expect(thresholds.map(\.entries) == [10_000, 12_500, 15_000, 17_500])
        #expect(thresholds.map(\.bytes) == [64 << 20, 80 << 20, 96 << 20, 112 << 20])
        #expect(SnapshotPolicy.staggered(entries: 10_000, bytes: 64 << 20, growth: 1, node: 5).entries == 10_000)
    }
}
