import Foundation
import Testing
@testable import Node

@Suite struct WatchTests {
    @Test func aWaiterWakesWhenItsKeyChangesPastItsIndex() async {
        let tracker = ChangeTracker()
        tracker.start(at: 10)
        async let waited: Void = tracker.wait(for: ["t:a"], after: 10, timeout: .seconds(60))
        // Bounded wait until parked (no sleep as synchronization of the result itself).
        for _ in 0..<10_000 where tracker.waiterCount == 0 { await Task.yield() }
        #expect(tracker.waiterCount == 1)
        tracker.record([(11, ["t:b"])], applied: 11)
        #expect(tracker.waiterCount == 1, "another key does not wake it")
        tracker.record([(12, ["t:a", "q:x"])], applied: 12)
        await waited
        #expect(tracker.waiterCount == 0)
        #expect(tracker.modifiedIndex(["t:a"]) == 12)
        #expect(tracker.modifiedIndex(["t:unknown"]) == 10, "unseen keys count as changed at the floor")
    }

    @Test func aWaiterReturnsAtItsTimeoutAndLeavesNothingParked() async {
        let tracker = ChangeTracker()
        await tracker.wait(for: ["t:a"], after: 0, timeout: .milliseconds(20))
        #expect(tracker.waiterCount == 0)
    }

    @Test func aChangeAlreadyPastTheIndexAnswersAtOnce() async {
        let tracker = ChangeTracker()
        tracker.record([(5, ["j:x"])], applied: 5)
        await tracker.wait(for: ["j:x"], after: 4, timeout: .seconds(3600))
        #expect(tracker.modifiedIndex(["j:x"]) == 5)
    }

    @Test func pastTheBoundTheOldestKeysAreEvictedOneByOneRaisingTheFloor() {
        let tracker = ChangeTracker(keysMax: 3)
        tracker.start(at: 10)
        tracker.record([(11, ["t:a", "q:x"]), (12, ["t:b", "q:x"])], applied: 12)
        #expect(tracker.keyCount == 3)
        // A fourth key evicts the first to enter (t:a, changed at 11), not the whole map.
        tracker.record([(13, ["t:c"])], applied: 13)
        #expect(tracker.keyCount == 3)
        #expect(tracker.modifiedIndex(["t:a"]) == 11, "evicted: counts as changed at the raised floor")
        #expect(tracker.modifiedIndex(["t:b"]) == 12)
        #expect(tracker.modifiedIndex(["t:c"]) == 13)
        #expect(tracker.modifiedIndex(["t:never"]) == 11)
        // The next eviction is q:x (entered second), at its LAST change: the floor may only rise.
        tracker.record([(14, ["t:d"])], applied: 14)
        #expect(tracker.modifiedIndex(["q:x"]) == 12)
        #expect(tracker.modifiedIndex(["t:b"]) == 12 && tracker.modifiedIndex(["t:d"]) == 14)
        // Many keys later the map is still bounded and every surviving key exact.
        for index in UInt64(15)...20_000 { tracker.record([(index, ["t:\(index)"])], applied: index) }
        #expect(tracker.keyCount == 3)
        #expect(tracker.modifiedIndex(["t:20000"]) == 20_000)
        #expect(tracker.modifiedIndex(["t:19998"]) == 19_998)
        #expect(tracker.modifiedIndex(["t:19997"]) == 19_997, "the floor: the newest evicted key's index")
    }

    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("1m", .seconds(60)), ("0s", .zero),
    ])
    func waitDurationsParse(text: String, expected: Duration) {
        #expect(NodeAPI.parseWait(text) == expected)
    }

    @Test(arguments: ["", "s", "10", "1h", "-1s", "1.5s", "9999999999s", " 1s"])
    func badWaitDurationsDoNotParse(text: String) {
        #expect(NodeAPI.parseWait(text) == nil)
    }

    @Test(arguments: [("abc-123", "abc-123"), ("a b", nil), (String(repeating: "x", count: 65), nil), ("", nil)] as [(String, String?)])
    func requestIDsAreTheClientsOnlyWhenPlain(given: String, kept: String?) {
        let id = RequestScope.id(from: given)
        if let kept { #expect(id == kept) } else { #expect(id != given && id.count == 36) }
    }
}
