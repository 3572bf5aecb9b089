// Schedules (`/v1/schedules`) and task attempts (`…/tasks/{task}/attempts`).

/// What each fire of a schedule creates in its queue.
public struct TaskTemplateBody: Codable, Sendable, Equatable {
    /// `http`, `preprocess`, or a test kind when enabled.
    public var kind: String
    /// Kind-specific JSON, as in `TaskRequest.payload`.
    public var payload: JSONValue?
    public static let fields: Set<String> = ["kind", "payload"]

    public init(kind: String, payload: JSONValue? = nil) {
        self.kind = kind
        self.payload = payload
    }

    /// Strict: an unknown field inside the template is refused like one at the top level.
    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = keys.allKeys.map(\.stringValue).sorted().first(where: { !Self.fields.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyKey(stringValue: unknown)],
                                                    debugDescription: "unknown field"))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        payload = try container.decodeIfPresent(JSONValue.self, forKey: .payload)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// `POST /v1/schedules` (name, cron, queue and task required) and `PATCH /v1/schedules/{name}`
/// (every field optional; name must be absent or equal).
public struct ScheduleRequest: Codable, Sendable, Equatable {
    public var name: String?
    /// 5-field cron: minute hour day-of-month month day-of-week, or a macro like `@daily`.
    public var cron: String?
    /// IANA time zone the cron fields are read in; default UTC.
    public var timeZone: String?
    public var queue: String?
    public var task: TaskTemplateBody?
    public var paused: Bool?
    public static let fields: Set<String> = ["name", "cron", "timeZone", "queue", "task", "paused"]

    public init(name: String? = nil, cron: String? = nil, timeZone: String? = nil, queue: String? = nil,
                task: TaskTemplateBody? = nil, paused: Bool? = nil) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.queue = queue
        self.task = task
        self.paused = paused
    }
}

public struct ScheduleBody: Codable, Sendable, Equatable {
    public var name: String
    public var cron: String
    public var timeZone: String
    public var queue: String
    public var task: TaskTemplateBody
    /// `ENABLED` or `PAUSED`.
    public var state: String
    public var createTime: String
    /// The slot of the last fire (its task's schedule time), if it fired.
    public var lastFireTime: String?
    /// The next slot after now; absent when paused or when the expression never matches.
    public var nextFireTime: String?

    public init(name: String, cron: String, timeZone: String, queue: String, task: TaskTemplateBody, state: String,
                createTime: String, lastFireTime: String?, nextFireTime: String?) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.queue = queue
        self.task = task
        self.state = state
        self.createTime = createTime
        self.lastFireTime = lastFireTime
        self.nextFireTime = nextFireTime
    }
}

public struct ScheduleList: Codable, Sendable, Equatable {
    public var schedules: [ScheduleBody]
    public var nextPageToken: String?
    public init(schedules: [ScheduleBody], nextPageToken: String?) {
        self.schedules = schedules
        self.nextPageToken = nextPageToken
    }
}

/// One attempt (one assignment to an executor) of a task.
public struct AttemptBody: Codable, Sendable, Equatable {
    /// 1, 2, …; keeps counting across a redrive.
    public var attempt: Int
    public var executor: String
    public var node: String?
    /// The lease's fencing token (log index of the assignment).
    public var fence: UInt64
    public var dispatchTime: String
    public var startTime: String?
    public var endTime: String?
    /// End minus dispatch, once ended.
    public var durationMs: Int64?
    /// `succeeded`, `failed`, `lease_expired`, `deadline_exceeded`, `cancelled`; absent while in flight.
    public var outcome: String?
    public var error: String?

    public init(attempt: Int, executor: String, node: String?, fence: UInt64, dispatchTime: String, startTime: String?,
                endTime: String?, durationMs: Int64?, outcome: String?, error: String?) {
        self.attempt = attempt
        self.executor = executor
        self.node = node
        self.fence = fence
        self.dispatchTime = dispatchTime
        self.startTime = startTime
        self.endTime = endTime
        self.durationMs = durationMs
        self.outcome = outcome
        self.error = error
    }
}

/// `GET /v1/queues/{queue}/tasks/{task}/attempts`: oldest first, the newest 100 at most.
public struct AttemptList: Codable, Sendable, Equatable {
    public var attempts: [AttemptBody]
    public init(attempts: [AttemptBody]) { self.attempts = attempts }
}
