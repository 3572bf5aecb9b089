import Foundation
import Scheduler
@testable import Store
import Testing

@Suite struct DispatchTests {
    @Test func spreadsOverThreeExecutors() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue()] }
        state.executorsBody = { [executor("e1"), executor("e2"), executor("e3")] }
        state.dueBody = backlog("q")
        let picked = assignments(try core.plan(nowMs: t0, state: state))
        #expect(picked.count == 12, "3 executors × 4 slots")
        let perExecutor = Dictionary(grouping: picked, by: \.executor).mapValues(\.count)
        #expect(perExecutor == ["e1": 4, "e2": 4, "e3": 4])
        // Round by round, not one executor filled first: the first three go to three executors.
        #expect(Set(picked.prefix(3).map(\.executor)) == ["e1", "e2", "e3"])
        #expect(picked.allSatisfy { $0.leaseUntil == t0 + core.config.leaseDurationMs })
    }

    @Test func leastLoadedFirstByShareOfSlots() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue()] }
        state.executorsBody = { [executor("busy", slots: 4), executor("idle", slots: 4), executor("big", slots: 8)] }
        state.leaseCountBody = { id, _ in ["busy": 3, "idle": 0, "big": 4][id] ?? 0 }
        state.dueBody = backlog("q")
        let picked = assignments(try core.plan(nowMs: t0, state: state)).map(\.executor)
        // Shares: busy 3/4, idle 0/4, big 4/8. idle fills to 2/4 before big (4/8) gets a turn.
        #expect(picked.prefix(2) == ["idle", "idle"])
        #expect(picked.count == 1 + 4 + 4, "every free slot, no more")
        #expect(picked.filter { $0 == "busy" }.count == 1)
    }

    @Test func deadExecutorGetsNoWork() throws {
        var core = SchedulerCore(config: SchedulerConfig(executorLivenessMs: 5_000))
        var state = FakeState()
        state.queuesBody = { [queue()] }
        state.executorsBody = { [executor("e1", heartbeat: t0), executor("dead", heartbeat: t0 - 5_001)] }
        state.dueBody = backlog("q")
        let picked = assignments(try core.plan(nowMs: t0, state: state))
        #expect(picked.count == 4 && picked.allSatisfy { $0.executor == "e1" })
    }

    @Test func noExecutorsNoAssignments() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue()] }
        state.dueBody = backlog("q")
        #expect(try core.plan(nowMs: t0, state: state).isEmpty)
    }

    @Test func noDoubleAssignWhileInFlight() throws {
        var core = SchedulerCore(config: SchedulerConfig(inFlightTimeoutMs: 1_000))
        var state = FakeState()
        state.queuesBody = { [queue()] }
        state.executorsBody = { [executor("e1", slots: 2), executor("e2", slots: 2)] }
        // The same two tasks stay due until an assignment applies.
        state.dueBody = { _, _, limit in
            ["t1", "t2"].prefix(limit).map { DueTask(id: $0, queue: "q", scheduleTimeMs: t0, dispatchDeadlineMs: 1) }
        }
        let first = try core.plan(nowMs: t0, state: state)
        #expect(assignments(first).map(\.task) == ["t1", "t2"])
        #expect(core.inFlightCount == 2)
        #expect(assignments(try core.plan(nowMs: t0 + 10, state: state)).isEmpty, "in flight: not offered again")
        // A dropped proposal makes its task eligible at once; the other waits for its timeout.
        core.noteDropped(first[0])
        #expect(assignments(try core.plan(nowMs: t0 + 20, state: state)).map(\.task) == ["t1"])
        #expect(assignments(try core.plan(nowMs: t0 + 999, state: state)).isEmpty)
        let afterTimeout = assignments(try core.plan(nowMs: t0 + 1_000, state: state)).map(\.task)
        #expect(afterTimeout == ["t2"], "t2's proposal vanished; t1's newer one is still in flight")
    }

    @Test func expiredLeasesProduceOneExpireAtATime() throws {
        var core = SchedulerCore(config: SchedulerConfig(inFlightTimeoutMs: 1_000, expireBatchLimit: 50))
        var state = FakeState()
        state.expiredBody = { now in now >= t0 }
        let first = try core.plan(nowMs: t0, state: state)
        #expect(first == [.expireLeases(nowMs: t0, limit: 50)])
        #expect(try core.plan(nowMs: t0 + 10, state: state).isEmpty, "one expireLeases in flight at a time")
        core.noteApplied(first[0])
        #expect(try core.plan(nowMs: t0 + 20, state: state) == [.expireLeases(nowMs: t0 + 20, limit: 50)],
                "still expired leases after apply (more than the limit): another batch")
        state.expiredBody = { _ in false }
        core.noteApplied(.expireLeases(nowMs: t0 + 20, limit: 50))
        #expect(try core.plan(nowMs: t0 + 30, state: state).isEmpty)
    }

    @Test func boundedBatchPerPlan() throws {
        var core = SchedulerCore(config: SchedulerConfig(maxAssignmentsPerPlan: 7))
        var state = FakeState()
        state.queuesBody = { [queue("a"), queue("b")] }
        state.executorsBody = { [executor("e1", slots: 100)] }
        state.dueBody = { name, _, limit in backlog(name)(name, t0, limit) }
        #expect(assignments(try core.plan(nowMs: t0, state: state)).count == 7)
    }

    @Test func garbageCollectionIsPeriodic() throws {
        var core = SchedulerCore(config: SchedulerConfig(garbageIntervalMs: 1_000, garbageLimit: 9))
        let state = FakeState()
        #expect(try core.plan(nowMs: t0, state: state).isEmpty, "not at once on becoming leader")
        #expect(try core.plan(nowMs: t0 + 999, state: state).isEmpty)
        #expect(try core.plan(nowMs: t0 + 1_000, state: state) == [.collectGarbage(nowMs: t0 + 1_000, limit: 9)])
        #expect(try core.plan(nowMs: t0 + 1_500, state: state).isEmpty)
        #expect(try core.plan(nowMs: t0 + 2_000, state: state) == [.collectGarbage(nowMs: t0 + 2_000, limit: 9)])
    }
}
