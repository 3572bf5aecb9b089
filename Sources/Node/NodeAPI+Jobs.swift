import API
import Foundation
import Hummingbird
import Store

extension NodeAPI {
    /// Templates a job may name; each is planned into its first tasks on the leader (`plannedTasks`).
    static var templates: Set<String> { JobTasks.templates }

    func addJobRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/jobs") { request, context in
            let idempotencyKey = request.headers[.idempotencyKey]
            return try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await HTTPSupport.decode(JobRequest.self, from: request, context: context,
                                                        fields: JobRequest.fields, maxBytes: self.maxRequestBytes)
                guard Self.templates.contains(body.template) else {
                    throw APIError(.invalidArgument, "unknown template \(body.template) (\(Self.templates.sorted().joined(separator: ", ")))",
                                   field: "template")
                }
                let parameters = String(decoding: Self.canonicalJSON(.object(body.parameters ?? [:])), as: UTF8.self)
                let id = Self.jobID(idempotencyKey: idempotencyKey)
                let now = HTTPSupport.nowMs()
                let tasks = try await self.plannedTasks(template: body.template, job: id, parameters: body.parameters ?? [:], nowMs: now)
                return .createJob(JobSpec(id: id, template: body.template, parameters: parameters, tasks: tasks, nowMs: now,
                                          idempotencyKey: idempotencyKey))
            }, fetch: { store, outcome in try Self.createdID(outcome).flatMap { try store.jobProgress($0) } },
               render: { progress, _ in try Self.render(progress, status: .created) })
        }
        router.get("/v1/jobs") { request, _ in
            let token = request.uri.queryParameters["pageToken"].map(String.init)
            let size = try Self.pageSize(request)
            try await self.watch(request, keys: [ApplyObserver.anyJobKey])
            let page = try await self.read(request) { store in try store.listJobs(pageToken: token, pageSize: size) }
            return HTTPSupport.json(JobList(jobs: page.items.map { Self.body($0, progress: nil) }, nextPageToken: page.nextPageToken))
        }
        router.get("/v1/jobs/:job") { request, context in
            let id = try Self.plainName(context, "job")
            try await self.watch(request, keys: ["j:\(id)"])
            return try await self.jobResponse(request, id: id, status: .ok)
        }
        router.post("/v1/jobs/:job") { request, context in
            let (id, verb) = try Self.nameAndVerb(context, "job")
            guard verb == "cancel" else { throw APIError(.notFound, "unknown job verb :\(verb) (cancel)") }
            return try await self.write(request, context: context, build: { _, _ in
                .cancelJob(jobID: id, nowMs: HTTPSupport.nowMs())
            }, fetch: { store, _ in try store.jobProgress(id) }, render: { progress, _ in try Self.render(progress, status: .ok) })
        }
    }

    func jobResponse(_ request: Request, id: String, status: HTTPResponse.Status) async throws -> Response {
        try Self.render(try await read(request) { store in try store.jobProgress(id) }, status: status)
    }

    static func render(_ progress: JobProgress?, status: HTTPResponse.Status) throws -> Response {
        guard let progress else { throw APIError(.notFound, "no such job") }
        return HTTPSupport.json(body(progress.job, progress: progress), status: status)
    }

    static func body(_ job: JobRecord, progress: JobProgress?) -> JobBody {
        var counters = progress?.counters ?? [:]
        if let byState = progress?.tasksByState {
            counters["tasksTotal"] = Int64(byState.values.reduce(0, +))
            counters["tasksDone"] = Int64(byState.filter { $0.key.isTerminal }.values.reduce(0, +))
        }
        return JobBody(
            id: job.id, template: job.template, parameters: jsonValue(Data(job.parameters.utf8)), state: job.state.rawValue,
            counters: counters, createTime: HTTPSupport.rfc3339(job.createTimeMs), startTime: job.startTimeMs.map(HTTPSupport.rfc3339),
            endTime: job.endTimeMs.map(HTTPSupport.rfc3339), error: job.error)
    }
}
