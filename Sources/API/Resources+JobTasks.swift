import Foundation

// `job` tasks (a task that launches a job) and named job presets (`/v1/jobPresets`).

/// The payload of a task (or schedule template) of kind `job`: a template with parameters, or
/// a preset by name whose parameters `parameters` extend or override. String parameters may
/// use fire-time placeholders (`FireTimePlaceholders`).
public struct JobTaskSpec: Codable, Sendable, Equatable {
    /// `wordcount`, `csv-clean` or `jsonl-transform`; exactly one of template and preset.
    public var template: String?
    /// The name of a job preset (`/v1/jobPresets/{name}`), read when the task runs.
    public var preset: String?
    public var parameters: [String: JSONValue]?
    /// IANA zone the placeholders are read in; default the schedule's zone, else UTC.
    public var timeZone: String?
    public static let fields: Set<String> = ["template", "preset", "parameters", "timeZone"]

    public init(template: String? = nil, preset: String? = nil, parameters: [String: JSONValue]? = nil, timeZone: String? = nil) {
        self.template = template
        self.preset = preset
        self.parameters = parameters
        self.timeZone = timeZone
    }

    /// Decodes and checks a payload: a JSON object with only known fields, exactly one of
    /// template and preset, known placeholders. `field` names what is wrong.
    public static func parse(_ value: JSONValue?) throws(JobTaskSpecError) -> JobTaskSpec {
        guard case .object(let object)? = value else {
            throw JobTaskSpecError(field: "payload", message: "a job task's payload is an object {template|preset, parameters}")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw JobTaskSpecError(field: "payload.\(unknown)", message: "unknown field (\(fields.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(JobTaskSpecError) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw JobTaskSpecError(field: "payload.\(key)", message: "must be a string")
            }
        }
        var spec = JobTaskSpec(template: try string("template"), preset: try string("preset"), timeZone: try string("timeZone"))
        switch object["parameters"] {
        case nil, .null?: break
        case .object(let parameters)?: spec.parameters = parameters
        default: throw JobTaskSpecError(field: "payload.parameters", message: "must be an object")
        }
        guard (spec.template == nil) != (spec.preset == nil) else {
            throw JobTaskSpecError(field: "payload.template", message: "give exactly one of template and preset")
        }
        if let zone = spec.timeZone, TimeZone(identifier: zone) == nil {
            throw JobTaskSpecError(field: "payload.timeZone", message: "unknown time zone \(zone)")
        }
        for (key, parameter) in (spec.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let bad = FireTimePlaceholders.unknownPlaceholder(in: parameter) {
                throw JobTaskSpecError(field: "payload.parameters.\(key)",
                                       message: "unknown placeholder {{\(bad)}} (\(FireTimePlaceholders.names.joined(separator: ", ")))")
            }
        }
        return spec
    }
}

public struct JobTaskSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// `PUT /v1/jobPresets/{name}`.
public struct JobPresetRequest: Codable, Sendable, Equatable {
    public var template: String
    public var parameters: [String: JSONValue]?
    public static let fields: Set<String> = ["name", "template", "parameters"]

    public init(template: String, parameters: [String: JSONValue]? = nil) {
        self.template = template
        self.parameters = parameters
    }
}

public struct JobPresetBody: Codable, Sendable, Equatable {
    public var name: String
    public var template: String
    public var parameters: [String: JSONValue]
    public var updateTime: String

    public init(name: String, template: String, parameters: [String: JSONValue], updateTime: String) {
        self.name = name
        self.template = template
        self.parameters = parameters
        self.updateTime = updateTime
    }
}

public struct JobPresetList: Codable, Sendable, Equatable {
    public var jobPresets: [JobPresetBody]

    public init(jobPresets: [JobPresetBody]) {
        self.jobPresets = jobPresets
    }
}
