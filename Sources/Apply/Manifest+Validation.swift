import API
import Foundation
import Store

/// The whole file is checked before anything is sent: the same static validation the server
/// runs on each command (`Command.validate`), plus what only the file as a whole shows
/// (duplicate names, a schedule naming a queue or preset that neither the file nor the cluster
/// has). Every problem is reported, not just the first.
extension Manifest {
    /// Templates a job may name (the server refuses others too).
    public static let templates: Set<String> = ["wordcount", "csv-clean", "jsonl-transform"]

    public func validate(against current: Manifest = Manifest()) -> [ManifestError] {
        var errors: [ManifestError] = []
        if let version, version != Self.formatVersion {
            errors.append(ManifestError(path: "version", message: "unsupported version \(version) (this build reads \(Self.formatVersion))"))
        }
        errors += Self.duplicates((queues ?? []).map(\.name), "queues")
        errors += Self.duplicates((jobPresets ?? []).map(\.name), "jobPresets")
        errors += Self.duplicates((schedules ?? []).map(\.name), "schedules")
        for (i, queue) in (queues ?? []).enumerated() { errors += Self.check(queue, at: "queues[\(i)]") }
        for (i, preset) in (jobPresets ?? []).enumerated() { errors += Self.check(preset, at: "jobPresets[\(i)]") }
        let knownQueues = Set((queues ?? []).map(\.name) + (current.queues ?? []).map(\.name))
        let knownPresets = Set((jobPresets ?? []).map(\.name) + (current.jobPresets ?? []).map(\.name))
        for (i, schedule) in (schedules ?? []).enumerated() {
            errors += Self.check(schedule, at: "schedules[\(i)]", queues: knownQueues, presets: knownPresets)
        }
        return errors
    }

    static func duplicates(_ names: [String], _ kind: String) -> [ManifestError] {
        var seen: Set<String> = []
        var errors: [ManifestError] = []
        for (i, name) in names.enumerated() where !seen.insert(name).inserted {
            errors.append(ManifestError(path: "\(kind)[\(i)].name", message: "\(name) is declared twice"))
        }
        return errors
    }

    static func check(_ queue: QueueDecl, at path: String) -> [ManifestError] {
        var errors: [ManifestError] = []
        if queue.name.hasPrefix("_") {
            errors.append(ManifestError(path: "\(path).name", message: "names starting with _ are the cluster's own queues"))
        }
        if let state = queue.state, !["running", "paused"].contains(state) {
            errors.append(ManifestError(path: "\(path).state", message: "must be running or paused"))
        }
        errors += command(.createQueue(spec(queue, base: nil)), at: path)
        return errors
    }

    static func check(_ preset: JobPresetDecl, at path: String) -> [ManifestError] {
        var errors: [ManifestError] = []
        if !templates.contains(preset.template) {
            errors.append(ManifestError(path: "\(path).template", message: "unknown template (\(templates.sorted().joined(separator: ", ")))"))
        }
        for (key, value) in (preset.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let bad = FireTimePlaceholders.unknownPlaceholder(in: value) {
                errors.append(ManifestError(path: "\(path).parameters.\(key)",
                                            message: "unknown placeholder {{\(bad)}} (\(FireTimePlaceholders.names.joined(separator: ", ")))"))
            }
        }
        errors += command(.putJobPreset(JobPresetSpec(name: preset.name, template: preset.template, nowMs: 0)), at: path)
        return errors
    }

    static func check(_ schedule: ScheduleDecl, at path: String, queues: Set<String>, presets: Set<String>) -> [ManifestError] {
        var errors: [ManifestError] = []
        if !queues.contains(schedule.queue) {
            errors.append(ManifestError(path: "\(path).queue", message: "no queue \(schedule.queue) in the file or the cluster"))
        }
        let zone = schedule.timeZone ?? "UTC"
        if zone != "UTC" && !TimeZone.knownTimeZoneIdentifiers.contains(zone) {
            errors.append(ManifestError(path: "\(path).timeZone", message: "unknown time zone \(zone) (an IANA name like Europe/Berlin)"))
        }
        if schedule.task.kind == "job" {
            do {
                let spec = try JobTaskSpec.parse(schedule.task.payload)
                if let template = spec.template, !templates.contains(template) {
                    errors.append(ManifestError(path: "\(path).task.payload.template", message: "unknown template \(template)"))
                }
                if let preset = spec.preset, !presets.contains(preset) {
                    errors.append(ManifestError(path: "\(path).task.payload.preset", message: "no job preset \(preset) in the file or the cluster"))
                }
            } catch {
                errors.append(ManifestError(path: "\(path).task.\(error.field)", message: error.message))
            }
        }
        let payload = schedule.task.payload.map(canonicalJSON) ?? Data()
        errors += command(.createSchedule(ScheduleSpec(id: schedule.name, cron: schedule.cron, timeZone: "UTC", queue: schedule.queue,
                                                       kind: schedule.task.kind, payload: payload, nowMs: 0)), at: path)
        return errors
    }

    /// The server's own static validation of the command this declaration becomes.
    static func command(_ command: Command, at path: String) -> [ManifestError] {
        do {
            try command.validate()
            return []
        } catch {
            return [ManifestError(path: path, message: "\(error)")]
        }
    }

    /// The queue spec a declaration asks for over `base` (the current queue, or defaults).
    static func spec(_ queue: QueueDecl, base: QueueDecl?) -> QueueSpec {
        let rate = RateLimits()
        let retry = RetryConfig()
        let r = queue.rateLimits, b = base?.rateLimits, t = queue.retryConfig, u = base?.retryConfig
        return QueueSpec(
            name: queue.name,
            rateLimits: RateLimits(
                maxDispatchesPerSecond: r?.maxDispatchesPerSecond ?? b?.maxDispatchesPerSecond ?? rate.maxDispatchesPerSecond,
                maxBurstSize: r?.maxBurstSize ?? b?.maxBurstSize ?? rate.maxBurstSize,
                maxConcurrentDispatches: r?.maxConcurrentDispatches ?? b?.maxConcurrentDispatches ?? rate.maxConcurrentDispatches),
            retryConfig: RetryConfig(
                maxAttempts: t?.maxAttempts ?? u?.maxAttempts ?? retry.maxAttempts,
                minBackoffMs: t?.minBackoffMs ?? u?.minBackoffMs ?? retry.minBackoffMs,
                maxBackoffMs: t?.maxBackoffMs ?? u?.maxBackoffMs ?? retry.maxBackoffMs,
                maxDoublings: t?.maxDoublings ?? u?.maxDoublings ?? retry.maxDoublings,
                maxRetryDurationMs: t?.maxRetryDurationMs ?? u?.maxRetryDurationMs ?? retry.maxRetryDurationMs),
            tombstoneWindowMs: queue.tombstoneWindowMs ?? base?.tombstoneWindowMs ?? 3_600_000, nowMs: 0)
    }

    /// Sorted keys, no escaped slashes: the form the server stores payloads in.
    public static func canonicalJSON(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data()
    }
}
