import API
import Foundation
import Hummingbird
import Store

/// `/v1/schedules`: cron schedules whose fires the leader's scheduler turns into tasks.
/// Pause, resume and PATCH are read-modify-write on the leader (`updateSchedule` carries the
/// whole schedule), like a queue PATCH: of two concurrent changes, the later one wins whole.
extension NodeAPI {
    func addScheduleRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/schedules") { request, context in
            try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await self.decodeSchedule(request, context)
                func required<T>(_ value: T?, _ field: String) throws(APIError) -> T {
                    guard let value else { throw APIError(.invalidArgument, "missing required field \"\(field)\"", field: field) }
                    return value
                }
                let task = try required(body.task, "task")
                let spec = ScheduleSpec(
                    id: try required(body.name, "name"), cron: try required(body.cron, "cron"), timeZone: body.timeZone ?? "UTC",
                    queue: try required(body.queue, "queue"), kind: task.kind, payload: Self.canonicalJSON(task.payload),
                    paused: body.paused ?? false, nowMs: HTTPSupport.nowMs())
                return try self.checked(.createSchedule(spec))
            }, fetch: { store, outcome in try Self.createdID(outcome).flatMap { try store.schedule($0) } },
               render: { record, _ in try Self.render(record, status: .created) })
        }
        router.get("/v1/schedules") { request, _ in
            let token = request.uri.queryParameters["pageToken"].map(String.init)
            let size = try Self.pageSize(request)
            let page = try await self.read(request) { store in try store.listSchedules(pageToken: token, pageSize: size) }
            let now = HTTPSupport.nowMs()
            return HTTPSupport.json(ScheduleList(schedules: page.items.map { Self.body($0, nowMs: now) }, nextPageToken: page.nextPageToken))
        }
        router.get("/v1/schedules/:schedule") { request, context in
            let id = try Self.plainName(context, "schedule")
            return try Self.render(try await self.read(request) { store in try store.schedule(id) }, status: .ok)
        }
        router.patch("/v1/schedules/:schedule") { request, context in
            let id = try Self.plainName(context, "schedule")
            return try await self.updateSchedule(request, context: context, id: id) { request, context, current throws(APIError) in
                let body = try await self.decodeSchedule(request, context)
                guard body.name == nil || body.name == id else {
                    throw APIError(.invalidArgument, "name cannot change (it is the schedule's id)", field: "name")
                }
                var spec = current
                if let cron = body.cron { spec.cron = cron }
                if let zone = body.timeZone { spec.timeZone = zone }
                if let queue = body.queue { spec.queue = queue }
                if let task = body.task {
                    spec.kind = task.kind
                    spec.payload = Self.canonicalJSON(task.payload)
                }
                if let paused = body.paused { spec.paused = paused }
                return spec
            }
        }
        router.delete("/v1/schedules/:schedule") { request, context in
            let id = try Self.plainName(context, "schedule")
            return try await self.write(request, context: context, build: { _, _ in .deleteSchedule(scheduleID: id) })
        }
        router.post("/v1/schedules/:schedule") { request, context in
            let (id, verb) = try Self.nameAndVerb(context, "schedule")
            let paused: Bool
            switch verb {
            case "pause": paused = true
            case "resume": paused = false
            default: throw APIError(.notFound, "unknown schedule verb :\(verb) (pause, resume)")
            }
            return try await self.updateSchedule(request, context: context, id: id) { _, _, current throws(APIError) in
                var spec = current
                spec.paused = paused
                return spec
            }
        }
    }

    private func decodeSchedule(_ request: Request, _ context: BasicRequestContext) async throws(APIError) -> ScheduleRequest {
        try await HTTPSupport.decode(ScheduleRequest.self, from: request, context: context,
                                     fields: ScheduleRequest.fields, maxBytes: maxRequestBytes)
    }

    /// Reads the schedule (linearizably) on the leader, lets `change` edit its spec, and
    /// proposes the whole spec as `updateSchedule`.
    private func updateSchedule(
        _ request: Request, context: BasicRequestContext, id: String,
        change: @escaping @Sendable (Request, BasicRequestContext, ScheduleSpec) async throws(APIError) -> ScheduleSpec
    ) async throws -> Response {
        try await write(request, context: context, build: { request, context throws(APIError) in
            let current: ScheduleRecord?
            do {
                current = try await self.read(request) { store in try store.schedule(id) }
            } catch let error as APIError { throw error } catch { throw APIError(.unavailable, "\(error)") }
            guard let current else { throw APIError(.notFound, "no such schedule") }
            let spec = ScheduleSpec(id: current.id, cron: current.cron, timeZone: current.timeZone, queue: current.queue,
                                    kind: current.kind, payload: current.payload, paused: current.paused, nowMs: HTTPSupport.nowMs())
            return try self.checked(.updateSchedule(try await change(request, context, spec)))
        }, fetch: { store, _ in try store.schedule(id) }, render: { record, _ in try Self.render(record, status: .ok) })
    }

    /// Static validation with the API's field names (`name`, `task.kind` …), and time zones
    /// limited to the IANA names this node knows.
    private func checked(_ command: Command) throws(APIError) -> Command {
        switch command {
        case .createSchedule(let spec), .updateSchedule(let spec):
            guard Self.isIANAZone(spec.timeZone) else {
                throw APIError(.invalidArgument, "unknown time zone \(spec.timeZone) (an IANA name like Europe/Berlin)", field: "timeZone")
            }
            try Self.checkJobTaskPayload(kind: spec.kind, payload: Self.jsonValue(spec.payload), fieldPrefix: "task.")
        default: break
        }
        do {
            try command.validate(limits: limits)
        } catch {
            var apiError = Self.apiError(error)
            let renamed = ["scheduleID": "name", "kind": "task.kind", "payload": "task.payload"]
            if let field = apiError.field, let better = renamed[field] {
                apiError.field = better
                apiError.message = apiError.message.replacingOccurrences(of: field, with: better)
            }
            throw apiError
        }
        return command
    }

    static func isIANAZone(_ name: String) -> Bool {
        name == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(name)
    }

    static func render(_ record: ScheduleRecord?, status: HTTPResponse.Status) throws -> Response {
        guard let record else { throw APIError(.notFound, "no such schedule") }
        return HTTPSupport.json(body(record, nowMs: HTTPSupport.nowMs()), status: status)
    }

    static func body(_ record: ScheduleRecord, nowMs: Milliseconds) -> ScheduleBody {
        var next: Milliseconds?
        if !record.paused, let cron = try? CronExpression(parsing: record.cron), let zone = TimeZone(identifier: record.timeZone) {
            next = cron.nextFire(after: max(record.lastFireMs ?? record.createTimeMs, nowMs), in: zone)
        }
        return ScheduleBody(
            name: record.id, cron: record.cron, timeZone: record.timeZone, queue: record.queue,
            task: TaskTemplateBody(kind: record.kind, payload: jsonValue(record.payload)),
            state: record.paused ? "PAUSED" : "ENABLED", createTime: HTTPSupport.rfc3339(record.createTimeMs),
            lastFireTime: record.lastFireMs.map(HTTPSupport.rfc3339), nextFireTime: next.map(HTTPSupport.rfc3339))
    }
}
