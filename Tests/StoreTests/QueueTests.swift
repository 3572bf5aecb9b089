import Foundation
import Testing
@testable import Store

@Suite struct QueueTests {
    @Test func createUpdateAndStates() throws {
        try withStore { s in
            #expect(try s.apply(.createQueue(queueSpec("a"))) == .created(id: "a"))
            #expect(try s.apply(.createQueue(queueSpec("a"))) == .rejected(.queueExists))
            var spec = queueSpec("a", retry: RetryConfig(maxAttempts: 3))
            spec.rateLimits = RateLimits(maxDispatchesPerSecond: 2.5, maxBurstSize: 7, maxConcurrentDispatches: 9)
            #expect(try s.apply(.updateQueue(spec)) == .ok)
            let queue = try #require(try s.store.queue("a"))
            #expect(queue.retryConfig.maxAttempts == 3)
            #expect(queue.rateLimits == spec.rateLimits)
            #expect(try s.apply(.updateQueue(queueSpec("nope"))) == .rejected(.unknownQueue))
            for (command, state) in [(Command.pauseQueue(name: "a"), QueueState.paused), (.disableQueue(name: "a"), .disabled), (.resumeQueue(name: "a"), .running)] {
                #expect(try s.apply(command) == .ok)
                #expect(try s.store.queue("a")?.state == state)
            }
            #expect(try s.apply(.pauseQueue(name: "nope")) == .rejected(.unknownQueue))
        }
    }

    @Test func purgeOfAPausedQueueDeletesEveryTaskAndStaysPaused() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec("q")))
            try s.apply(.createQueue(queueSpec("other")))
            try s.apply(.registerExecutor(executorID: "e", node: "n", slots: 2, nowMs: t0))
            try s.apply(.createTask(taskSpec("t1", name: "named")))
            try s.apply(.createTask(taskSpec("t2")))
            try s.apply(.createTask(taskSpec("o1", queue: "other")))
            let fence = s.lastIndex + 1
            #expect(try s.apply(.assignTask(taskID: "t2", executorID: "e", leaseUntilMs: t0 + 10_000, nowMs: t0)) == .assigned(fence: fence))
            try s.apply(.pauseQueue(name: "q"))
            #expect(try s.apply(.purgeQueue(name: "q", nowMs: t0 + 1)) == .counted(changed: 2, rejected: 0))
            #expect(try s.store.queue("q")?.state == .paused)
            #expect(try s.store.queue("q")?.purgeTimeMs == t0 + 1)
            #expect(try s.store.listTasks(queue: "q").items.isEmpty)
            #expect(try s.store.taskCounts(queue: "q").isEmpty)
            #expect(try s.store.taskCounts(queue: "other") == [.queued: 1])
            // The leased task's executor reports into the void; the name stays reserved.
            #expect(try s.apply(.completeTask(taskID: "t2", fence: fence, result: Data(), counters: [:], nowMs: t0 + 2)) == .rejected(.unknownTask))
            #expect(try s.apply(.createTask(taskSpec("t3", name: "named", now: t0 + 3))) == .rejected(.duplicateName))
            #expect(try s.store.expiredLeases(nowMs: t0 + 1_000_000, limit: 10).isEmpty)
        }
    }

    @Test func deleteQueueRemovesItsTasks() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec("q")))
            try s.apply(.createTask(taskSpec("t1")))
            #expect(try s.apply(.deleteQueue(name: "q", nowMs: t0)) == .ok)
            #expect(try s.store.queue("q") == nil)
            #expect(try s.store.task("t1") == nil)
            #expect(try s.store.allTaskCounts().isEmpty)
            #expect(try s.apply(.deleteQueue(name: "q", nowMs: t0)) == .rejected(.unknownQueue))
            #expect(try s.apply(.createTask(taskSpec("t2"))) == .rejected(.unknownQueue))
        }
    }

    @Test func listQueuesPages() throws {
        try withStore { s in
            for i in 0..<5 { try s.apply(.createQueue(queueSpec("q\(i)"))) }
            let first = try s.store.listQueues(pageSize: 2)
            #expect(first.items.map(\.name) == ["q0", "q1"])
            let second = try s.store.listQueues(pageToken: first.nextPageToken, pageSize: 2)
            #expect(second.items.map(\.name) == ["q2", "q3"])
            let third = try s.store.listQueues(pageToken: second.nextPageToken, pageSize: 2)
            #expect(third.items.map(\.name) == ["q4"])
            #expect(third.nextPageToken == nil)
            #expect(throws: StoreError.invalidCommand(.invalidValue(field: "pageToken"))) {
                try s.store.listQueues(pageToken: "!!not base64")
            }
        }
    }
}
