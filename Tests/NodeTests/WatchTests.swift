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
