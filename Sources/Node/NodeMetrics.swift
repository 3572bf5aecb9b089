import Metrics
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory
import Synchronization

/// One node's metrics: swift-metrics handles backed by a Prometheus registry OF ITS OWN.
///
/// Deliberately no `MetricsSystem.bootstrap`: that is global and once per process, and tests
/// run several nodes in one process. Every handle here is made with `factory:`, so each node
/// (and each test) scrapes only its own numbers. Libraries that report through the global
/// system (none we use does today) would not show up; bootstrap the same factory if one does.
///
/// Event-driven numbers are updated where they happen (the driver thread, the HTTP middleware,
/// apply); the Raft status, queue depths, executor slots and job states are gauges set at
/// scrape time (`NodeMetrics+Scrape`), from this node's status and a stale store read.
public final class NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    // Raft (driver thread).
    let proposals: Counter
    let committedEntries: Counter
    let leaderChanges: Counter
    let persistLatency: Timer
    /// Task creates answered on the event loop (`CreateFastPath`), out of all the route's.
    let createFastPath: Counter
    /// Label sets each scrape-time gauge family had at the last scrape (to drop vanished ones).
    private let scraped = Mutex<[String: Set<[String]>]>([:])
    private let droppedReported = Mutex<[String: Int]>([:])
    private let httpHandles = Mutex<[HTTPLabels: (Counter, Timer)]>([:])

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Local fsyncs and HTTP answers: tenths of a millisecond to seconds.
        let fast: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60)]
        factory.defaultDurationHistogramBuckets = fast
        // Dispatch latency (due → leased) spans milliseconds to hours behind a paused queue.
        factory.durationHistogramBuckets["trireme_queue_dispatch_latency_seconds"] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
            .seconds(900), .seconds(3600),
        ]
        self.registry = registry
        self.factory = factory
        proposals = Counter(label: "trireme_raft_proposals_total", factory: factory)
        committedEntries = Counter(label: "trireme_raft_committed_entries_total", factory: factory)
        leaderChanges = Counter(label: "trireme_raft_leader_changes_total", factory: factory)
        persistLatency = Timer(label: "trireme_raft_persist_seconds", factory: factory)
        createFastPath = Counter(label: "trireme_http_create_fast_path_total", factory: factory)
    }

    // MARK: per-label handles (the registry returns the existing collector for known labels)

    func httpRequest(route: String, method: String, status: Int, duration: Duration) {
        // Handles are kept per label set: asking the registry for them on every request (it
        // builds and hashes the label set under its lock) was 3% of the request path. Routes
        // are templates, so the map stays small.
        let key = HTTPLabels(route: route, method: method, status: status)
        let (counter, timer) = httpHandles.withLock { handles -> (Counter, Timer) in
            if let known = handles[key] { return known }
            let made = (Counter(label: "trireme_http_requests_total",
                                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory),
                        Timer(label: "trireme_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                              factory: factory))
            handles[key] = made
            return made
        }
        counter.increment()
        timer.record(duration: duration)
    }

    private struct HTTPLabels: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    /// Brings the dropped-messages counter up to `total` (the link's own running count, read at
    /// scrape time; a counter only increments, so it is advanced by the difference).
    func peerDropped(peer: String, total: Int) {
        let delta = droppedReported.withLock { reported -> Int in
            let delta = max(0, total - reported[peer, default: 0])
            reported[peer] = max(total, reported[peer, default: 0])
            return delta
        }
        let counter = Counter(label: "trireme_peer_dropped_messages_total", dimensions: [("peer", peer)], factory: factory)
        if delta > 0 { counter.increment(by: delta) }
    }

    /// Apply-time queue events (every replica counts the same committed entries).
    func dispatched(queue: String, latency: Duration) {
        Counter(label: "trireme_queue_dispatches_total", dimensions: [("queue", queue)], factory: factory).increment()
        Timer(label: "trireme_queue_dispatch_latency_seconds", dimensions: [("queue", queue)], factory: factory).record(duration: latency)
    }

    func retried(queue: String) {
        Counter(label: "trireme_queue_retries_total", dimensions: [("queue", queue)], factory: factory).increment()
    }

    func died(queue: String) {
        Counter(label: "trireme_queue_dead_tasks_total", dimensions: [("queue", queue)], factory: factory).increment()
    }

    func jobBytesProcessed(_ bytes: Int64) {
        guard bytes > 0 else { return }
        Counter(label: "trireme_job_bytes_processed_total", factory: factory).increment(by: bytes)
    }

    func gauge(_ label: String, _ dimensions: [(String, String)] = [], _ value: Double) {
        Gauge(label: label, dimensions: dimensions, factory: factory).record(value)
    }

    /// Drops a gauge whose labels no longer exist (a deleted queue, a gone executor).
    func removeGauge(_ label: String, _ dimensions: [(String, String)]) {
        Gauge(label: label, dimensions: dimensions, factory: factory).destroy()
    }

    /// After a scrape set `current` label sets per gauge family: drops the ones the previous
    /// scrape had and this one does not (a deleted queue, a gone executor).
    func forget(_ current: [String: [[(String, String)]]]) {
        let gone: [(String, [String])] = scraped.withLock { scraped in
            var gone: [(String, [String])] = []
            for (label, sets) in current {
                let flat = Set(sets.map { $0.flatMap { [$0.0, $0.1] } })
                for old in scraped[label, default: []] where !flat.contains(old) { gone.append((label, old)) }
                scraped[label] = flat
            }
            return gone
        }
        for (label, flat) in gone {
            let pairs = stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
            removeGauge(label, pairs)
        }
    }

    /// The Prometheus text exposition of everything recorded so far.
    func exposition() -> String { registry.emitToString() }
}
