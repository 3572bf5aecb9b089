import API
import Hummingbird
import NIOCore
import Raft
import Store

/// `GET /metrics`: Prometheus text format from this node's `NodeMetrics`. Gauges of state are
/// set here, at scrape time: the Raft status from this node, queue depths, executor slots and
/// job states from a stale read of this node's store (cheap: counts are kept per queue and
/// state by the store; one scan of executors' leases and of the jobs table).
extension NodeAPI {
    func addMetricsRoute(to router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in
            // Open to anyone with `metricsPublic`; otherwise served only when tokens are on (the
            // auth middleware has then checked the caller's token), and off without them.
            guard self.core.config.config.metricsPublic || self.core.config.security.enabled else {
                throw APIError(.notFound, "metrics are off on this node (metricsPublic is false and no tokens are configured)")
            }
            try await self.refreshGauges()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: self.core.metrics.exposition())))
        }
    }

    struct ScrapeState: Sendable {
        var queues: [String: [TaskState: Int]]
        var executors: [(id: String, slots: Int, busy: Int)]
        var jobs: [JobState: Int]
    }

    func refreshGauges() async throws {
        let metrics = core.metrics
        if let status = core.status {
            metrics.gauge("trireme_raft_term", [], Double(status.term.rawValue))
            for role in [Role.follower, .preCandidate, .candidate, .leader] {
                metrics.gauge("trireme_raft_role", [("role", role.rawValue)], role == status.role ? 1 : 0)
            }
            metrics.gauge("trireme_raft_commit_index", [], Double(status.commit.rawValue))
            metrics.gauge("trireme_raft_applied_index", [], Double(status.applied.rawValue))
            metrics.gauge("trireme_raft_last_index", [], Double(status.lastIndex.rawValue))
            metrics.gauge("trireme_raft_apply_lag", [], Double(status.commit.rawValue &- min(status.applied.rawValue, status.commit.rawValue)))
        }
        for (peer, bytes) in core.transport?.queuedBytes ?? [:] {
            metrics.gauge("trireme_peer_send_queue_bytes", [("peer", "n\(peer.rawValue)")], Double(bytes))
        }
        for (peer, total) in core.transport?.droppedMessages ?? [:] {
            metrics.peerDropped(peer: "n\(peer.rawValue)", total: total)
        }
        metrics.gauge("trireme_watch_waiters", [], Double(core.changes.waiterCount))
        guard let driver = core.driver else { return }
        let state = try await driver.read(linearizable: false) { machine in try Self.scrapeState(machine.store) }
        record(state, metrics: metrics)
    }

    static func scrapeState(_ store: StateStore) throws -> ScrapeState {
        let executors = try store.executors().map { record in
            (id: record.id, slots: record.slots, busy: try store.leaseCount(executorID: record.id))
        }
        return ScrapeState(queues: try store.allTaskCounts(), executors: executors, jobs: try store.jobCounts())
    }

    private func record(_ state: ScrapeState, metrics: NodeMetrics) {
        var queueLabels: [[(String, String)]] = []
        for (queue, counts) in state.queues {
            for taskState in TaskState.allCases {
                let labels = [("queue", queue), ("state", taskState.rawValue)]
                metrics.gauge("trireme_queue_tasks", labels, Double(counts[taskState] ?? 0))
                queueLabels.append(labels)
            }
        }
        var executorLabels: [[(String, String)]] = []
        for executor in state.executors {
            let busy = [("executor", executor.id), ("state", "busy")]
            let free = [("executor", executor.id), ("state", "free")]
            metrics.gauge("trireme_executor_slots", busy, Double(executor.busy))
            metrics.gauge("trireme_executor_slots", free, Double(max(0, executor.slots - executor.busy)))
            executorLabels += [busy, free]
        }
        for jobState in JobState.allCases {
            metrics.gauge("trireme_jobs", [("state", jobState.rawValue)], Double(state.jobs[jobState] ?? 0))
        }
        metrics.forget(["trireme_queue_tasks": queueLabels, "trireme_executor_slots": executorLabels])
    }
}
