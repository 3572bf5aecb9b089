import API
import Foundation

/// What `trireme apply` will do: per resource, create / update / delete / unchanged, field by
/// field. Only declared fields are compared (a field left out is not managed); a preset's
/// parameters and a schedule's task are compared as wholes, as the API replaces them whole.
/// Deletes appear only with `prune`, and never for the cluster's own `_`-queues.
public struct Plan: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case jobPreset, queue, schedule }
    public enum Action: String, Sendable, Equatable { case create, update, delete, unchanged }

    public struct FieldChange: Sendable, Equatable {
        public var field: String
        /// The value as JSON text; nil when absent (create, delete).
        public var old: String?
        public var new: String?

        public init(field: String, old: String?, new: String?) {
            self.field = field
            self.old = old
            self.new = new
        }
    }

    public struct Change: Sendable, Equatable {
        public var kind: Kind
        public var name: String
        public var action: Action
        public var fields: [FieldChange]
    }

    /// In the order apply sends them: presets, queues, then schedules (which name both) are
    /// created or updated; then schedules, queues and presets are deleted.
    public var changes: [Change]

    public var hasChanges: Bool { changes.contains { $0.action != .unchanged } }

    public func count(_ action: Action) -> Int { changes.filter { $0.action == action }.count }

    public static func make(current: Manifest, desired: Manifest, prune: Bool) -> Plan {
        var upserts: [Change] = []
        var deletes: [Change] = []
        func diff(_ kind: Kind, desired: [(String, [(String, String?)])], current: [(String, [(String, String?)])]) {
            let now = Dictionary(current, uniquingKeysWith: { a, _ in a })
            for (name, fields) in desired {
                guard let old = now[name] else {
                    upserts.append(Change(kind: kind, name: name, action: .create,
                                          fields: fields.compactMap { f, v in v.map { FieldChange(field: f, old: nil, new: $0) } }))
                    continue
                }
                let oldValues = Dictionary(old, uniquingKeysWith: { a, _ in a })
                let changed = fields.compactMap { field, value -> FieldChange? in
                    guard let value, (oldValues[field] ?? nil) != value else { return nil }
                    return FieldChange(field: field, old: oldValues[field] ?? nil, new: value)
                }
                upserts.append(Change(kind: kind, name: name, action: changed.isEmpty ? .unchanged : .update, fields: changed))
            }
            guard prune else { return }
            let wanted = Set(desired.map(\.0))
            for (name, fields) in current where !wanted.contains(name) && !name.hasPrefix("_") {
                deletes.append(Change(kind: kind, name: name, action: .delete,
                                      fields: fields.compactMap { f, v in v.map { FieldChange(field: f, old: $0, new: nil) } }))
            }
        }
        diff(.jobPreset, desired: (desired.jobPresets ?? []).map { ($0.name, fields($0)) },
             current: (current.jobPresets ?? []).map { ($0.name, fields($0)) })
        diff(.queue, desired: (desired.queues ?? []).map { ($0.name, fields($0)) }, current: (current.queues ?? []).map { ($0.name, fields($0)) })
        diff(.schedule, desired: (desired.schedules ?? []).map { ($0.name, fields($0)) },
             current: (current.schedules ?? []).map { ($0.name, fields($0)) })
        let deleteOrder: [Kind] = [.schedule, .queue, .jobPreset]
        deletes.sort { (deleteOrder.firstIndex(of: $0.kind) ?? 0, $0.name) < (deleteOrder.firstIndex(of: $1.kind) ?? 0, $1.name) }
        return Plan(changes: upserts + deletes)
    }

    // MARK: Fields

    static func fields(_ q: QueueDecl) -> [(String, String?)] {
        [
            ("state", q.state.map(text)),
            ("rateLimits.maxDispatchesPerSecond", q.rateLimits?.maxDispatchesPerSecond.map(number)),
            ("rateLimits.maxBurstSize", q.rateLimits?.maxBurstSize.map(String.init)),
            ("rateLimits.maxConcurrentDispatches", q.rateLimits?.maxConcurrentDispatches.map(String.init)),
            ("retryConfig.maxAttempts", q.retryConfig?.maxAttempts.map(String.init)),
            ("retryConfig.minBackoffMs", q.retryConfig?.minBackoffMs.map(String.init)),
            ("retryConfig.maxBackoffMs", q.retryConfig?.maxBackoffMs.map(String.init)),
            ("retryConfig.maxDoublings", q.retryConfig?.maxDoublings.map(String.init)),
            ("retryConfig.maxRetryDurationMs", q.retryConfig?.maxRetryDurationMs.map(String.init)),
            ("tombstoneWindowMs", q.tombstoneWindowMs.map(String.init)),
        ]
    }

    static func fields(_ p: JobPresetDecl) -> [(String, String?)] {
        [("template", text(p.template)), ("parameters", json(.object(p.parameters ?? [:])))]
    }

    static func fields(_ s: ScheduleDecl) -> [(String, String?)] {
        [
            ("cron", text(s.cron)), ("timeZone", s.timeZone.map(text)), ("queue", text(s.queue)),
            ("task", json(.object(["kind": .string(s.task.kind), "payload": s.task.payload ?? .null]))),
            ("paused", s.paused.map { $0 ? "true" : "false" }),
        ]
    }

    static func text(_ string: String) -> String { json(.string(string)) }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func json(_ value: JSONValue) -> String { String(decoding: Manifest.canonicalJSON(value), as: UTF8.self) }

    // MARK: Printing

    /// The plan as people read it: one block per resource, `+` new, `-` old, `~` changed.
    public func render(showUnchanged: Bool = true) -> String {
        var lines: [String] = []
        for change in changes where showUnchanged || change.action != .unchanged {
            lines.append("\(change.kind.rawValue) \(change.name): \(change.action.rawValue)")
            for field in change.fields {
                switch (field.old, field.new) {
                case (nil, let new?): lines.append("  + \(field.field): \(new)")
                case (let old?, nil): lines.append("  - \(field.field): \(old)")
                case (let old?, let new?): lines.append("  ~ \(field.field): \(old) -> \(new)")
                case (nil, nil): break
                }
            }
        }
        lines.append("Plan: \(count(.create)) to create, \(count(.update)) to update, \(count(.delete)) to delete, "
                     + "\(count(.unchanged)) unchanged.")
        return lines.joined(separator: "\n")
    }
}

extension Manifest {
    /// The manifest of a cluster's current setup, from the API's own bodies (`trireme export`):
    /// every field written out, the cluster's `_`-queues left out, names sorted.
    public static func current(queues: [QueueBody], jobPresets: [JobPresetBody], schedules: [ScheduleBody]) -> Manifest {
        Manifest(
            queues: queues.filter { !$0.name.hasPrefix("_") }.sorted { $0.name < $1.name }.map { q in
                QueueDecl(name: q.name, state: q.state.lowercased(), rateLimits: q.rateLimits, retryConfig: q.retryConfig,
                          tombstoneWindowMs: q.tombstoneWindowMs)
            },
            jobPresets: jobPresets.sorted { $0.name < $1.name }.map { JobPresetDecl(name: $0.name, template: $0.template, parameters: $0.parameters) },
            schedules: schedules.sorted { $0.name < $1.name }.map { s in
                ScheduleDecl(name: s.name, cron: s.cron, timeZone: s.timeZone, queue: s.queue, task: s.task, paused: s.state == "PAUSED")
            })
    }
}
