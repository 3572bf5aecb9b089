import API
import Foundation
import Yams

/// The declared setup of a cluster (`trireme apply -f FILE`, `trireme export`): queues, named
/// job presets and schedules, in YAML or JSON. Field names are the API's. A field left out of
/// a declaration is not managed: apply leaves it as it is (a new resource gets the server's
/// default). Names are the identities: renaming is a delete (with `--prune`) plus a create.
public struct Manifest: Codable, Sendable, Equatable {
    /// The manifest format version this build reads and writes.
    public static let formatVersion = 1

    public var version: Int?
    public var queues: [QueueDecl]?
    public var jobPresets: [JobPresetDecl]?
    public var schedules: [ScheduleDecl]?

    public init(version: Int? = Manifest.formatVersion, queues: [QueueDecl]? = nil, jobPresets: [JobPresetDecl]? = nil,
                schedules: [ScheduleDecl]? = nil) {
        self.version = version
        self.queues = queues
        self.jobPresets = jobPresets
        self.schedules = schedules
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, ["version", "queues", "jobPresets", "schedules"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decodeIfPresent(Int.self, forKey: .version)
        queues = try c.decodeIfPresent([QueueDecl].self, forKey: .queues)
        jobPresets = try c.decodeIfPresent([JobPresetDecl].self, forKey: .jobPresets)
        schedules = try c.decodeIfPresent([ScheduleDecl].self, forKey: .schedules)
    }

    /// Parses YAML, or JSON (a document starting with `{`). Errors name the line or the path.
    public static func parse(_ text: String) throws(ManifestError) -> Manifest {
        do {
            if text.drop(while: \.isWhitespace).first == "{" {
                return try JSONDecoder().decode(Manifest.self, from: Data(text.utf8))
            }
            return try YAMLDecoder().decode(Manifest.self, from: text)
        } catch let error as DecodingError {
            throw ManifestError(path: Self.path(error), message: Self.describe(error))
        } catch {
            throw ManifestError(path: "", message: "cannot parse: \(error)")
        }
    }

    /// YAML with sorted keys: the same setup always prints the same bytes.
    public func yaml() throws -> String {
        // Through JSON, whose encoder writes 2.0 as 2 (YAMLEncoder would write 2e+0).
        let json = try JSONEncoder().encode(self)
        guard let tree = try Yams.load(yaml: String(decoding: json, as: UTF8.self)) else { return "" }
        return try Yams.dump(object: tree, allowUnicode: true, sortKeys: true)
    }

    static func path(_ error: DecodingError) -> String {
        let context: DecodingError.Context? = switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): c
        @unknown default: nil
        }
        var path = (context?.codingPath ?? []).map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        if case .keyNotFound(let key, _) = error { path += ".\(key.stringValue)" }
        return path.hasPrefix(".") ? String(path.dropFirst()) : path
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "missing required field"
        case .typeMismatch(let type, _): "expected \(type)"
        case .valueNotFound(let type, _): "expected \(type), found null"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "\(error)"
        }
    }
}

public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where: `queues[1].rateLimits.maxBurstSize`, or empty for the whole file.
    public var path: String
    public var message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

public struct QueueDecl: Codable, Sendable, Equatable {
    public var name: String
    /// `running` or `paused`.
    public var state: String?
    public var rateLimits: RateLimitsBody?
    public var retryConfig: RetryConfigBody?
    public var tombstoneWindowMs: Int64?

    public init(name: String, state: String? = nil, rateLimits: RateLimitsBody? = nil, retryConfig: RetryConfigBody? = nil,
                tombstoneWindowMs: Int64? = nil) {
        self.name = name
        self.state = state
        self.rateLimits = rateLimits
        self.retryConfig = retryConfig
        self.tombstoneWindowMs = tombstoneWindowMs
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, ["name", "state", "rateLimits", "retryConfig", "tombstoneWindowMs"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        state = try c.decodeIfPresent(String.self, forKey: .state)
        if c.contains(.rateLimits) {
            try StrictKeys.check(try c.superDecoder(forKey: .rateLimits), ["maxDispatchesPerSecond", "maxBurstSize", "maxConcurrentDispatches"])
        }
        rateLimits = try c.decodeIfPresent(RateLimitsBody.self, forKey: .rateLimits)
        if c.contains(.retryConfig) {
            try StrictKeys.check(try c.superDecoder(forKey: .retryConfig),
                                 ["maxAttempts", "minBackoffMs", "maxBackoffMs", "maxDoublings", "maxRetryDurationMs"])
        }
        retryConfig = try c.decodeIfPresent(RetryConfigBody.self, forKey: .retryConfig)
        tombstoneWindowMs = try c.decodeIfPresent(Int64.self, forKey: .tombstoneWindowMs)
    }
}

/// A named job preset (`/v1/jobPresets/{name}`); `job` tasks and schedules use it with
/// `payload: {preset: NAME}`. Its parameters are managed as a whole (a PUT replaces them).
public struct JobPresetDecl: Codable, Sendable, Equatable {
    public var name: String
    public var template: String
    public var parameters: [String: JSONValue]?

    public init(name: String, template: String, parameters: [String: JSONValue]? = nil) {
        self.name = name
        self.template = template
        self.parameters = parameters
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, ["name", "template", "parameters"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        template = try c.decode(String.self, forKey: .template)
        parameters = try c.decodeIfPresent([String: JSONValue].self, forKey: .parameters)
    }
}

/// A cron schedule; its task template is managed as a whole (kind and payload).
public struct ScheduleDecl: Codable, Sendable, Equatable {
    public var name: String
    public var cron: String
    public var timeZone: String?
    public var queue: String
    public var task: TaskTemplateBody
    public var paused: Bool?

    public init(name: String, cron: String, timeZone: String? = nil, queue: String, task: TaskTemplateBody, paused: Bool? = nil) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.queue = queue
        self.task = task
        self.paused = paused
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, ["name", "cron", "timeZone", "queue", "task", "paused"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        cron = try c.decode(String.self, forKey: .cron)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        queue = try c.decode(String.self, forKey: .queue)
        task = try c.decode(TaskTemplateBody.self, forKey: .task)
        paused = try c.decodeIfPresent(Bool.self, forKey: .paused)
    }
}

/// Refuses unknown keys, so a typo in a file never passes silently as "not managed".
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check(_ decoder: any Decoder, _ known: Set<String>) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = keys.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyKey(stringValue: unknown)],
                                                    debugDescription: "unknown field (known: \(known.sorted().joined(separator: ", ")))"))
        }
    }
}
