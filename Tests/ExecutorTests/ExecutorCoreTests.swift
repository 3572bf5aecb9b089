import Foundation
@testable import Executor
@testable import Store
import Testing

@Suite struct ExecutorCoreTests {
    func view(_ tasks: [TaskRecord], cancelling: Set<String> = [], registered: Int? = 2) -> ExecutorView {
        ExecutorView(leased: tasks, cancellingJobs: cancelling, registeredSlots: registered)
    }

    @Test func startsWithinSlotsOldestGrantFirst() {
        var core = ExecutorCore(config: config(slots: 2))
        let tasks = [leasedTask("c", fence: 30), leasedTask("a", fence: 10), leasedTask("b", fence: 20)]
        let actions = core.reconcile(view(tasks), nowMs: t0)
        #expect(actions.compactMap(\.started) == ["a", "b"])
        #expect(actions.compactMap(\.proposed) == [.startTask(taskID: "a", fence: 10, nowMs: t0), .startTask(taskID: "b", fence: 20, nowMs: t0)])
        // Reconciling the same view again starts nothing new.
        #expect(core.reconcile(view(tasks), nowMs: t0 + 1).isEmpty)
        // "a" finishes: its report goes out, its slot frees, "c" starts.
        let done = core.finished(taskID: "a", fence: 10, outcome: .succeeded(result: Data("ok".utf8), counters: ["n": 1]), nowMs: t0 + 5)
        #expect(done.compactMap(\.proposed) == [.completeTask(taskID: "a", fence: 10, result: Data("ok".utf8), counters: ["n": 1], nowMs: t0 + 5)])
        #expect(core.reconcile(view(tasks), nowMs: t0 + 6).compactMap(\.started) == ["c"])
        #expect(core.activeRunners == 2)
    }

    @Test func leasesOfOthersAndExpiredLeasesAreNotStarted() {
        var core = ExecutorCore(config: config(slots: 4))
        let tasks = [leasedTask("other", fence: 1, executor: "e2"), leasedTask("expired", fence: 2, until: t0), leasedTask("ok", fence: 3)]
        #expect(core.reconcile(view(tasks), nowMs: t0).compactMap(\.started) == ["ok"])
    }

    @Test func cancelsWhenTheLeaseMovesOn() {
        var core = ExecutorCore(config: config())
        _ = core.reconcile(view([leasedTask("t", fence: 5)]), nowMs: t0)
        // Expired and reassigned elsewhere: no longer in our leased list.
        let actions = core.reconcile(view([]), nowMs: t0 + 100)
        #expect(actions == [.cancel(taskID: "t", fence: 5)])
        #expect(core.heldLeases.isEmpty, "an abandoned attempt's lease is not renewed")
        #expect(core.activeRunners == 1, "its runner still holds the slot until it returns")
        #expect(core.finished(taskID: "t", fence: 5, outcome: .succeeded(result: Data(), counters: [:]), nowMs: t0 + 200).isEmpty,
                "nothing reported for a lost lease")
        #expect(core.activeRunners == 0)
        // Reassigned back to us with a new fence: a new attempt.
        #expect(core.reconcile(view([leasedTask("t", fence: 9)]), nowMs: t0 + 300).compactMap(\.started) == ["t"])
    }

    @Test func aNewFenceForARunningTaskCancelsTheOldAttemptFirst() {
        var core = ExecutorCore(config: config())
        _ = core.reconcile(view([leasedTask("t", fence: 5)]), nowMs: t0)
        let actions = core.reconcile(view([leasedTask("t", fence: 8)]), nowMs: t0 + 1)
        #expect(actions == [.cancel(taskID: "t", fence: 5)], "the new attempt waits for the old runner to unwind")
        _ = core.finished(taskID: "t", fence: 5, outcome: .failed("cancelled"), nowMs: t0 + 2)
        #expect(core.reconcile(view([leasedTask("t", fence: 8)]), nowMs: t0 + 3).compactMap(\.started) == ["t"])
    }

    @Test func oneRenewalPerIntervalForAllHeldLeases() {
        var core = ExecutorCore(config: config(slots: 3, lease: 9_000))  // renew every 3 s
        _ = core.reconcile(view([], registered: 3), nowMs: t0)
        #expect(core.tick(nowMs: t0 + 100).compactMap(\.proposed).allSatisfy { if case .renewLeases = $0 { false } else { true } },
                "nothing to renew when idle")
        let tasks = [leasedTask("a", fence: 1), leasedTask("b", fence: 2), leasedTask("c", fence: 3)]
        _ = core.reconcile(view(tasks, registered: 3), nowMs: t0 + 1_000)
        var renewals: [Command] = []
        var now = t0 + 1_000
        while now <= t0 + 10_000 {
            renewals += core.tick(nowMs: now).compactMap(\.proposed).filter { if case .renewLeases = $0 { true } else { false } }
            now += 50
        }
        let leases = [LeaseRef(taskID: "a", fence: 1), LeaseRef(taskID: "b", fence: 2), LeaseRef(taskID: "c", fence: 3)]
        #expect(renewals == [4_000, 7_000, 10_000].map {
            .renewLeases(executorID: "e1", leases: leases, leaseUntilMs: t0 + $0 + 9_000, nowMs: t0 + $0)
        }, "one command for all three tasks, every 3 s")
        // A reported attempt is not renewed while its report is in flight (a renewal applied
        // after the report would be refused as stale), only once the report is overdue.
        _ = core.finished(taskID: "a", fence: 1, outcome: .failed("x"), nowMs: now)
        #expect(core.heldLeases.count == 3)
        #expect(core.leasesToRenew(nowMs: now) == Array(leases.dropFirst()))
        #expect(core.leasesToRenew(nowMs: now + 3_000) == leases, "overdue: renewed along with its re-proposal")
        _ = core.reconcile(view(Array(tasks.dropFirst()), registered: 3), nowMs: now)
        #expect(core.heldLeases == Array(leases.dropFirst()), "applied: the lease is gone")
    }

    @Test func renewalsAreBatchedWithinTheirBound() {
        var core = ExecutorCore(config: ExecutorConfig(executorID: "e1", node: "n1", slots: 5, leaseDurationMs: 3_000, renewBatchMax: 2))
        _ = core.reconcile(view((1...5).map { leasedTask("t\($0)", fence: UInt64($0)) }), nowMs: t0)
        let renewals = core.tick(nowMs: t0 + 1_000).compactMap(\.proposed).compactMap { command -> Int? in
            if case .renewLeases(_, let leases, _, _) = command { return leases.count }
            return nil
        }
        #expect(renewals == [2, 2, 1])
    }

    @Test func deadlineFailsTheAttempt() {
        var core = ExecutorCore(config: config())
        _ = core.reconcile(view([leasedTask("t", fence: 4, deadline: 1_000)]), nowMs: t0)
        #expect(core.tick(nowMs: t0 + 999).compactMap(\.cancelled).isEmpty)
        let actions = core.tick(nowMs: t0 + 1_000)
        #expect(actions.compactMap(\.cancelled) == ["t"])
        #expect(actions.compactMap(\.proposed).contains(.failTask(taskID: "t", fence: 4, error: "dispatch deadline exceeded", nowMs: t0 + 1_000)))
        #expect(core.finished(taskID: "t", fence: 4, outcome: .succeeded(result: Data(), counters: [:]), nowMs: t0 + 1_001).isEmpty,
                "the runner's late success is not reported: the deadline failure was")
    }

    @Test func unappliedReportsAreProposedAgain() {
        var core = ExecutorCore(config: config())
        let tasks = [leasedTask("t", fence: 4)]
        _ = core.reconcile(view(tasks), nowMs: t0)
        let report = Command.completeTask(taskID: "t", fence: 4, result: Data(), counters: [:], nowMs: t0 + 10)
        #expect(core.finished(taskID: "t", fence: 4, outcome: .succeeded(result: Data(), counters: [:]), nowMs: t0 + 10) == [.propose(report)])
        #expect(!core.tick(nowMs: t0 + 3_009).compactMap(\.proposed).contains(report))
        #expect(core.tick(nowMs: t0 + 3_010).compactMap(\.proposed).contains(report), "still leased 3 s later: lost on the way")
        _ = core.reconcile(view([]), nowMs: t0 + 3_100)
        #expect(core.tick(nowMs: t0 + 10_000).compactMap(\.proposed).allSatisfy { $0 != report }, "applied: forgotten")
    }

    @Test func cancelledJobStopsItsAttempts() {
        var core = ExecutorCore(config: config(slots: 3))
        let tasks = [leasedTask("a", fence: 1, job: "j"), leasedTask("b", fence: 2, job: "k")]
        _ = core.reconcile(view(tasks), nowMs: t0)
        let waiting = leasedTask("c", fence: 3, job: "j")
        let actions = core.reconcile(view(tasks + [waiting], cancelling: ["j"]), nowMs: t0 + 5)
        #expect(actions.compactMap(\.cancelled) == ["a"])
        #expect(actions.compactMap(\.started).isEmpty, "a task of a cancelling job is not started")
        #expect(actions.compactMap(\.proposed) == [.cancelTask(taskID: "a", nowMs: t0 + 5), .cancelTask(taskID: "c", nowMs: t0 + 5)])
    }

    @Test func heartbeatRegistersUntilTheStoreKnowsUs() {
        var core = ExecutorCore(config: config(slots: 2))
        let register = Command.registerExecutor(executorID: "e1", node: "n1", slots: 2, nowMs: t0)
        #expect(core.tick(nowMs: t0).compactMap(\.proposed) == [register])
        // Not known yet (the first one was probably lost before there was a leader): retried
        // every 250 ms, not every heartbeat interval.
        #expect(core.tick(nowMs: t0 + 249).isEmpty)
        #expect(core.tick(nowMs: t0 + 250).compactMap(\.proposed)
                == [.registerExecutor(executorID: "e1", node: "n1", slots: 2, nowMs: t0 + 250)])
        _ = core.reconcile(view([], registered: 2), nowMs: t0 + 300)
        #expect(core.tick(nowMs: t0 + 500).compactMap(\.proposed) == [.executorHeartbeat(executorID: "e1", nowMs: t0 + 500)])
        // Registered: heartbeats every interval (2 s).
        #expect(core.tick(nowMs: t0 + 2_499).isEmpty)
        #expect(core.tick(nowMs: t0 + 2_500).compactMap(\.proposed) == [.executorHeartbeat(executorID: "e1", nowMs: t0 + 2_500)])
        // Registered with other slots (an old config): register again to fix it.
        _ = core.reconcile(view([], registered: 8), nowMs: t0 + 3_000)
        #expect(core.tick(nowMs: t0 + 4_500).compactMap(\.proposed)
                == [.registerExecutor(executorID: "e1", node: "n1", slots: 2, nowMs: t0 + 4_500)])
    }

    @Test func longErrorsAreClippedOnACharacterBoundary() {
        let long = String(repeating: "é", count: 5_000)
        let clipped = ExecutorCore.clip(long)
        #expect(clipped.utf8.count <= ExecutorCore.errorBytesMax && clipped.utf8.count >= ExecutorCore.errorBytesMax - 1)
        #expect(clipped.allSatisfy { $0 == "é" })
        #expect(ExecutorCore.clip("") == "failed")
    }
}

@Suite struct StartReportTests {
    static func core(delay: Milliseconds) -> ExecutorCore {
        ExecutorCore(config: ExecutorConfig(executorID: "e1", node: "n1", slots: 2, leaseDurationMs: 9_000,
                                            heartbeatIntervalMs: 2_000, reportRetryMs: 3_000, startReportDelayMs: delay))
    }

    static func view(_ tasks: [TaskRecord]) -> ExecutorView {
        ExecutorView(leased: tasks, cancellingJobs: [], registeredSlots: 2)
    }

    static func starts(_ actions: [ExecutorAction]) -> [Command] {
        actions.compactMap(\.proposed).filter { if case .startTask = $0 { return true } else { return false } }
    }

    @Test func aShortAttemptReportsOnlyItsOutcome() {
        var core = Self.core(delay: 100)
        let started = core.reconcile(Self.view([leasedTask("a", fence: 10)]), nowMs: t0)
        #expect(started.compactMap(\.started) == ["a"])
        #expect(Self.starts(started).isEmpty, "no startTask yet")
        #expect(Self.starts(core.tick(nowMs: t0 + 99)).isEmpty)
        let done = core.finished(taskID: "a", fence: 10, outcome: .succeeded(result: Data(), counters: [:]), nowMs: t0 + 99)
        #expect(done.compactMap(\.proposed) == [.completeTask(taskID: "a", fence: 10, result: Data(), counters: [:], nowMs: t0 + 99)])
        // Reported: the held-back start is never sent.
        #expect(Self.starts(core.tick(nowMs: t0 + 500)).isEmpty)
    }

    @Test func aLongerAttemptReportsItsStartOnceWithItsRealStartTime() {
        var core = Self.core(delay: 100)
        _ = core.reconcile(Self.view([leasedTask("a", fence: 10)]), nowMs: t0)
        #expect(Self.starts(core.tick(nowMs: t0 + 100)) == [.startTask(taskID: "a", fence: 10, nowMs: t0)])
        #expect(Self.starts(core.tick(nowMs: t0 + 200)).isEmpty, "once")
    }

    @Test func delayZeroReportsTheStartAtOnce() {
        var core = Self.core(delay: 0)
        let started = core.reconcile(Self.view([leasedTask("a", fence: 10)]), nowMs: t0)
        #expect(Self.starts(started) == [.startTask(taskID: "a", fence: 10, nowMs: t0)])
        #expect(Self.starts(core.tick(nowMs: t0 + 1_000)).isEmpty)
    }
}
