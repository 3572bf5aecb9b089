import Chaos
import Testing

/// Histories small enough to reason about by hand; times in ms-like units.
private func w(_ p: Int, _ v: Int64, _ start: Int64, _ end: Int64, _ outcome: ClientOp.Outcome = .ok) -> ClientOp {
    ClientOp(process: p, kind: .writeRegister, key: "r", value: v, outcome: outcome, invokeNs: start, completeNs: end)
}

private func r(_ p: Int, _ v: Int64?, _ start: Int64, _ end: Int64) -> ClientOp {
    ClientOp(process: p, kind: .readRegister, key: "r", value: v, outcome: .ok, invokeNs: start, completeNs: end)
}

private func verdict(_ ops: [ClientOp], initial: Int64 = 0, stepsMax: Int = 1_000_000) -> RegisterLinearizability.Verdict? {
    RegisterLinearizability(stepsMax: stepsMax).check(History(operations: ops, initialRegisters: ["r": initial]))["r"]
}

@Suite struct RegisterLinearizabilityTests {
    @Test func sequentialHistoryIsLinearizable() {
        #expect(verdict([w(1, 1, 0, 10), r(2, 1, 20, 30), w(1, 2, 40, 50), r(2, 2, 60, 70)]) == .linearizable)
    }

    @Test func staleReadAfterANewerWriteIsCaught() {
        // Write 2 finished before the read began, yet the read returns 1.
        let stale = r(2, 1, 40, 50)
        #expect(verdict([w(1, 1, 0, 10), w(1, 2, 20, 30), stale]) == .violation(key: "r", stuckAt: stale))
    }

    @Test func readOfAValueNeverWrittenIsCaught() {
        if case .violation = verdict([w(1, 1, 0, 10), r(2, 7, 20, 30)]) {} else {
            Issue.record("a read of 7, never written, was accepted")
        }
    }

    @Test func concurrentWriteMayBeSeenEitherWay() {
        // The read overlaps write 2: both 1 and 2 are legal answers.
        #expect(verdict([w(1, 1, 0, 10), w(1, 2, 20, 60), r(2, 1, 30, 40)]) == .linearizable)
        #expect(verdict([w(1, 1, 0, 10), w(1, 2, 20, 60), r(2, 2, 30, 40)]) == .linearizable)
    }

    @Test func readsMustNotGoBackInTime() {
        // During a long write of 2, one reader sees 2 and a later reader sees 1 again: not linearizable.
        let back = r(3, 1, 50, 55)
        if case .violation = verdict([w(1, 1, 0, 10), w(1, 2, 20, 100), r(2, 2, 30, 40), back]) {} else {
            Issue.record("a read going back to the old value was accepted")
        }
    }

    @Test func unknownWriteMayTakeEffectLongAfterItsClientGaveUp() {
        // The client gave up at 10; the write of 5 became visible at 100.
        #expect(verdict([w(1, 5, 0, 10, .unknown), r(2, 0, 20, 30), r(2, 5, 100, 110)]) == .linearizable)
    }

    @Test func unknownWriteMayNeverTakeEffect() {
        #expect(verdict([w(1, 5, 0, 10, .unknown), r(2, 0, 20, 30), r(2, 0, 100, 110)]) == .linearizable)
    }

    @Test func unknownWriteCannotTakeEffectBeforeItsInvoke() {
        if case .violation = verdict([r(2, 5, 0, 10), w(1, 5, 20, 30, .unknown)]) {} else {
            Issue.record("a read saw an unknown write before it was invoked")
        }
    }

    @Test func failedWritesAreIgnoredSoTheirValueIsAViolation() {
        // A definitely failed write must not become visible.
        if case .violation = verdict([w(1, 5, 0, 10, .fail), r(2, 5, 20, 30)]) {} else {
            Issue.record("a read of a failed write's value was accepted")
        }
    }

    @Test func manyConcurrentOperationsStayTractable() {
        // 8 processes, 400 operations of overlapping writes and reads of the latest value.
        var ops: [ClientOp] = []
        var value: Int64 = 0
        for i in 0..<200 {
            let t = Int64(i) * 10
            value += 1
            ops.append(w(i % 8, value, t, t + 25))
            ops.append(r((i + 1) % 8, value, t + 26, t + 30))
        }
        #expect(verdict(ops, stepsMax: 2_000_000) == .linearizable)
    }

    @Test func manyUnknownWritesNobodyReadDoNotBlowUpTheSearch() {
        // 40 unknown writes pending forever beside a steady read/write stream: without dropping
        // the unread ones the search branches over every subset of them.
        var ops: [ClientOp] = (0..<40).map { i in w(100 + i, 1_000 + Int64(i), Int64(i), Int64(i) + 5, .unknown) }
        for i in 0..<100 {
            let t = 1_000 + Int64(i) * 10
            ops.append(w(1, Int64(i + 1), t, t + 4))
            ops.append(r(2, Int64(i + 1), t + 5, t + 8))
        }
        #expect(verdict(ops, stepsMax: 200_000) == .linearizable)
        // One of them read at the end must still be placed, after the last write.
        ops.append(r(3, 1_007, 5_000, 5_010))
        #expect(verdict(ops, stepsMax: 200_000) == .linearizable)
        ops.append(r(3, 100, 5_020, 5_030))
        if case .violation = verdict(ops, stepsMax: 200_000) {} else { Issue.record("going back to 100 after 1007 was accepted") }
    }

    @Test func budgetExhaustionIsInconclusiveNotAPass() {
        var ops: [ClientOp] = []
        for i in 0..<12 { ops.append(w(i, Int64(i + 1), 0, 1_000)) }
        ops.append(r(99, 99, 2_000, 2_010))
        #expect(verdict(ops, stepsMax: 50) == .inconclusive(key: "r"))
    }
}
