import Foundation
import SQLite
import Testing
@testable import Store

/// Schema version 4: OR-chain CHECKs and no `tasks_by_queue`, a version-3 file rebuilt to it
/// when opened, and the listings that index served. Version 5: no `tasks_due`, a version-4
/// file losing it when opened, and the cross-queue due question it served.
@Suite struct SchemaUpgradeTests {
    /// The four tables version 4 rebuilds, with their indexes, exactly as version 3 created them.
    static let versionThree: [(table: String, sql: String)] = [("queues", versionThreeQueues), ("tasks", versionThreeTasks),
                                                              ("jobs", versionThreeJobs), ("attempts", versionThreeAttempts)]

    static let versionThreeQueues = """
    CREATE TABLE queues (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'disabled')),
        max_dispatches_per_second REAL NOT NULL,
        max_burst_size INTEGER NOT NULL,
        max_concurrent_dispatches INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        min_backoff_ms INTEGER NOT NULL,
        max_backoff_ms INTEGER NOT NULL,
        max_doublings INTEGER NOT NULL,
        max_retry_duration_ms INTEGER NOT NULL,
        tombstone_window_ms INTEGER NOT NULL,
        create_time_ms INTEGER NOT NULL,
        purge_time_ms INTEGER
    ) STRICT, WITHOUT ROWID;
    """

    static let versionThreeJobs = """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        parameters TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLING', 'CANCELLED')),
        create_time_ms INTEGER NOT NULL,
        start_time_ms INTEGER,
        end_time_ms INTEGER,
        error TEXT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX jobs_by_state ON jobs (state, id);
    """

    static let versionThreeAttempts = """
    CREATE TABLE attempts (
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        executor TEXT NOT NULL,
        node TEXT,
        fence INTEGER NOT NULL,
        dispatch_time_ms INTEGER NOT NULL,
        start_time_ms INTEGER,
        end_time_ms INTEGER,
        outcome TEXT CHECK (outcome IN ('succeeded', 'failed', 'lease_expired', 'deadline_exceeded', 'cancelled')),
        error TEXT,
        PRIMARY KEY (task_id, attempt)
    ) STRICT, WITHOUT ROWID;
    """

    static let versionThreeTasks = """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        queue TEXT NOT NULL,
        name TEXT,
        job_id TEXT,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        schedule_time_ms INTEGER NOT NULL,
        dispatch_deadline_ms INTEGER NOT NULL,
        create_time_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'running', 'succeeded', 'dead', 'cancelled')),
        attempts INTEGER NOT NULL,
        first_attempt_ms INTEGER,
        last_attempt_ms INTEGER,
        last_outcome TEXT,
        lease_executor TEXT,
        lease_until_ms INTEGER,
        fence INTEGER,
        result BLOB,
        last_error TEXT,
        end_time_ms INTEGER,
        -- a lease exists exactly while the task is leased or running
        CHECK ((state IN ('leased', 'running')) = (lease_until_ms IS NOT NULL AND lease_executor IS NOT NULL AND fence IS NOT NULL))
    ) STRICT;
    CREATE INDEX tasks_by_queue ON tasks (queue, id);
    CREATE INDEX tasks_by_queue_state ON tasks (queue, state, id);
    CREATE INDEX tasks_due_by_queue ON tasks (queue, schedule_time_ms, id) WHERE state = 'queued';
    CREATE INDEX tasks_due ON tasks (schedule_time_ms, id) WHERE state = 'queued';
    CREATE INDEX tasks_by_lease_expiry ON tasks (lease_until_ms, id) WHERE lease_until_ms IS NOT NULL;
    CREATE INDEX tasks_by_executor ON tasks (lease_executor, id) WHERE lease_executor IS NOT NULL;
    CREATE INDEX tasks_by_job ON tasks (job_id, state, id) WHERE job_id IS NOT NULL;
    """

    /// Tasks of two queues in every state but `dead`, created out of id order.
    func fill(_ s: TempStore) throws {
        try s.apply(.createQueue(queueSpec("q")))
        try s.apply(.createQueue(queueSpec("r")))
        try s.apply(.registerExecutor(executorID: "e", node: "n", slots: 64, nowMs: t0))
        for i in [7, 3, 11, 0, 5, 9, 1, 10, 4, 8, 2, 6] {
            try s.apply(.createTask(taskSpec(String(format: "t%02d", i), queue: i % 3 == 0 ? "r" : "q")))
        }
        for id in ["t01", "t02", "t04", "t05", "t07"] {
            guard case .assigned(let fence) = try s.apply(.assignTask(taskID: id, executorID: "e", leaseUntilMs: t0 + 60_000, nowMs: t0)) else {
                Issue.record("\(id) not assigned"); return
            }
            if id == "t02" || id == "t04" { try s.apply(.startTask(taskID: id, fence: fence, nowMs: t0)) }
            if id == "t05" { try s.apply(.completeTask(taskID: id, fence: fence, result: Data("ok".utf8), counters: [:], nowMs: t0)) }
        }
        try s.apply(.cancelTask(taskID: "t08", nowMs: t0))
        try s.apply(.createJob(JobSpec(id: "j", template: "WordCount", parameters: "{}",
                                       tasks: [taskSpec("j-map0", queue: "r")], nowMs: t0)))
    }

    func ids(_ page: Page<TaskRecord>) -> [String] { page.items.map(\.id) }

    @Test func aVersionThreeFileIsRebuiltWithTheSameRows() throws {
        let temp = try TempStore()
        defer { temp.cleanup() }
        try fill(temp)
        let hash = try temp.store.stateHash()
        let before = try temp.store.listTasks(queue: "q", pageSize: 100)
        // Make the file what version 3 wrote: those tables, their indexes, its version.
        for (table, sql) in Self.versionThree {
            #expect(try temp.store.db.scalarInt("SELECT count(*) FROM \(table)") ?? 0 > 0, "\(table) has no rows to carry")
            try temp.store.db.execute("""
                BEGIN;
                CREATE TABLE \(table)_copy AS SELECT * FROM \(table);
                DROP TABLE \(table);
                \(sql)
                INSERT INTO \(table) SELECT * FROM \(table)_copy;
                DROP TABLE \(table)_copy;
                COMMIT;
                """)
        }
        try temp.store.db.execute("UPDATE meta SET schema_version = 3")
        #expect(try temp.store.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'tasks_by_queue'") == 1)
        #expect(try temp.store.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '% IN (%'") == 4)
        temp.store.close()

        let reopened = try StateStore(path: temp.path("state.db"))
        defer { reopened.close() }
        #expect(try reopened.db.scalarInt("SELECT schema_version FROM meta") == StateStore.schemaVersion)
        #expect(try reopened.stateHash() == hash)
        #expect(try reopened.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'tasks_by_queue'") == 0)
        var indexes: Set<String> = []
        try reopened.db.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL") { indexes.insert($0.text(0)) }
        #expect(indexes == ["tasks_by_queue_state", "tasks_due_by_queue", "tasks_by_lease_expiry", "tasks_by_executor", "tasks_by_job"])
        #expect(try reopened.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '% IN (%'") == 0)
        #expect(try reopened.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'jobs_by_state'") == 1)
        #expect(try reopened.db.integrityProblem() == nil)
        #expect(ids(try reopened.listTasks(queue: "q", pageSize: 100)) == ids(before))
        // The rebuilt table still refuses what version 3 refused.
        #expect(throws: (any Error).self) {
            try reopened.db.execute("UPDATE tasks SET state = 'lost' WHERE id = 't01'")
        }
        #expect(throws: (any Error).self) {
            try reopened.db.execute("UPDATE tasks SET state = 'queued' WHERE id = 't02'")  // still holds a lease
        }
        #expect(throws: (any Error).self) { try reopened.db.execute("UPDATE queues SET state = 'gone' WHERE name = 'q'") }
        #expect(throws: (any Error).self) { try reopened.db.execute("UPDATE jobs SET state = 'LOST' WHERE id = 'j'") }
        #expect(throws: (any Error).self) { try reopened.db.execute("UPDATE attempts SET outcome = 'maybe'") }
    }

    /// A version-4 file (with `tasks_due`) opens as version 5 without it: same rows, same
    /// hash, same answers to the due questions.
    @Test func aVersionFourFileDropsTheGlobalDueIndex() throws {
        let temp = try TempStore()
        defer { temp.cleanup() }
        try fill(temp)
        let hash = try temp.store.stateHash()
        let dueBefore = try temp.store.dueTasks(nowMs: t0 + 60_000, limit: 100)
        try temp.store.db.execute("""
            CREATE INDEX tasks_due ON tasks (schedule_time_ms, id) WHERE state = 'queued';
            UPDATE meta SET schema_version = 4;
            """)
        temp.store.close()

        let reopened = try StateStore(path: temp.path("state.db"))
        defer { reopened.close() }
        #expect(try reopened.db.scalarInt("SELECT schema_version FROM meta") == 5)
        #expect(try reopened.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'tasks_due'") == 0)
        #expect(try reopened.db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'tasks_due_by_queue'") == 1)
        #expect(try reopened.stateHash() == hash)
        #expect(try reopened.db.integrityProblem() == nil)
        #expect(!dueBefore.isEmpty)
        #expect(try reopened.dueTasks(nowMs: t0 + 60_000, limit: 100) == dueBefore)
    }

    /// Due tasks across queues: the merge of the running queues' ranges gives what one query
    /// over all tasks would (schedule time, then id byte by byte; paused queues left out; the
    /// limit cut after the merge), on random stores.
    @Test(arguments: [1, 2, 3])
    func dueAcrossQueuesIsTheMergeOfTheRunningQueues(seed: UInt64) throws {
        try withStore { s in
            var random = SeededRandom(state: seed)
            let queues = ["a", "b", "c", "d"]
            for name in queues { try s.apply(.createQueue(queueSpec(name))) }
            try s.apply(.pauseQueue(name: "c"))
            for i in 0..<120 {
                let queue = queues[Int(random.next() % 4)]
                // Few distinct times, so ties on schedule time are common; ids out of order.
                let at = t0 + Int64(random.next() % 6)
                let id = String(format: "%@%03d", ["x", "Y", "a", "_"][Int(random.next() % 4)], Int(random.next() % 1000)) + "-\(i)"
                try s.apply(.createTask(taskSpec(id, queue: queue, at: at)))
            }
            var expected: [DueTask] = []
            try s.store.db.query("""
                SELECT t.id, t.queue, t.schedule_time_ms, t.dispatch_deadline_ms FROM tasks AS t JOIN queues AS q ON q.name = t.queue
                WHERE t.state = 'queued' AND q.state = 'running' AND t.schedule_time_ms <= ? ORDER BY t.schedule_time_ms, t.id
                """, [.integer(t0 + 3)]) { row in
                expected.append(DueTask(id: row.text(0), queue: row.text(1), scheduleTimeMs: row.int64(2), dispatchDeadlineMs: row.int64(3)))
            }
            #expect(expected.count > 20)
            #expect(!expected.contains { $0.queue == "c" })
            for limit in [0, 1, 7, 50, 1_000] {
                #expect(try s.store.dueTasks(nowMs: t0 + 3, limit: limit) == Array(expected.prefix(limit)), "limit \(limit)")
            }
        }
    }

    /// A new file has the version-4 table; its CHECKs refuse the same rows.
    @Test func theChecksStillRefuseBadStates() throws {
        try withStore { s in
            try fill(s)
            #expect(throws: (any Error).self) { try s.store.db.execute("UPDATE tasks SET state = 'lost' WHERE id = 't01'") }
            #expect(throws: (any Error).self) { try s.store.db.execute("UPDATE tasks SET lease_until_ms = NULL WHERE id = 't02'") }
            #expect(throws: (any Error).self) { try s.store.db.execute("UPDATE queues SET state = 'gone' WHERE name = 'q'") }
            #expect(throws: (any Error).self) { try s.store.db.execute("UPDATE attempts SET outcome = 'maybe'") }
            try s.store.db.execute("UPDATE tasks SET state = 'dead', lease_until_ms = NULL, lease_executor = NULL, fence = NULL WHERE id = 't01'")
        }
    }

    /// Listing a queue in id order merges the per-state ranges: every page in order, no task
    /// twice or missed, whatever the states.
    @Test(arguments: [1, 2, 3, 5, 100])
    func listingAQueuePagesInIDOrderAcrossStates(pageSize: Int) throws {
        try withStore { s in
            try fill(s)
            var seen: [String] = []
            var token: String?
            for _ in 0..<20 {
                let page = try s.store.listTasks(queue: "q", pageToken: token, pageSize: pageSize)
                #expect(page.items.count <= pageSize)
                seen += ids(page)
                token = page.nextPageToken
                if token == nil { break }
            }
            let expected = (0..<12).filter { $0 % 3 != 0 }.map { String(format: "t%02d", $0) }
            #expect(seen == expected)
            #expect(Set(try s.store.listTasks(queue: "q", pageSize: 100).items.map(\.state)).count == 5)
        }
    }
}
