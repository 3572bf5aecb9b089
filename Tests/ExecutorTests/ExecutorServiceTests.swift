import Foundation
@testable import Executor
@testable import Store
import Testing

/// The async host with fake runners, a fake clock and a proposer that streams commands.
/// No sleeps: every wait is on an event the code under test produces.
@Suite struct ExecutorServiceTests {
    struct Rig {
        let service: ExecutorService
        let clock: FakeClock
        let proposals: AsyncStream<Command>
        let proposalSink: AsyncStream<Command>.Continuation
    }

    func rig(slots: Int = 2, runner: some TaskRunner) -> Rig {
        let (proposals, sink) = AsyncStream.makeStream(of: Command.self)
        let clock = FakeClock()
        let service = ExecutorService(config: config(slots: slots), runner: runner, proposer: FakeProposer { sink.yield($0) }, clock: clock)
        return Rig(service: service, clock: clock, proposals: proposals, proposalSink: sink)
    }

    /// A runner that runs until cancelled, announcing start and exit.
    func blockingRunner(started: AsyncStream<String>.Continuation, exited: AsyncStream<String>.Continuation) -> FakeRunner {
        FakeRunner { task in
            started.yield(task.id)
            // Not a timing device: an hour-long wait that only cancellation ends.
            try? await Task.sleep(for: .seconds(3_600))
            exited.yield(task.id)
            return .failed("cancelled")
        }
    }

    @Test func runsAnAssignmentAndReportsIt() async {
        let rig = rig(runner: FakeRunner { task in .succeeded(result: Data("did \(task.id)".utf8), counters: ["n": 1]) })
        await withDiscardingTaskGroup { group in
            group.addTask { await rig.service.run() }
            rig.service.applied(ExecutorView(leased: [leasedTask("t", fence: 3)], registeredSlots: 2))
            var proposals = rig.proposals.makeAsyncIterator()
            #expect(await proposals.next() == .startTask(taskID: "t", fence: 3, nowMs: t0))
            #expect(await proposals.next() == .completeTask(taskID: "t", fence: 3, result: Data("did t".utf8), counters: ["n": 1], nowMs: t0))
            group.cancelAll()
        }
    }

    @Test func lostLeaseCancelsTheRunnerAndReportsNothing() async {
        let (started, startedSink) = AsyncStream.makeStream(of: String.self)
        let (exited, exitedSink) = AsyncStream.makeStream(of: String.self)
        let rig = rig(runner: blockingRunner(started: startedSink, exited: exitedSink))
        await withDiscardingTaskGroup { group in
            group.addTask { await rig.service.run() }
            rig.service.applied(ExecutorView(leased: [leasedTask("t", fence: 3)], registeredSlots: 2))
            var startedIterator = started.makeAsyncIterator()
            #expect(await startedIterator.next() == "t")
            rig.service.applied(ExecutorView(leased: [], registeredSlots: 2))  // reassigned elsewhere
            var exitedIterator = exited.makeAsyncIterator()
            #expect(await exitedIterator.next() == "t", "the runner saw cancellation and returned")
            group.cancelAll()
        }
        // run() has returned, so every attempt has ended and been handed to the core.
        #expect(rig.service.activeRunners == 0)
        rig.proposalSink.finish()
        var all: [Command] = []
        for await command in rig.proposals { all.append(command) }
        #expect(all == [.startTask(taskID: "t", fence: 3, nowMs: t0)], "no report for a lease we no longer hold")
    }

    @Test func deadlineCancelsAndFails() async {
        let (started, startedSink) = AsyncStream.makeStream(of: String.self)
        let (exited, exitedSink) = AsyncStream.makeStream(of: String.self)
        let rig = rig(runner: blockingRunner(started: startedSink, exited: exitedSink))
        await withDiscardingTaskGroup { group in
            group.addTask { await rig.service.run() }
            rig.service.applied(ExecutorView(leased: [leasedTask("t", fence: 3, deadline: 1_000)], registeredSlots: 2))
            var startedIterator = started.makeAsyncIterator()
            #expect(await startedIterator.next() == "t")
            rig.clock.advance(1_000)
            rig.service.tick()
            var exitedIterator = exited.makeAsyncIterator()
            #expect(await exitedIterator.next() == "t")
            group.cancelAll()
        }
        rig.proposalSink.finish()
        var all: [Command] = []
        for await command in rig.proposals { all.append(command) }
        #expect(all == [
            .startTask(taskID: "t", fence: 3, nowMs: t0),
            .failTask(taskID: "t", fence: 3, error: "dispatch deadline exceeded", nowMs: t0 + 1_000),
            .executorHeartbeat(executorID: "e1", nowMs: t0 + 1_000),
        ])
    }

    @Test func shutdownStopsRunningAttemptsAndReportsThem() async {
        let (started, startedSink) = AsyncStream.makeStream(of: String.self)
        let (_, exitedSink) = AsyncStream.makeStream(of: String.self)
        let rig = rig(runner: blockingRunner(started: startedSink, exited: exitedSink))
        await withDiscardingTaskGroup { group in
            group.addTask { await rig.service.run() }
            rig.service.applied(ExecutorView(leased: [leasedTask("a", fence: 1), leasedTask("b", fence: 2)], registeredSlots: 2))
            var startedIterator = started.makeAsyncIterator()
            _ = await startedIterator.next()
            _ = await startedIterator.next()
            group.cancelAll()
        }
        #expect(rig.service.activeRunners == 0, "run() returns only after every attempt ended")
        rig.proposalSink.finish()
        var reports: [Command] = []
        for await command in rig.proposals { if case .failTask = command { reports.append(command) } }
        #expect(Set(reports.map { "\($0)" }).count == 2, "both attempts reported as failed, to be retried at once")
    }

    @Test func signalFiredBeforeWaitingStillEndsTheWait() async {
        let signal = AttemptSignal()
        signal.cancel()
        await signal.wait()
        let outcome = await ExecutorService.runAttempt(leasedTask("t", fence: 1), runner: FakeRunner { _ in
            try? await Task.sleep(for: .seconds(3_600))
            return .failed("stopped")
        }, signal: signal)
        #expect(outcome == .failed("stopped"), "the runner's own outcome after it unwound")
    }
}
