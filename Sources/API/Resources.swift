// Request and response bodies of the client API (`/v1/...`). Field names follow Cloud Tasks and
// Dataflow where they have one; times are RFC 3339 strings; durations carry their unit in the
// name (`…Ms`). Unknown fields in a request are rejected (400), so a typo never passes silently.

public struct RateLimitsBody: Codable, Sendable, Equatable {
    public var maxDispatchesPerSecond: Double?
    public var maxBurstSize: Int?
    public var maxConcurrentDispatches: Int?
    public init(maxDispatchesPerSecond: Double? = nil, maxBurstSize: Int? = nil, maxConcurrentDispatches: Int? = nil) {
        self.maxDispatchesPerSecond = maxDispatchesPerSecond
        self.maxBurstSize = maxBurstSize
        self.maxConcurrentDispatches = maxConcurrentDispatches
    }
}

public struct RetryConfigBody: Codable, Sendable, Equatable {
    public var maxAttempts: Int?
    public var minBackoffMs: Int64?
    public var maxBackoffMs: Int64?
    public var maxDoublings: Int?
    public var maxRetryDurationMs: Int64?
    public init(maxAttempts: Int? = nil, minBackoffMs: Int64? = nil, maxBackoffMs: Int64? = nil,
                maxDoublings: Int? = nil, maxRetryDurationMs: Int64? = nil) {
        self.maxAttempts = maxAttempts
        self.minBackoffMs = minBackoffMs
        self.maxBackoffMs = maxBackoffMs
        self.maxDoublings = maxDoublings
        self.maxRetryDurationMs = maxRetryDurationMs
    }
}

/// `POST /v1/queues` and `PATCH /v1/queues/{name}` (name ignored on patch).
public struct QueueRequest: Codable, Sendable, Equatable {
    public var name: String?
    public var rateLimits: RateLimitsBody?
    public var retryConfig: RetryConfigBody?
    public var tombstoneWindowMs: Int64?
    public static let fields: Set<String> = ["name", "rateLimits", "retryConfig", "tombstoneWindowMs"]
    public init(name: String? = nil, rateLimits: RateLimitsBody? = nil, retryConfig: RetryConfigBody? = nil, tombstoneWindowMs: Int64? = nil) {
        self.name = name
        self.rateLimits = rateLimits
        self.retryConfig = retryConfig
        self.tombstoneWindowMs = tombstoneWindowMs
    }
}

public struct QueueBody: Codable, Sendable, Equatable {
    public var name: String
    public var state: String
    public var rateLimits: RateLimitsBody
    public var retryConfig: RetryConfigBody
    public var tombstoneWindowMs: Int64
    /// Tasks per state (queued, leased, running, succeeded, dead, cancelled).
    public var stats: [String: Int]?
    public init(name: String, state: String, rateLimits: RateLimitsBody, retryConfig: RetryConfigBody, tombstoneWindowMs: Int64, stats: [String: Int]? = nil) {
        self.name = name
        self.state = state
        self.rateLimits = rateLimits
        self.retryConfig = retryConfig
        self.tombstoneWindowMs = tombstoneWindowMs
        self.stats = stats
    }
}

public struct QueueList: Codable, Sendable, Equatable {
    public var queues: [QueueBody]
    public var nextPageToken: String?
    public init(queues: [QueueBody], nextPageToken: String?) {
        self.queues = queues
        self.nextPageToken = nextPageToken
    }
}

/// `POST /v1/queues/{queue}/tasks`.
public struct TaskRequest: Codable, Sendable, Equatable {
    /// Optional user-given name; a second create with the same name answers 409 while the task
    /// lives and for the queue's tombstone window after it ends.
    public var name: String?
    /// `http`, `preprocess`, or a test kind when enabled.
    public var kind: String
    /// Kind-specific JSON (for `http`: url, method, headers, body).
    public var payload: JSONValue?
    /// RFC 3339; absent means now.
    public var scheduleTime: String?
    public var dispatchDeadlineMs: Int64?
    public static let fields: Set<String> = ["name", "kind", "payload", "scheduleTime", "dispatchDeadlineMs"]
    public init(name: String? = nil, kind: String, payload: JSONValue? = nil, scheduleTime: String? = nil, dispatchDeadlineMs: Int64? = nil) {
        self.name = name
        self.kind = kind
        self.payload = payload
        self.scheduleTime = scheduleTime
        self.dispatchDeadlineMs = dispatchDeadlineMs
    }
}

public struct TaskBody: Codable, Sendable, Equatable {
    public var id: String
    public var queue: String
    public var name: String?
    public var jobId: String?
    public var kind: String
    public var payload: JSONValue?
    public var state: String
    public var scheduleTime: String
    public var dispatchDeadlineMs: Int64
    public var createTime: String
    public var attempts: Int
    public var firstAttemptTime: String?
    public var lastAttemptTime: String?
    public var lastOutcome: String?
    public var executor: String?
    public var leaseExpireTime: String?
    public var fence: UInt64?
    public var result: JSONValue?
    public var lastError: String?
    public init(id: String, queue: String, name: String?, jobId: String?, kind: String, payload: JSONValue?, state: String,
                scheduleTime: String, dispatchDeadlineMs: Int64, createTime: String, attempts: Int,
                firstAttemptTime: String?, lastAttemptTime: String?, lastOutcome: String?, executor: String?,
                leaseExpireTime: String?, fence: UInt64?, result: JSONValue?, lastError: String?) {
        self.id = id
        self.queue = queue
        self.name = name
        self.jobId = jobId
        self.kind = kind
        self.payload = payload
        self.state = state
        self.scheduleTime = scheduleTime
        self.dispatchDeadlineMs = dispatchDeadlineMs
        self.createTime = createTime
        self.attempts = attempts
        self.firstAttemptTime = firstAttemptTime
        self.lastAttemptTime = lastAttemptTime
        self.lastOutcome = lastOutcome
        self.executor = executor
        self.leaseExpireTime = leaseExpireTime
        self.fence = fence
        self.result = result
        self.lastError = lastError
    }
}

public struct TaskList: Codable, Sendable, Equatable {
    public var tasks: [TaskBody]
    public var nextPageToken: String?
    public init(tasks: [TaskBody], nextPageToken: String?) {
        self.tasks = tasks
        self.nextPageToken = nextPageToken
    }
}

/// `POST /v1/jobs`: a job from a template with parameters (Dataflow style).
public struct JobRequest: Codable, Sendable, Equatable {
    public var template: String
    public var parameters: [String: JSONValue]?
    public static let fields: Set<String> = ["template", "parameters"]
    public init(template: String, parameters: [String: JSONValue]? = nil) {
        self.template = template
        self.parameters = parameters
    }
}

public struct JobBody: Codable, Sendable, Equatable {
    public var id: String
    public var template: String
    public var parameters: JSONValue?
    public var state: String
    public var counters: [String: Int64]
    public var createTime: String
    public var startTime: String?
    public var endTime: String?
    public var error: String?
    public init(id: String, template: String, parameters: JSONValue?, state: String, counters: [String: Int64],
                createTime: String, startTime: String?, endTime: String?, error: String?) {
        self.id = id
        self.template = template
        self.parameters = parameters
        self.state = state
        self.counters = counters
        self.createTime = createTime
        self.startTime = startTime
        self.endTime = endTime
        self.error = error
    }
}

public struct JobList: Codable, Sendable, Equatable {
    public var jobs: [JobBody]
    public var nextPageToken: String?
    public init(jobs: [JobBody], nextPageToken: String?) {
        self.jobs = jobs
        self.nextPageToken = nextPageToken
    }
}

public struct MemberBody: Codable, Sendable, Equatable {
    public var id: UInt64
    public var apiAddress: String
    public var peerAddress: String
    /// Leader's view of how far this member's log matches its own (leader only).
    public var matchIndex: UInt64?
    /// "voter" or "learner" in this node's current Raft configuration, "none" when the address
    /// book lists the node but it is not a member (nil from older nodes).
    public var role: String?
    public init(id: UInt64, apiAddress: String, peerAddress: String, matchIndex: UInt64? = nil, role: String? = nil) {
        self.role = role
        self.id = id
        self.apiAddress = apiAddress
        self.peerAddress = peerAddress
        self.matchIndex = matchIndex
    }
}

/// One executor as the replicated store knows it (`GET /v1/cluster`).
public struct ExecutorBody: Codable, Sendable, Equatable {
    public var id: String
    public var node: String
    public var slots: Int
    public var registerTime: String
    public var lastHeartbeatTime: String
    public init(id: String, node: String, slots: Int, registerTime: String, lastHeartbeatTime: String) {
        self.id = id
        self.node = node
        self.slots = slots
        self.registerTime = registerTime
        self.lastHeartbeatTime = lastHeartbeatTime
    }
}

/// `GET /v1/cluster`: this node's view.
public struct ClusterStatusBody: Codable, Sendable, Equatable {
    public var nodeId: UInt64
    public var role: String
    public var term: UInt64
    public var leader: UInt64?
    public var leaderApiAddress: String?
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var lastIndex: UInt64
    public var members: [MemberBody]
    /// Executors registered in this node's applied state (nil from older nodes).
    public var executors: [ExecutorBody]?
    /// The Raft log starts after this index (0 until the first compaction); nil from older nodes.
    public var snapshotIndex: UInt64?
    /// The newest snapshot file this node holds, as `<index>-<term>`, if any.
    public var latestSnapshot: String?
    public init(nodeId: UInt64, role: String, term: UInt64, leader: UInt64?, leaderApiAddress: String?, commitIndex: UInt64,
                appliedIndex: UInt64, lastIndex: UInt64, members: [MemberBody], executors: [ExecutorBody]? = nil,
                snapshotIndex: UInt64? = nil, latestSnapshot: String? = nil) {
        self.snapshotIndex = snapshotIndex
        self.latestSnapshot = latestSnapshot
        self.nodeId = nodeId
        self.role = role
        self.term = term
        self.leader = leader
        self.leaderApiAddress = leaderApiAddress
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastIndex = lastIndex
        self.members = members
        self.executors = executors
    }
}

/// Response headers every write and linearizable read carries.
public enum APIHeader {
    public static let raftIndex = "Trireme-Raft-Index"
    public static let raftTerm = "Trireme-Raft-Term"
    public static let idempotencyKey = "Idempotency-Key"
    /// Set by a follower when it forwards a write, so the leader never forwards it again.
    public static let forwardedBy = "Trireme-Forwarded-By"
    /// On every client-API answer: the log index of the state it reflects (a write's own index,
    /// or the applied index its read saw). Pass it back as `?waitIndex=` to watch for changes.
    public static let index = "X-Trireme-Index"
    /// On every answer: the request's id (the client's own `X-Request-Id` if plain), also in
    /// the node's log lines for the request.
    public static let requestID = "X-Request-Id"
}
