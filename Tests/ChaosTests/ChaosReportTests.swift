import Chaos
import Testing

@Suite struct ChaosReportTests {
    @Test func availabilityMeasuresRecoveryAndLeaderlessTime() {
        let ms: Int64 = 1_000_000
        let ops = [
            ClientOp(process: 1, kind: .createTask, key: "a", outcome: .ok, invokeNs: 0, completeNs: 5 * ms),
            ClientOp(process: 1, kind: .createTask, key: "b", outcome: .ok, invokeNs: 120 * ms, completeNs: 130 * ms),
            ClientOp(process: 9, kind: .status, value: 1, outcome: .ok, invokeNs: 0, completeNs: 1 * ms),
            ClientOp(process: 9, kind: .status, value: nil, outcome: .ok, invokeNs: 40 * ms, completeNs: 41 * ms),
            ClientOp(process: 9, kind: .status, outcome: .unknown, invokeNs: 60 * ms, completeNs: 61 * ms),
            ClientOp(process: 9, kind: .status, value: 2, outcome: .ok, invokeNs: 100 * ms, completeNs: 101 * ms),
        ]
        let faults = [FaultEvent(timeNs: 30 * ms, fault: "kill", phase: "start", target: "n1")]
        let a = Availability.measure(History(operations: ops), faults: faults)
        #expect(a.recoveryMs == [100])
        #expect(a.leaderlessMs == [60])
        #expect(a.longestWriteGapMs == 125)
    }

    @Test func reportFailsOnAnyViolationAndPassesACleanRun() {
        let ok = ClientOp(process: 1, kind: .createTask, key: "a", outcome: .ok, invokeNs: 0, completeNs: 5)
        let clean = ChaosReport(history: History(operations: [ok]), faults: [],
                                final: FinalState(tasks: [.init(id: "t1", name: "a", state: "queued", attempts: 0)], queueStats: ["queued": 1]),
                                reference: [:], baselineCounters: nil)
        // Queued after healing is stuck: one violation, and the table says so.
        #expect(clean.violations == 1)
        #expect(clean.table().contains("verdict: FAIL (1 violations)"))
        let done = ChaosReport(history: History(operations: [ok]), faults: [],
                               final: FinalState(tasks: [.init(id: "t1", name: "a", state: "dead", attempts: 3)], queueStats: ["dead": 1]),
                               reference: [:], baselineCounters: nil)
        #expect(done.violations == 0)
        #expect(done.table().contains("verdict: PASS"))
    }

    @Test func staleRegisterReadFailsTheRun() {
        let ops = [
            ClientOp(process: 1, kind: .writeRegister, key: "reg-0", value: 7, outcome: .ok, invokeNs: 0, completeNs: 10),
            ClientOp(process: 2, kind: .readRegister, key: "reg-0", value: 1, outcome: .ok, invokeNs: 20, completeNs: 30),
            ClientOp(process: 2, kind: .readRegister, key: "reg-1", value: 1, outcome: .ok, invokeNs: 20, completeNs: 30),
        ]
        let report = ChaosReport(history: History(operations: ops, initialRegisters: ["reg-0": 1, "reg-1": 1]), faults: [],
                                 final: FinalState(tasks: []), reference: [:], baselineCounters: nil)
        #expect(report.violations == 1)
        #expect(report.rows.contains { $0.check.hasPrefix("registers linearizable") && $0.passed == false && $0.value.hasPrefix("1 of 2") })
        #expect(report.details().contains { $0.hasPrefix("registers: reg-0: no linearization; stuck at readRegister 1") })
    }
}
