import API
import Foundation

/// Before the workload: the queues it uses, and one fault-free WordCount job whose counters
/// the jobs run under faults must equal.
struct Setup: Sendable {
    let servers: [String]
    let http: ChaosHTTP
    let deadline: ContinuousClock.Instant

    /// Creates the task queue and the register queues (an existing one is fine) and returns
    /// each register's initial value.
    func queues(taskQueue: String, registerQueues: [String]) async throws -> [String: Int64] {
        let tasks = QueueRequest(name: taskQueue, rateLimits: RateLimitsBody(maxDispatchesPerSecond: 500, maxBurstSize: 100),
                                 retryConfig: RetryConfigBody(maxAttempts: 1_000, minBackoffMs: 100, maxBackoffMs: 1_000))
        let registers = registerQueues.map { QueueRequest(name: $0, tombstoneWindowMs: 1) }
        for queue in [tasks] + registers {
            let reply = try await http.insist("POST", servers: servers, path: "/v1/queues",
                                              body: try JSONEncoder().encode(queue), deadline: deadline)
            guard (200..<300).contains(reply.status) || reply.status == 409 else {
                throw ChaosError.setup("create queue: HTTP \(reply.status) \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            }
        }
        var initial: [String: Int64] = [:]
        for name in registerQueues {
            let reply = try await http.insist("GET", servers: servers, path: "/v1/queues/\(name)", deadline: deadline)
            initial[name] = try http.decode(QueueBody.self, reply, what: "register queue").tombstoneWindowMs
        }
        return initial
    }

    /// Runs one job to DONE and returns its counters.
    func baselineJob(key: String, parameters: [String: JSONValue]) async throws -> [String: Int64] {
        let body = try JSONEncoder().encode(JobRequest(template: "wordcount", parameters: parameters))
        let reply = try await http.insist("POST", servers: servers, path: "/v1/jobs", body: body,
                                          headers: [APIHeader.idempotencyKey: key], deadline: deadline)
        let job = try http.decode(JobBody.self, reply, what: "baseline job")
        let jobDeadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < jobDeadline {
            let reply = try await http.insist("GET", servers: servers, path: "/v1/jobs/\(job.id)", deadline: jobDeadline)
            let current = try http.decode(JobBody.self, reply, what: "baseline job")
            if current.state == "DONE" { return current.counters }
            if ["FAILED", "CANCELLED"].contains(current.state) {
                throw ChaosError.setup("baseline job \(job.id) ended \(current.state): \(current.error ?? "")")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ChaosError.setup("baseline job \(job.id) not DONE within 120 s")
    }
}
