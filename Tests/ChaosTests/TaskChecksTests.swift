import Chaos
import Testing

private func create(_ key: String, _ outcome: ClientOp.Outcome, at t: Int64 = 0) -> ClientOp {
    ClientOp(process: 1, kind: .createTask, key: key, outcome: outcome, invokeNs: t, completeNs: t + 5)
}

private func task(_ id: String, _ name: String, _ state: String = "succeeded", attempts: Int = 1, delivery: Int64? = nil,
                  history: [FinalState.AttemptSnapshot]? = nil) -> FinalState.TaskSnapshot {
    FinalState.TaskSnapshot(id: id, name: name, state: state, attempts: attempts, acceptedDelivery: delivery, attemptHistory: history)
}

@Suite struct TaskChecksTests {
    let deliveries = [Delivery(id: 1, taskID: "t1", attempt: 1, node: "1", timeNs: 10),
                      Delivery(id: 2, taskID: "t2", attempt: 1, node: "1", timeNs: 11),
                      Delivery(id: 3, taskID: "t2", attempt: 2, node: "2", timeNs: 50)]

    @Test func validHistoryWithUnknownsAndRedeliveryPasses() {
        let history = History(operations: [create("a", .ok), create("b", .unknown), create("b", .ok), create("c", .unknown)],
                              deliveries: deliveries)
        let history2 = [FinalState.AttemptSnapshot(attempt: 1, fence: 10, outcome: "lease_expired"),
                        FinalState.AttemptSnapshot(attempt: 2, fence: 20, outcome: "succeeded")]
        let final = FinalState(tasks: [task("t1", "a", delivery: 1), task("t2", "b", attempts: 2, delivery: 3, history: history2)],
                               queueStats: ["succeeded": 2])
        let result = TaskChecks.check(history, final)
        #expect(result.violations == 0)
        #expect(result.acknowledged == 2)
        #expect(result.unknownAbsent == 1)
        #expect(result.redelivered == ["t2": ["attempt 1 fence 10", "attempt 2 fence 20"]])
    }

    @Test func lostAcknowledgedCreateIsCaught() {
        let history = History(operations: [create("a", .ok), create("b", .ok)], deliveries: deliveries)
        let final = FinalState(tasks: [task("t1", "a", delivery: 1)], queueStats: ["succeeded": 1])
        let result = TaskChecks.check(history, final)
        #expect(result.lostCreates == ["b"])
        #expect(result.violations == 1)
    }

    @Test func doubleCompletionFromStaleAttemptIsCaught() {
        // t2 was re-dispatched (attempt 2), yet the store kept attempt 1's result: the stale
        // attempt's completion was accepted.
        let history = History(operations: [create("b", .ok)], deliveries: deliveries)
        let final = FinalState(tasks: [task("t2", "b", attempts: 2, delivery: 2)], queueStats: ["succeeded": 1])
        #expect(TaskChecks.check(history, final).staleCompletions == ["t2"])
    }

    @Test func twoAcceptedCompletionsInTheAttemptHistoryAreCaught() {
        // Both attempts' completions were accepted; the result names the last one, so only the
        // attempt history shows it.
        let history = History(operations: [create("b", .ok)], deliveries: deliveries)
        let attempts = [FinalState.AttemptSnapshot(attempt: 1, fence: 10, outcome: "succeeded"),
                        FinalState.AttemptSnapshot(attempt: 2, fence: 20, outcome: "succeeded")]
        let final = FinalState(tasks: [task("t2", "b", attempts: 2, delivery: 3, history: attempts)], queueStats: ["succeeded": 1])
        let result = TaskChecks.check(history, final)
        #expect(result.doubleCompletions == ["t2"])
        #expect(result.staleCompletions.isEmpty)
        #expect(result.violations == 1)
    }

    @Test func completionAppliedTwiceShowsInTheStoreCounts() {
        let history = History(operations: [create("a", .ok)], deliveries: deliveries)
        let final = FinalState(tasks: [task("t1", "a", delivery: 1)], queueStats: ["succeeded": 2])
        let result = TaskChecks.check(history, final)
        #expect(result.countMismatches == ["succeeded: store counts 2, lists 1"])
        #expect(result.violations == 1)
    }

    @Test func resultNamingNoDeliveryIsCaught() {
        let history = History(operations: [create("a", .ok)], deliveries: [])
        let final = FinalState(tasks: [task("t1", "a", delivery: 9)], queueStats: ["succeeded": 1])
        #expect(TaskChecks.check(history, final).staleCompletions == ["t1"])
    }

    @Test func falseFailureAndUnexpectedTasksAreCaught() {
        let history = History(operations: [create("a", .fail)])
        let final = FinalState(tasks: [task("t1", "a", "queued"), task("t9", "zz", "queued")], queueStats: ["queued": 2])
        let result = TaskChecks.check(history, final)
        #expect(result.falseFailures == ["a"])
        #expect(result.unexpected == ["t9"])
        #expect(result.stuck == ["t1", "t9"])
        #expect(result.violations == 4)
    }
}
