import API
import Chaos
import Foundation

/// Reads the cluster's final state after healing: every task of the workload's queue, the
/// queue's per-state counts, and every job with its output shards.
struct FinalReader: Sendable {
    let servers: [String]
    let http: ChaosHTTP
    let dataRoot: URL

    /// Waits (bounded) until every task and job is terminal, then reads the final state.
    /// `historyOf`: tasks whose store attempt history to read as well (a double completion
    /// needs two attempts, so the run passes those with several attempts or deliveries).
    func read(queue: String, excludingJobs excluded: Set<String>, settle: Duration,
              historyOf wanted: @Sendable (TaskBody) -> Bool) async throws -> FinalState {
        let deadline = ContinuousClock.now + settle
        while true {
            let tasks = try await listTasks(queue: queue, deadline: deadline + .seconds(30))
            let jobs = try await listJobs(deadline: deadline + .seconds(30)).filter { !excluded.contains($0.id) }
            let settled = tasks.allSatisfy { FinalState.terminalStates.contains($0.state) }
                && jobs.allSatisfy { ["DONE", "FAILED", "CANCELLED"].contains($0.state) }
            if settled || ContinuousClock.now >= deadline {
                let stats = try await queueStats(queue, deadline: deadline + .seconds(30))
                var snapshots: [FinalState.TaskSnapshot] = []
                for task in tasks {
                    var snap = snapshot(task)
                    if wanted(task) {
                        snap.attemptHistory = try await attempts(queue: queue, task: task.id, deadline: deadline + .seconds(60))
                    }
                    snapshots.append(snap)
                }
                // The list leaves counters out; each job's own GET has them.
                var full: [JobBody] = []
                for job in jobs {
                    let reply = try await http.insist("GET", servers: servers, path: "/v1/jobs/\(job.id)", deadline: deadline + .seconds(60))
                    full.append(try http.decode(JobBody.self, reply, what: "job \(job.id)"))
                }
                return FinalState(tasks: snapshots, queueStats: stats, jobs: full.map(jobSnapshot))
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    func snapshot(_ task: TaskBody) -> FinalState.TaskSnapshot {
        // The http runner's result is {"status": 200, "body": "<what the sink answered>"}.
        let delivery = task.result?["body"]?.stringValue.flatMap { Int64($0) }
        return FinalState.TaskSnapshot(id: task.id, name: task.name, kind: task.kind, state: task.state,
                                       attempts: task.attempts, fence: task.fence, acceptedDelivery: delivery)
    }

    func jobSnapshot(_ job: JobBody) -> FinalState.JobSnapshot {
        var counts: [String: Int64]?
        if job.state == "DONE", let output = job.parameters?["output"]?.stringValue {
            counts = readShards(prefix: output)
        }
        return FinalState.JobSnapshot(id: job.id, state: job.state, counters: job.counters, wordCounts: counts)
    }

    /// `PREFIX-0000S-of-0000N` files, summed; nil when none exist or a line is malformed.
    func readShards(prefix: String) -> [String: Int64]? {
        let base = dataRoot.appendingPathComponent(prefix)
        let dir = base.deletingLastPathComponent()
        let stem = base.lastPathComponent + "-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        let shards = names.filter { $0.hasPrefix(stem) && $0.contains("-of-") }.sorted()
        guard !shards.isEmpty else { return nil }
        var total: [String: Int64] = [:]
        for name in shards {
            guard let text = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) else { return nil }
            let parsed = JobChecks.parseCounts(text)
            guard parsed.badLines == 0 else { return nil }
            total.merge(parsed.counts, uniquingKeysWith: +)
        }
        return total
    }

    func listTasks(queue: String, deadline: ContinuousClock.Instant) async throws -> [TaskBody] {
        var all: [TaskBody] = []
        var token: String?
        repeat {
            let page = "/v1/queues/\(queue)/tasks?pageSize=1000" + (token.map { "&pageToken=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
            let reply = try await http.insist("GET", servers: servers, path: page, deadline: deadline)
            let list = try http.decode(TaskList.self, reply, what: "task list")
            all += list.tasks
            token = list.nextPageToken
        } while token != nil
        return all
    }

    func listJobs(deadline: ContinuousClock.Instant) async throws -> [JobBody] {
        var all: [JobBody] = []
        var token: String?
        repeat {
            let page = "/v1/jobs?pageSize=1000" + (token.map { "&pageToken=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
            let reply = try await http.insist("GET", servers: servers, path: page, deadline: deadline)
            let list = try http.decode(JobList.self, reply, what: "job list")
            all += list.jobs
            token = list.nextPageToken
        } while token != nil
        return all
    }

    func attempts(queue: String, task: String, deadline: ContinuousClock.Instant) async throws -> [FinalState.AttemptSnapshot] {
        let reply = try await http.insist("GET", servers: servers, path: "/v1/queues/\(queue)/tasks/\(task)/attempts", deadline: deadline)
        return try http.decode(AttemptList.self, reply, what: "attempts of \(task)").attempts.map {
            FinalState.AttemptSnapshot(attempt: $0.attempt, fence: $0.fence, outcome: $0.outcome)
        }
    }

    func queueStats(_ queue: String, deadline: ContinuousClock.Instant) async throws -> [String: Int] {
        let reply = try await http.insist("GET", servers: servers, path: "/v1/queues/\(queue)", deadline: deadline)
        return try http.decode(QueueBody.self, reply, what: "queue").stats ?? [:]
    }
}
