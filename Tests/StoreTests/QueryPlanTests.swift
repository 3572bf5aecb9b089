import Foundation
import SQLite
import Testing
@testable import Store

/// The hot queries must never scan the tasks table: every step that touches it is a SEARCH
/// through an index, and no query sorts its rows in a temporary B-tree.
@Suite struct QueryPlanTests {
    static let queries: [(name: String, sql: String, bindings: [Value])] = [
        ("due by queue", QuerySQL.dueByQueue, [.text("q"), .integer(t0), .integer(100)]),
        ("expired leases", QuerySQL.expiredLeases, [.integer(t0), .integer(100)]),
        ("expire candidates", QuerySQL.expireCandidates, [.integer(t0), .integer(100)]),
        ("leased by executor", QuerySQL.leasedByExecutor, [.text("e"), .integer(100)]),
        ("lease count of executor", QuerySQL.leaseCountOfExecutor, [.text("e")]),
        ("list by queue", QuerySQL.listByQueue, [.text("q"), .text(""), .integer(100)]),
        ("list by queue and state", QuerySQL.listByQueueState, [.text("q"), .text("queued"), .text(""), .integer(100)]),
        ("job task counts", QuerySQL.jobTaskCounts, [.text("j")]),
        ("job tasks in state", QuerySQL.jobTasksInState, [.text("j"), .text("queued"), .integer(10)]),
        ("queue counts", QuerySQL.queueCounts, [.text("q")]),
        ("tasks of queue", QuerySQL.tasksOfQueue, [.text("q")]),
        ("task by id", "SELECT \(QuerySQL.taskColumns) FROM tasks WHERE id = ?", [.text("t")]),
        ("last attempt", QuerySQL.lastAttempt, [.text("t")]),
        ("insert attempt", QuerySQL.insertAttempt, [.text("t"), .integer(1), .text("e"), .integer(1), .integer(t0)]),
        ("prune attempts", QuerySQL.pruneAttempts, [.text("t"), .integer(1)]),
        ("start attempt", QuerySQL.startAttempt, [.integer(t0), .text("t"), .integer(1)]),
        ("end attempt", QuerySQL.endAttempt, [.integer(t0), .text("failed"), .null, .text("t"), .integer(1)]),
        ("attempts of task", QuerySQL.attemptsOfTask, [.text("t")]),
        ("fail attempt", QuerySQL.failAttempt, [.integer(t0), .null, .text("t"), .integer(1)]),
    ]

    @Test(arguments: queries.map(\.name))
    func usesAnIndex(name: String) throws {
        let query = try #require(Self.queries.first { $0.name == name })
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            for i in 0..<50 { try s.apply(.createTask(taskSpec("t\(i)", at: t0 + Int64(i)))) }
            var plan: [String] = []
            try s.store.db.query("EXPLAIN QUERY PLAN " + query.sql, query.bindings) { row in plan.append(row.text(3)) }
            #expect(!plan.isEmpty)
            for line in plan {
                #expect(!line.hasPrefix("SCAN"), "\(name): \(line)")
                #expect(!line.contains("TEMP B-TREE"), "\(name): \(line)")
            }
            #expect(plan.contains { $0.hasPrefix("SEARCH") && $0.contains("INDEX") || $0.contains("PRIMARY KEY") }, "\(name): \(plan)")
        }
    }
}
