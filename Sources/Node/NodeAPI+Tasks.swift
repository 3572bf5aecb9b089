import API
import Foundation
import Hummingbird
import Store

extension NodeAPI {
    func addTaskRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/queues/:queue/tasks") { request, context in
            let queue = try Self.plainName(context)
            let idempotencyKey = request.headers[.idempotencyKey]
            return try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await HTTPSupport.decode(TaskRequest.self, from: request, context: context,
                                                        fields: TaskRequest.fields, maxBytes: self.maxRequestBytes)
                return try self.createTaskCommand(body, queue: queue, idempotencyKey: idempotencyKey)
            }, fetchCommand: Self.createdTask, render: { task, _ in try Self.render(task, queue: queue, status: .created) })
        }
        router.get("/v1/queues/:queue/tasks") { request, context in
            let queue = try Self.plainName(context)
            let token = request.uri.queryParameters["pageToken"].map(String.init)
            let size = try Self.pageSize(request)
            var state: TaskState?
            if let text = request.uri.queryParameters["state"] {
                guard let parsed = TaskState(rawValue: String(text)) else {
                    throw APIError(.invalidArgument, "state must be one of \(TaskState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
                }
                state = parsed
            }
            let filter = state
            try await self.watch(request, keys: ["q:\(queue)"])
            let (exists, page) = try await self.read(request) { store in
                (try store.queue(queue) != nil, try store.listTasks(queue: queue, state: filter, pageToken: token, pageSize: size))
            }
            guard exists else { throw APIError(.notFound, "no such queue") }
            return HTTPSupport.json(TaskList(tasks: page.items.map(Self.body), nextPageToken: page.nextPageToken))
        }
        router.get("/v1/queues/:queue/tasks/:task") { request, context in
            let queue = try Self.plainName(context)
            let id = try Self.plainName(context, "task")
            try await self.watch(request, keys: Self.taskWatchKeys(queue: queue, id: id))
            return try await self.taskResponse(request, queue: queue, id: id, status: .ok)
        }
        router.get("/v1/queues/:queue/tasks/:task/attempts") { request, context in
            let queue = try Self.plainName(context)
            let id = try Self.plainName(context, "task")
            try await self.watch(request, keys: Self.taskWatchKeys(queue: queue, id: id))
            let (task, attempts) = try await self.read(request) { store in (try store.task(id), try store.attempts(taskID: id)) }
            guard let task, task.queue == queue else { throw APIError(.notFound, "no such task in queue \(queue)") }
            return HTTPSupport.json(AttemptList(attempts: attempts.map(Self.body)))
        }
        router.delete("/v1/queues/:queue/tasks/:task") { request, context in
            let queue = try Self.plainName(context)
            let id = try Self.plainName(context, "task")
            try await self.checkTaskInQueue(request, queue: queue, id: id)
            return try await self.write(request, context: context, build: { _, _ in
                .deleteTask(taskID: id, nowMs: HTTPSupport.nowMs())
            })
        }
        router.post("/v1/queues/:queue/tasks/:task") { request, context in
            let queue = try Self.plainName(context)
            let (id, verb) = try Self.nameAndVerb(context, "task")
            let now = HTTPSupport.nowMs()
            let command: Command
            switch verb {
            case "run": command = .runTask(taskID: id, nowMs: now)
            case "cancel": command = .cancelTask(taskID: id, nowMs: now)
            case "redrive": command = .redriveDeadTask(taskID: id, nowMs: now)
            default: throw APIError(.notFound, "unknown task verb :\(verb) (run, cancel, redrive)")
            }
            try await self.checkTaskInQueue(request, queue: queue, id: id)
            return try await self.write(request, context: context, build: { _, _ in command },
                                        fetch: { store, _ in try store.task(id) },
                                        render: { task, _ in try Self.render(task, queue: queue, status: .ok) })
        }
    }

    private func checkTaskInQueue(_ request: Request, queue: String, id: String) async throws {
        let task = try await read(request) { store in try store.task(id) }
        guard let task, task.queue == queue else { throw APIError(.notFound, "no such task in queue \(queue)") }
    }

    /// The command of `POST /v1/queues/{queue}/tasks` (the route and `CreateFastPath`): the
    /// body checked, the id and times stamped.
    func createTaskCommand(_ body: TaskRequest, queue: String, idempotencyKey: String?) throws(APIError) -> Command {
        try createTask(body, queue: queue, idempotencyKey: idempotencyKey).command
    }

    /// `createTaskCommand`, and the payload bytes when `JSONOutput`'s writer wrote them (an
    /// answer may then copy them verbatim: `taskAnswer(_:queue:verbatimPayload:)`).
    func createTask(_ body: TaskRequest, queue: String, idempotencyKey: String?) throws(APIError) -> (command: Command, verbatimPayload: Data?) {
        if body.kind == "http" { try Self.checkHTTPTarget(body.payload, allowList: core.config.allowList, accepted: core.acceptedTargets) }
        let now = HTTPSupport.nowMs()
        // No scheduleTime means "due at once": 0, not now, so that a retried create with
        // the same Idempotency-Key is the same request (the store fingerprints it).
        let scheduleTime = try body.scheduleTime.map { text throws(APIError) in try HTTPSupport.parseTime(text, field: "scheduleTime") } ?? 0
        let deadline = body.dispatchDeadlineMs ?? 600_000
        guard (1...86_400_000).contains(deadline) else {
            throw APIError(.invalidArgument, "dispatchDeadlineMs must be 1 ms to 24 h", field: "dispatchDeadlineMs")
        }
        try Self.checkJobTaskPayload(kind: body.kind, payload: body.payload)
        let payload = Self.canonicalPayload(body.payload)
        let command = Command.createTask(TaskSpec(
            id: TimeOrderedID.make(nowMs: now), queue: queue, name: body.name, kind: body.kind,
            payload: payload.data, scheduleTimeMs: scheduleTime, dispatchDeadlineMs: deadline,
            nowMs: now, idempotencyKey: idempotencyKey))
        return (command, payload.written ? payload.data : nil)
    }

    /// A create's `fetch`, on the driver thread right after apply. A new task is exactly its
    /// spec (no read on the driver thread); an idempotent replay answers the first task as it
    /// stands now.
    @Sendable static func createdTask(_ store: StateStore, _ outcome: ApplyOutcome, _ command: Command) throws -> TaskRecord? {
        guard let id = createdID(outcome) else { return nil }
        if case .createTask(let spec) = command, spec.id == id { return StateStore.createdRecord(spec) }
        return try store.task(id)
    }

    /// The body answering with `task` (a create, a get), or 404 when it is gone or in another queue.
    /// With `verbatimPayload` (bytes `JSONOutput`'s writer wrote, see `canonicalPayload`), a task
    /// whose payload is those very bytes has them copied instead of read and written again: the
    /// same bytes, without the parse (a twentieth of the leader's HTTP threads per create).
    static func taskAnswer(_ task: TaskRecord?, queue: String, verbatimPayload: Data? = nil) throws(APIError) -> [UInt8] {
        guard let task, task.queue == queue else { throw APIError(.notFound, "no such task in queue \(queue)") }
        return taskJSON(task, verbatimPayload: verbatimPayload) ?? HTTPSupport.jsonBytes(body(task))
    }

    func taskResponse(_ request: Request, queue: String, id: String, status: HTTPResponse.Status) async throws -> Response {
        try Self.render(try await read(request) { store in try store.task(id) }, queue: queue, status: status)
    }

    static func render(_ task: TaskRecord?, queue: String, status: HTTPResponse.Status) throws -> Response {
        HTTPSupport.json(bytes: try taskAnswer(task, queue: queue), status: status)
    }

    /// The bytes `HTTPSupport.json(body(task))` writes, without `Codable`: every create and get
    /// answers with a task, and encoding `TaskBody` (with its payload parsed and re-encoded) was
    /// a fifth of the request path. Nil when a stored payload or result is outside what
    /// `JSONReader`/`JSONOutput` reproduce exactly; the caller then takes the `Codable` path.
    /// `FastJSONPathTests` compare the two byte for byte.
    static func taskJSON(_ task: TaskRecord, verbatimPayload: Data? = nil) -> [UInt8]? {
        var out = JSONOutput(capacity: 480 + task.payload.count + (task.result?.count ?? 0))
        // Keys in sorted order, as `JSONEncoder` with `.sortedKeys` writes them.
        out.beginObject()
        out.field("attempts", task.attempts)
        out.field("createTime", HTTPSupport.rfc3339(task.createTimeMs))
        out.field("dispatchDeadlineMs", task.dispatchDeadlineMs)
        out.field("executor", task.leaseExecutor)
        out.field("fence", task.fence)
        out.field("firstAttemptTime", task.firstAttemptMs.map(HTTPSupport.rfc3339))
        out.field("id", task.id)
        out.field("jobId", task.jobID)
        out.field("kind", task.kind)
        out.field("lastAttemptTime", task.lastAttemptMs.map(HTTPSupport.rfc3339))
        out.field("lastError", task.lastError)
        out.field("lastOutcome", task.lastOutcome)
        out.field("leaseExpireTime", task.leaseUntilMs.map(HTTPSupport.rfc3339))
        out.field("name", task.name)
        if let verbatimPayload, verbatimPayload == task.payload {
            if !verbatimPayload.isEmpty { out.field("payload", rawJSON: verbatimPayload) }
        } else {
            guard storedJSON("payload", task.payload, into: &out) else { return nil }
        }
        out.field("queue", task.queue)
        if let result = task.result { guard storedJSON("result", result, into: &out) else { return nil } }
        out.field("scheduleTime", HTTPSupport.rfc3339(max(task.scheduleTimeMs, task.createTimeMs)))
        out.field("state", task.state.rawValue)
        out.endObject()
        return out.bytes
    }

    /// Stored JSON (a payload or a result) re-encoded canonically, as `jsonValue` + `JSONEncoder`
    /// would; empty means absent. False when the fast reader or writer declines the bytes.
    private static func storedJSON(_ name: String, _ data: Data, into out: inout JSONOutput) -> Bool {
        guard !data.isEmpty else { return true }
        guard let value = data.withUnsafeBytes({ JSONReader.parse($0, maxDepth: storedJSONDepth) }) else { return false }
        return out.field(name, value)
    }

    /// Deep enough for anything a request could store (requests are capped far lower).
    static let storedJSONDepth = 256

    static func body(_ task: TaskRecord) -> TaskBody {
        TaskBody(
            id: task.id, queue: task.queue, name: task.name, jobId: task.jobID, kind: task.kind,
            payload: jsonValue(task.payload), state: task.state.rawValue,
            scheduleTime: HTTPSupport.rfc3339(max(task.scheduleTimeMs, task.createTimeMs)), dispatchDeadlineMs: task.dispatchDeadlineMs,
            createTime: HTTPSupport.rfc3339(task.createTimeMs), attempts: task.attempts,
            firstAttemptTime: task.firstAttemptMs.map(HTTPSupport.rfc3339), lastAttemptTime: task.lastAttemptMs.map(HTTPSupport.rfc3339),
            lastOutcome: task.lastOutcome, executor: task.leaseExecutor, leaseExpireTime: task.leaseUntilMs.map(HTTPSupport.rfc3339),
            fence: task.fence, result: task.result.flatMap(jsonValue), lastError: task.lastError)
    }

    static func body(_ attempt: AttemptRecord) -> AttemptBody {
        AttemptBody(
            attempt: attempt.attempt, executor: attempt.executorID, node: attempt.node, fence: attempt.fence,
            dispatchTime: HTTPSupport.rfc3339(attempt.dispatchTimeMs), startTime: attempt.startTimeMs.map(HTTPSupport.rfc3339),
            endTime: attempt.endTimeMs.map(HTTPSupport.rfc3339), durationMs: attempt.endTimeMs.map { $0 - attempt.dispatchTimeMs },
            outcome: attempt.outcome?.rawValue, error: attempt.error)
    }

    /// Payloads are stored as canonical JSON bytes (sorted keys), so an idempotent retry of the
    /// same request compares equal byte for byte.
    static func canonicalJSON(_ value: JSONValue?) -> Data { canonicalPayload(value).data }

    /// `canonicalJSON`'s bytes, and whether `JSONOutput`'s writer wrote them (no value, or one
    /// without fractions or huge numbers). Such bytes are a fixed point: reading and writing them
    /// again, as `taskJSON` does with a stored payload, gives them back unchanged.
    static func canonicalPayload(_ value: JSONValue?) -> (data: Data, written: Bool) {
        guard let value else { return (Data(), true) }
        // The byte writer first: the same bytes as the encoder below, for every value it takes.
        var bytes: [UInt8] = []
        if JSONOutput.appendCanonical(value, to: &bytes) { return (Data(bytes), true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)) ?? Data(), false)
    }

    static func jsonValue(_ data: Data) -> JSONValue? {
        guard !data.isEmpty else { return nil }
        if let value = try? JSONDecoder().decode(JSONValue.self, from: data) { return value }
        return .string(String(decoding: data, as: UTF8.self))
    }
}
