/// The cluster's state read after the faults stopped and the cluster healed.
public struct FinalState: Codable, Sendable, Equatable {
    /// One attempt of a task as the store records it (`GET …/tasks/{task}/attempts`).
    public struct AttemptSnapshot: Codable, Sendable, Equatable {
        public var attempt: Int
        /// The lease's fencing token (log index of the assignment).
        public var fence: UInt64
        /// `succeeded`, `failed`, `lease_expired`, …; nil while in flight.
        public var outcome: String?

        public init(attempt: Int, fence: UInt64, outcome: String?) {
            self.attempt = attempt
            self.fence = fence
            self.outcome = outcome
        }
    }

    public struct TaskSnapshot: Codable, Sendable, Equatable {
        public var id: String
        public var name: String?
        public var kind: String
        public var state: String
        public var attempts: Int
        public var fence: UInt64?
        /// The delivery id named by the store's accepted result (the sink answers it), if any.
        public var acceptedDelivery: Int64?
        /// The store's attempt history; nil when not read (tasks with a single attempt).
        public var attemptHistory: [AttemptSnapshot]?

        public init(id: String, name: String?, kind: String = "http", state: String, attempts: Int,
                    fence: UInt64? = nil, acceptedDelivery: Int64? = nil, attemptHistory: [AttemptSnapshot]? = nil) {
            self.id = id
            self.name = name
            self.kind = kind
            self.state = state
            self.attempts = attempts
            self.fence = fence
            self.acceptedDelivery = acceptedDelivery
            self.attemptHistory = attemptHistory
        }
    }

    public struct JobSnapshot: Codable, Sendable, Equatable {
        public var id: String
        public var state: String
        public var counters: [String: Int64]
        /// `word → count` read from the job's output shards; nil when they could not be read.
        public var wordCounts: [String: Int64]?

        public init(id: String, state: String, counters: [String: Int64], wordCounts: [String: Int64]?) {
            self.id = id
            self.state = state
            self.counters = counters
            self.wordCounts = wordCounts
        }
    }

    /// Every task of the workload's queue.
    public var tasks: [TaskSnapshot]
    /// The queue's per-state counts as the store reports them (`stats`).
    public var queueStats: [String: Int]
    public var jobs: [JobSnapshot]

    public init(tasks: [TaskSnapshot], queueStats: [String: Int] = [:], jobs: [JobSnapshot] = []) {
        self.tasks = tasks
        self.queueStats = queueStats
        self.jobs = jobs
    }

    /// States a task never leaves.
    public static let terminalStates: Set<String> = ["succeeded", "dead", "cancelled"]
}
