import Foundation
import Testing
@testable import Store

@Suite struct TaskTests {
    @Test func createAndRejections() throws {
        try withStore { s in
            #expect(try s.apply(.createTask(taskSpec("t1"))) == .rejected(.unknownQueue))
            try s.apply(.createQueue(queueSpec()))
            #expect(try s.apply(.createTask(taskSpec("t1", at: t0 + 5))) == .created(id: "t1"))
            #expect(try s.apply(.createTask(taskSpec("t1"))) == .rejected(.taskExists))
            // Named: refused before its name is reserved (the name stays free).
            #expect(try s.apply(.createTask(taskSpec("t1", name: "n1"))) == .rejected(.taskExists))
            #expect(try s.store.db.scalarInt("SELECT count(*) FROM task_names") == 0)
            #expect(try s.store.taskCounts(queue: "q") == [.queued: 1])
            #expect(try s.apply(.createTask(taskSpec("t2", name: "n1"))) == .created(id: "t2"))
            #expect(try s.apply(.deleteTask(taskID: "t2", nowMs: t0)) == .ok)
            let task = try #require(try s.store.task("t1"))
            #expect(task.state == .queued && task.attempts == 0 && task.scheduleTimeMs == t0 + 5)
            #expect(task.payload == Data("p".utf8))
            #expect(try s.store.taskCounts(queue: "q") == [.queued: 1])
        }
    }

    @Test func duplicateNameWhileLiveInsideAndAfterTheTombstoneWindow() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec(window: 60_000)))
            try s.apply(.createTask(taskSpec("t1", name: "daily")))
            #expect(try s.apply(.createTask(taskSpec("t2", name: "daily"))) == .rejected(.duplicateName))
            // Deleted at t0+1000: reserved until t0+61000.
            try s.apply(.deleteTask(taskID: "t1", nowMs: t0 + 1_000))
            #expect(try s.apply(.createTask(taskSpec("t2", name: "daily", now: t0 + 60_999))) == .rejected(.duplicateName))
            #expect(try s.apply(.createTask(taskSpec("t2", name: "daily", now: t0 + 61_000))) == .created(id: "t2"))
            // Same name in another queue is independent.
            try s.apply(.createQueue(queueSpec("other")))
            #expect(try s.apply(.createTask(taskSpec("t3", queue: "other", name: "daily"))) == .created(id: "t3"))
        }
    }

    @Test func finishedTaskNameIsReservedForTheWindow() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec(window: 10_000)))
            try s.apply(.registerExecutor(executorID: "e", node: "n", slots: 1, nowMs: t0))
            try s.apply(.createTask(taskSpec("t1", name: "once")))
            let fence = s.lastIndex + 1
            try s.apply(.assignTask(taskID: "t1", executorID: "e", leaseUntilMs: t0 + 100, nowMs: t0))
            #expect(try s.apply(.completeTask(taskID: "t1", fence: fence, result: Data("ok".utf8), counters: [:], nowMs: t0 + 50)) == .ok)
            #expect(try s.apply(.createTask(taskSpec("t2", name: "once", now: t0 + 10_049))) == .rejected(.duplicateName))
            #expect(try s.apply(.collectGarbage(nowMs: t0 + 10_049, limit: 10)) == .counted(changed: 0, rejected: 0))
            #expect(try s.apply(.collectGarbage(nowMs: t0 + 10_050, limit: 10)) == .counted(changed: 1, rejected: 0))
            #expect(try s.apply(.createTask(taskSpec("t2", name: "once", now: t0 + 10_050))) == .created(id: "t2"))
        }
    }

    @Test func idempotencyKeyReturnsTheFirstOutcome() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            #expect(try s.apply(.createTask(taskSpec("t1", key: "k1"))) == .created(id: "t1"))
            // A retry: the proposer stamped a new id and time, the request is the same.
            #expect(try s.apply(.createTask(taskSpec("t9", now: t0 + 5, key: "k1"))) == .created(id: "t1"))
            #expect(try s.store.task("t9") == nil)
            #expect(try s.apply(.createTask(taskSpec("t9", payload: "other", key: "k1"))) == .rejected(.idempotencyConflict))
            // A first rejection is remembered too, without its partial writes.
            #expect(try s.apply(.createTask(taskSpec("x1", queue: "missing", key: "k2"))) == .rejected(.unknownQueue))
            try s.apply(.createQueue(queueSpec("missing")))
            #expect(try s.apply(.createTask(taskSpec("x2", queue: "missing", key: "k2"))) == .rejected(.unknownQueue))
            // After the window the key is free again.
            let later = t0 + StateStore.idempotencyWindowMs
            #expect(try s.apply(.createTask(taskSpec("t3", now: later, key: "k1"))) == .created(id: "t3"))
        }
    }

    @Test func runCancelAndDelete() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            try s.apply(.createTask(taskSpec("t1", at: t0 + 1_000_000)))
            #expect(try s.store.dueTasks(queue: "q", nowMs: t0, limit: 10).isEmpty)
            #expect(try s.apply(.runTask(taskID: "t1", nowMs: t0)) == .ok)
            #expect(try s.store.dueTasks(queue: "q", nowMs: t0, limit: 10).map(\.id) == ["t1"])
            #expect(try s.apply(.cancelTask(taskID: "t1", nowMs: t0)) == .ok)
            #expect(try s.store.task("t1")?.state == .cancelled)
            #expect(try s.apply(.cancelTask(taskID: "t1", nowMs: t0)) == .rejected(.invalidState))
            #expect(try s.apply(.runTask(taskID: "t1", nowMs: t0)) == .rejected(.invalidState))
            #expect(try s.store.dueTasks(queue: "q", nowMs: t0, limit: 10).isEmpty)
            #expect(try s.store.taskCounts(queue: "q") == [.cancelled: 1])
            #expect(try s.apply(.deleteTask(taskID: "t1", nowMs: t0)) == .ok)
            #expect(try s.apply(.deleteTask(taskID: "t1", nowMs: t0)) == .rejected(.unknownTask))
            #expect(try s.store.taskCounts(queue: "q").isEmpty)
        }
    }

    @Test func listTasksPagesWithStateFilter() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            for i in 0..<7 { try s.apply(.createTask(taskSpec("t\(i)"))) }
            try s.apply(.cancelTask(taskID: "t2", nowMs: t0))
            try s.apply(.cancelTask(taskID: "t5", nowMs: t0))
            var ids: [String] = []
            var token: String?
            repeat {
                let page = try s.store.listTasks(queue: "q", state: .queued, pageToken: token, pageSize: 2)
                ids += page.items.map(\.id)
                token = page.nextPageToken
            } while token != nil
            #expect(ids == ["t0", "t1", "t3", "t4", "t6"])
            #expect(try s.store.listTasks(queue: "q", state: .cancelled).items.map(\.id) == ["t2", "t5"])
            #expect(try s.store.listTasks(queue: "q", pageSize: 100).items.count == 7)
        }
    }

    @Test func dueTasksSkipPausedQueuesWhenUnfiltered() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec("a")))
            try s.apply(.createQueue(queueSpec("b")))
            try s.apply(.createTask(taskSpec("a1", queue: "a", at: t0 + 2)))
            try s.apply(.createTask(taskSpec("b1", queue: "b", at: t0 + 1)))
            try s.apply(.createTask(taskSpec("a2", queue: "a", at: t0 + 9)))
            #expect(try s.store.dueTasks(nowMs: t0 + 5, limit: 10).map(\.id) == ["b1", "a1"])
            try s.apply(.pauseQueue(name: "b"))
            #expect(try s.store.dueTasks(nowMs: t0 + 5, limit: 10).map(\.id) == ["a1"])
            #expect(try s.store.dueTasks(queue: "b", nowMs: t0 + 5, limit: 10).map(\.id) == ["b1"])
            #expect(try s.store.dueTasks(nowMs: t0 + 9, limit: 1).map(\.id) == ["a1"])
        }
    }
}
