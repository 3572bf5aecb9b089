import API
import Chaos
import Foundation

/// The clients of a chaos run. Each process is one sequential client (as in Jepsen): it
/// invokes one operation at a time on a random node and records it. Operations:
/// - create an `http` task whose name and Idempotency-Key are a fresh key; an unknown outcome
///   is retried with the same key (each try recorded), as a real client would;
/// - write a unique value into the register (the register queue's `tombstoneWindowMs`, by PATCH);
/// - read the register (GET, linearizable by default).
/// The register changes every `registerWindow` (a new queue per window, all made in setup):
/// registers are independent, so each is checked on its own, which keeps the linearizability
/// search small however long the run (Jepsen's independent keys).
/// A poller records which node leads every 250 ms; a job process submits WordCount jobs.
struct Workload: Sendable {
    let servers: [String]
    let http: ChaosHTTP
    let taskQueue: String
    let registerQueues: [String]
    let registerWindow: Duration
    let sinkPort: Int
    let clients: Int
    let jobs: Int
    let jobParameters: @Sendable (Int) -> [String: JSONValue]
    let runID: String

    static let registerKey = "tombstoneWindowMs"

    func run(for duration: Duration) async -> [ClientOp] {
        let started = ContinuousClock.now
        let deadline = started + duration
        return await withTaskGroup(of: [ClientOp].self) { group in
            for p in 0..<clients {
                group.addTask { await self.client(p, started: started, until: deadline) }
            }
            group.addTask { await self.pollLeader(process: 1_000, until: deadline) }
            if jobs > 0 {
                group.addTask { await self.submitJobs(process: 2_000, until: deadline, total: duration) }
            }
            var all: [ClientOp] = []
            for await ops in group { all += ops }
            return all.sorted { $0.invokeNs < $1.invokeNs }
        }
    }

    /// One recorded request: returns the operation with its outcome and the reply if any.
    func call(_ process: Int, _ kind: ClientOp.Kind, key: String?, value: Int64?, method: String, path: String,
              body: Data?, headers: [String: String] = [:]) async -> (ClientOp, ChaosHTTP.Reply?) {
        let server = servers.randomElement() ?? servers[0]
        let start = nowNs()
        let reply: Result<ChaosHTTP.Reply, any Error>
        do {
            reply = .success(try await http.send(method, server: server, path: path, body: body, headers: headers))
        } catch {
            reply = .failure(error)
        }
        let (outcome, error) = http.classify(reply)
        let op = ClientOp(process: process, kind: kind, key: key, value: value, outcome: outcome,
                           invokeNs: start, completeNs: nowNs(), node: server, error: error)
        return (op, try? reply.get())
    }

    func client(_ p: Int, started: ContinuousClock.Instant, until deadline: ContinuousClock.Instant) async -> [ClientOp] {
        var ops: [ClientOp] = []
        var n = 0
        while ContinuousClock.now < deadline {
            n += 1
            let window = Int((ContinuousClock.now - started) / registerWindow)
            let registerQueue = registerQueues[min(max(window, 0), registerQueues.count - 1)]
            let dice = Int.random(in: 0..<10)
            if dice < 6 {
                ops += await createTask(p, key: "\(runID)-p\(p)-\(n)")
            } else if dice < 8 {
                // Unique per write: process and sequence number; within 0...30 days of ms.
                let value = Int64(p + 1) * 10_000_000 + Int64(n)
                let body = Data("{\"\(Self.registerKey)\":\(value)}".utf8)
                ops.append(await call(p, .writeRegister, key: registerQueue, value: value, method: "PATCH",
                                      path: "/v1/queues/\(registerQueue)", body: body).0)
            } else {
                var (op, reply) = await call(p, .readRegister, key: registerQueue, value: nil, method: "GET",
                                             path: "/v1/queues/\(registerQueue)", body: nil)
                if op.outcome == .ok {
                    if let reply, let queue = try? JSONDecoder().decode(QueueBody.self, from: reply.body) {
                        op.value = queue.tombstoneWindowMs
                    } else {
                        op.outcome = .fail
                        op.error = "undecodable queue"
                    }
                }
                ops.append(op)
            }
        }
        return ops
    }

    /// Creates one task, retrying unknown outcomes with the same key (at most 4 tries).
    func createTask(_ p: Int, key: String) async -> [ClientOp] {
        let request = TaskRequest(name: key, kind: "http",
                                  payload: .object(["url": .string("http://127.0.0.1:\(sinkPort)/hook/\(key)")]))
        let body = (try? JSONEncoder().encode(request)) ?? Data()
        var ops: [ClientOp] = []
        for attempt in 0..<4 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(250)) }
            var (op, reply) = await call(p, .createTask, key: key, value: nil, method: "POST",
                                         path: "/v1/queues/\(taskQueue)/tasks", body: body,
                                         headers: [APIHeader.idempotencyKey: key])
            if op.outcome == .ok, let reply { op.result = (try? JSONDecoder().decode(TaskBody.self, from: reply.body))?.id }
            ops.append(op)
            if op.outcome != .unknown { break }
        }
        return ops
    }

    func pollLeader(process: Int, until deadline: ContinuousClock.Instant) async -> [ClientOp] {
        let quick = ChaosHTTP(timeout: 0.5)
        var ops: [ClientOp] = []
        while ContinuousClock.now < deadline {
            let start = nowNs()
            var leader: Int64?
            for server in servers {
                guard let reply = try? await quick.send("GET", server: server, path: "/v1/cluster"),
                      let status = try? JSONDecoder().decode(ClusterStatusBody.self, from: reply.body) else { continue }
                if status.role == "leader" {
                    leader = Int64(status.nodeId)
                    break
                }
            }
            ops.append(ClientOp(process: process, kind: .status, value: leader, outcome: .ok, invokeNs: start, completeNs: nowNs()))
            try? await Task.sleep(for: .milliseconds(250))
        }
        return ops
    }

    /// Submits `jobs` WordCount jobs spread over the run, retrying unknown outcomes with the
    /// same Idempotency-Key.
    func submitJobs(process: Int, until deadline: ContinuousClock.Instant, total: Duration) async -> [ClientOp] {
        var ops: [ClientOp] = []
        for k in 0..<jobs {
            try? await Task.sleep(for: total / (jobs + 1))
            guard ContinuousClock.now < deadline else { break }
            let key = "\(runID)-job-\(k)"
            let body = (try? JSONEncoder().encode(JobRequest(template: "wordcount", parameters: jobParameters(k)))) ?? Data()
            for attempt in 0..<6 {
                if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
                var (op, reply) = await call(process, .createJob, key: key, value: nil, method: "POST", path: "/v1/jobs",
                                             body: body, headers: [APIHeader.idempotencyKey: key])
                if op.outcome == .ok, let reply { op.result = (try? JSONDecoder().decode(JobBody.self, from: reply.body))?.id }
                ops.append(op)
                if op.outcome != .unknown { break }
            }
        }
        return ops
    }
}
