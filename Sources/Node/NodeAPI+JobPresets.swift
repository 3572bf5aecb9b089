import API
import Foundation
import Hummingbird
import Store

/// `/v1/jobPresets`: named job presets (a template and its parameters) that `job` tasks and
/// schedules name with `{"preset": NAME}`; read when such a task launches its job. They live in
/// the replicated store (`job_presets`, schema version 3), so they survive any node and are
/// part of `trireme export`. PUT creates or replaces the whole preset.
extension NodeAPI {
    func addJobPresetRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/jobPresets") { request, _ in
            let presets = try await self.read(request) { store in try store.jobPresets() }
            return HTTPSupport.json(JobPresetList(jobPresets: presets.map(Self.body)))
        }
        router.get("/v1/jobPresets/:preset") { request, context in
            let name = try Self.plainName(context, "preset")
            guard let preset = try await self.read(request, { store in try store.jobPreset(name) }) else {
                throw APIError(.notFound, "no such job preset")
            }
            return HTTPSupport.json(Self.body(preset))
        }
        router.put("/v1/jobPresets/:preset") { request, context in
            let name = try Self.plainName(context, "preset")
            return try await self.write(request, context: context, build: { request, context throws(APIError) in
                let body = try await HTTPSupport.decode(JobPresetRequest.self, from: request, context: context,
                                                        fields: JobPresetRequest.fields, maxBytes: self.maxRequestBytes)
                guard Self.templates.contains(body.template) else {
                    throw APIError(.invalidArgument, "unknown template \(body.template) (\(Self.templates.sorted().joined(separator: ", ")))",
                                   field: "template")
                }
                let parameters = body.parameters ?? [:]
                for (key, value) in parameters.sorted(by: { $0.key < $1.key }) {
                    if let bad = FireTimePlaceholders.unknownPlaceholder(in: value) {
                        throw APIError(.invalidArgument, "unknown placeholder {{\(bad)}} in parameters.\(key)", field: "parameters.\(key)")
                    }
                }
                let text = String(decoding: Self.canonicalJSON(.object(parameters)), as: UTF8.self)
                let command = Command.putJobPreset(JobPresetSpec(name: name, template: body.template, parameters: text,
                                                                 nowMs: HTTPSupport.nowMs()))
                do throws(CommandError) {
                    try command.validate(limits: self.limits)
                } catch {
                    throw Self.apiError(error)
                }
                return command
            }, fetch: { store, _ in try store.jobPreset(name) }, render: { preset, _ in
                guard let preset else { throw APIError(.notFound, "no such job preset") }
                return HTTPSupport.json(Self.body(preset))
            })
        }
        router.delete("/v1/jobPresets/:preset") { request, context in
            let name = try Self.plainName(context, "preset")
            return try await self.write(request, context: context, build: { _, _ in .deleteJobPreset(name: name) })
        }
    }

    static func body(_ preset: JobPresetRecord) -> JobPresetBody {
        let parameters = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(preset.parameters.utf8))) ?? [:]
        return JobPresetBody(name: preset.name, template: preset.template, parameters: parameters,
                             updateTime: HTTPSupport.rfc3339(preset.updateTimeMs))
    }

    /// A `job` task's payload (or a schedule's template) must parse: checked when it is created,
    /// so a typo is a 400 and not a dead task at 02:00.
    static func checkJobTaskPayload(kind: String, payload: JSONValue?, fieldPrefix: String = "") throws(APIError) {
        guard kind == "job" else { return }
        do throws(JobTaskSpecError) {
            let spec = try JobTaskSpec.parse(payload)
            if let template = spec.template, !templates.contains(template) {
                throw JobTaskSpecError(field: "payload.template", message: "unknown template \(template) (\(templates.sorted().joined(separator: ", ")))")
            }
        } catch {
            throw APIError(.invalidArgument, "\(fieldPrefix)\(error.field): \(error.message)", field: fieldPrefix + error.field)
        }
    }
}
