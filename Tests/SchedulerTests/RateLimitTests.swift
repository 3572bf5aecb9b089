import Foundation
import Scheduler
@testable import Store
import Testing

@Suite struct RateLimitTests {
    /// Runs `plan` every `tickMs` for `durationMs` against an endless backlog, applying every
    /// assignment at once; returns the number of assignments.
    func dispatched(rate: Double, burst: Int, durationMs: Milliseconds, tickMs: Milliseconds = 10) throws -> Int {
        var core = SchedulerCore()
        var next = 0
        var state = FakeState()
        state.queuesBody = { [queue(rate: rate, burst: burst)] }
        state.executorsBody = { [executor("e1", slots: 10_000)] }
        var total = 0
        var now = t0
        while now <= t0 + durationMs {
            state.dueBody = backlog("q", from: next)
            state.executorsBody = { [executor("e1", slots: 10_000, heartbeat: now)] }
            let commands = try core.plan(nowMs: now, state: state)
            for command in commands { core.noteApplied(command) }
            let count = assignments(commands).count
            next += count
            total += count
            now += tickMs
        }
        return total
    }

    @Test func rateIsExactOverTenSeconds() throws {
        // 20/s with a burst of 5: the full bucket, then 20 per second for 10 s.
        let total = try dispatched(rate: 20, burst: 5, durationMs: 10_000)
        #expect((204...206).contains(total), "got \(total)")
    }

    /// As long as one tick earns no more than the burst (tick ≤ burst / rate), the tick length
    /// does not change the rate.
    @Test(arguments: [10, 25, 50] as [Milliseconds])
    func rateDoesNotDependOnTickLength(tickMs: Milliseconds) throws {
        let total = try dispatched(rate: 100, burst: 5, durationMs: 5_000, tickMs: tickMs)
        #expect((504...506).contains(total), "got \(total) with \(tickMs) ms ticks")
    }

    /// The other side of that bound: a bucket never holds more than the burst, so a tick
    /// longer than burst / rate caps the rate at burst per tick.
    @Test func burstCapsWhatOneTickCanSend() throws {
        let total = try dispatched(rate: 100, burst: 1, durationMs: 1_000, tickMs: 50)
        #expect(total == 21, "one per 50 ms tick, 0 through 1000 ms inclusive")
    }

    @Test func burstThenRefill() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue(rate: 20, burst: 5)] }
        state.executorsBody = { [executor("e1", slots: 1_000)] }
        state.dueBody = backlog("q")
        let first = try core.plan(nowMs: t0, state: state)
        #expect(assignments(first).count == 5, "a full bucket lets the burst through")
        state.dueBody = backlog("q", from: 5)
        #expect(assignments(try core.plan(nowMs: t0, state: state)).isEmpty, "then nothing in the same millisecond")
        state.dueBody = backlog("q", from: 100)
        #expect(assignments(try core.plan(nowMs: t0 + 100, state: state)).count == 2, "20/s for 100 ms")
        // A long idle period refills to the burst size, not beyond.
        state.dueBody = backlog("q", from: 200)
        state.executorsBody = { [executor("e1", slots: 1_000, heartbeat: t0 + 60_000)] }
        #expect(assignments(try core.plan(nowMs: t0 + 60_000, state: state)).count == 5)
    }

    @Test func maxConcurrentCountsLeasesAndInFlight() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue(concurrent: 3)] }
        state.executorsBody = { [executor("e1", slots: 100)] }
        state.activeBody = { _ in 1 }
        state.dueBody = backlog("q")
        let first = try core.plan(nowMs: t0, state: state)
        #expect(assignments(first).count == 2, "3 allowed, 1 already leased")
        state.dueBody = backlog("q", from: 10)
        #expect(assignments(try core.plan(nowMs: t0 + 1_000, state: state)).isEmpty, "the 2 in flight count too")
        // Once applied, the store counts them (3 active): still nothing.
        for command in first { core.noteApplied(command) }
        state.activeBody = { _ in 3 }
        #expect(assignments(try core.plan(nowMs: t0 + 2_000, state: state)).isEmpty)
        state.activeBody = { _ in 2 }
        #expect(assignments(try core.plan(nowMs: t0 + 3_000, state: state)).count == 1)
    }

    @Test(arguments: [QueueState.paused, .disabled])
    func stoppedQueueDispatchesNothing(state queueState: QueueState) throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue(state: queueState)] }
        state.executorsBody = { [executor("e1")] }
        state.dueBody = { _, _, _ in
            Issue.record("a stopped queue's due tasks are not even read")
            return []
        }
        #expect(try core.plan(nowMs: t0, state: state).isEmpty)
    }

    @Test func queuesShareFreeSlotsInTurn() throws {
        var core = SchedulerCore()
        var state = FakeState()
        state.queuesBody = { [queue("a"), queue("b")] }
        state.executorsBody = { [executor("e1", slots: 1)] }
        state.dueBody = { name, _, limit in backlog(name)(name, t0, limit) }
        var served: [String] = []
        for tick in 0..<4 {
            let commands = try core.plan(nowMs: t0 + Milliseconds(tick), state: state)
            for command in commands { core.noteApplied(command) }
            served += assignments(commands).map { String($0.task.prefix(1)) }
        }
        #expect(served == ["a", "b", "a", "b"], "one slot, two busy queues: they alternate")
    }
}
