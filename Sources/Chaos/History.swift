/// What a chaos run records, in the shape of a Jepsen history: one `ClientOp` per client call
/// with its invoke and completion times and an outcome of ok, fail or unknown. Times are
/// nanoseconds on one wall clock shared by the workload and the fault scripts (the same machine).
public struct ClientOp: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Create a task; `key` is its name and Idempotency-Key, `result` the task id.
        case createTask
        /// Write `value` into register `key` (a queue's config field, by PATCH).
        case writeRegister
        /// Read register `key`; `value` is what was read.
        case readRegister
        /// Submit a job; `key` is its Idempotency-Key, `result` the job id.
        case createJob
        /// Poll the cluster; `value` is the leader's node id, nil when no node claimed to lead.
        case status
    }

    /// `unknown` is Jepsen's `info`: a timeout, a dropped connection or a 503/504 with
    /// `outcome: unknown`. The operation may take effect at any time after its invoke, or never.
    public enum Outcome: String, Codable, Sendable {
        case ok, fail, unknown
    }

    public var process: Int
    public var kind: Kind
    public var key: String?
    public var value: Int64?
    public var result: String?
    public var outcome: Outcome
    public var invokeNs: Int64
    /// When the client saw the answer (or gave up, for `unknown`).
    public var completeNs: Int64
    public var node: String?
    public var error: String?

    public init(process: Int, kind: Kind, key: String? = nil, value: Int64? = nil, result: String? = nil,
                outcome: Outcome, invokeNs: Int64, completeNs: Int64, node: String? = nil, error: String? = nil) {
        self.process = process
        self.kind = kind
        self.key = key
        self.value = value
        self.result = result
        self.outcome = outcome
        self.invokeNs = invokeNs
        self.completeNs = completeNs
        self.node = node
        self.error = error
    }
}

/// One request the sink received from an executor.
public struct Delivery: Codable, Sendable, Equatable {
    /// Unique per sink; the sink answers it in its body, so the store's accepted result names it.
    public var id: Int64
    public var taskID: String
    /// `X-Trireme-Attempt`: the task's attempt number, our fencing token as the sink sees it.
    public var attempt: Int
    public var node: String?
    public var timeNs: Int64

    public init(id: Int64, taskID: String, attempt: Int, node: String?, timeNs: Int64) {
        self.id = id
        self.taskID = taskID
        self.attempt = attempt
        self.node = node
        self.timeNs = timeNs
    }
}

/// One line of the fault scripts' timeline (`faults.jsonl`): `start`/`end` of a fault on a target.
public struct FaultEvent: Codable, Sendable, Equatable {
    public var timeNs: Int64
    /// `kill`, `pause`, `partition`, `restart-all`, ...
    public var fault: String
    /// `start` or `end`.
    public var phase: String
    public var target: String

    public init(timeNs: Int64, fault: String, phase: String, target: String) {
        self.timeNs = timeNs
        self.fault = fault
        self.phase = phase
        self.target = target
    }
}

/// Everything the workload recorded.
public struct History: Codable, Sendable, Equatable {
    public var operations: [ClientOp]
    public var deliveries: [Delivery]
    /// Each register's value before the first recorded operation.
    public var initialRegisters: [String: Int64]
    public var startNs: Int64
    public var endNs: Int64

    public init(operations: [ClientOp], deliveries: [Delivery] = [], initialRegisters: [String: Int64] = [:],
                startNs: Int64 = 0, endNs: Int64 = 0) {
        self.operations = operations
        self.deliveries = deliveries
        self.initialRegisters = initialRegisters
        self.startNs = startNs
        self.endNs = endNs
    }
}
