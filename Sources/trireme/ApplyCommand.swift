import API
import Apply
import ArgumentParser
import Foundation

/// `trireme apply -f trireme.yaml [--dry-run] [--prune]`: makes the cluster's queues, job
/// presets and schedules match the file. The whole file is validated first (nothing is sent
/// if any part is wrong); then each change goes through the ordinary API, presets and queues
/// before the schedules that name them, deletes last.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the cluster's queues, job presets and schedules match a YAML (or JSON) file.",
        discussion: "Prints the plan (create / update / delete / unchanged, field by field), then applies it. "
            + "Fields left out of a declaration are not managed; resources not in the file are left alone unless --prune.")
    @OptionGroup var options: ClientOptions
    @Option(name: [.customShort("f"), .customLong("file")], help: "The setup file (YAML or JSON; - reads stdin).") var file: String
    @Flag(help: "Print the plan only; change nothing.") var dryRun = false
    @Flag(help: "Also delete queues, job presets and schedules that are not in the file (never the cluster's _-queues).")
    var prune = false

    func run() async throws {
        let text = try readText(file)
        let desired: Manifest
        do {
            desired = try Manifest.parse(text)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let client = options.client
        let current = try await SetupClient(client: client).current()
        let errors = desired.validate(against: current)
        guard errors.isEmpty else {
            throw ValidationError("\(file) is not valid; nothing was changed:\n" + errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        let plan = Plan.make(current: current, desired: desired, prune: prune)
        print(plan.render())
        guard !dryRun, plan.hasChanges else { return }
        try await SetupClient(client: client).apply(plan, desired: desired, current: current)
        print("Applied.")
    }

    func readText(_ path: String) throws -> String {
        if path == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `trireme export`: the cluster's current setup in `apply`'s format.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print the cluster's queues, job presets and schedules as a file `trireme apply` reads.")
    @OptionGroup var options: ClientOptions
    @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file instead of stdout.") var output: String?

    func run() async throws {
        let manifest = try await SetupClient(client: options.client).current()
        let text = options.json
            ? String(decoding: try Self.jsonEncoder.encode(manifest), as: UTF8.self) + "\n"
            : try manifest.yaml()
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } else {
            print(text, terminator: "")
        }
    }

    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}

/// Reads the current setup and sends a plan's changes, each through the public API.
struct SetupClient {
    let client: APIClient

    func current() async throws -> Manifest {
        var queues: [QueueBody] = []
        var schedules: [ScheduleBody] = []
        var token: String?
        repeat {
            let (page, _) = try await client.call("GET", "/v1/queues?pageSize=1000" + (token.map { "&pageToken=\(segment($0))" } ?? ""),
                                                  as: QueueList.self)
            queues += page.queues
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        repeat {
            let (page, _) = try await client.call("GET", "/v1/schedules?pageSize=1000" + (token.map { "&pageToken=\(segment($0))" } ?? ""),
                                                  as: ScheduleList.self)
            schedules += page.schedules
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        let (presets, _) = try await client.call("GET", "/v1/jobPresets", as: JobPresetList.self)
        return Manifest.current(queues: queues, jobPresets: presets.jobPresets, schedules: schedules)
    }

    func apply(_ plan: Plan, desired: Manifest, current: Manifest) async throws {
        for change in plan.changes where change.action != .unchanged {
            print("\(change.action.rawValue) \(change.kind.rawValue) \(change.name) …", terminator: " ")
            switch (change.kind, change.action) {
            case (.jobPreset, .create), (.jobPreset, .update):
                guard let preset = desired.jobPresets?.first(where: { $0.name == change.name }) else { continue }
                try await send("PUT", "/v1/jobPresets/\(segment(preset.name))", JobPresetRequest(template: preset.template, parameters: preset.parameters ?? [:]))
            case (.queue, .create), (.queue, .update):
                guard let queue = desired.queues?.first(where: { $0.name == change.name }) else { continue }
                let body = QueueRequest(name: change.action == .create ? queue.name : nil, rateLimits: queue.rateLimits,
                                        retryConfig: queue.retryConfig, tombstoneWindowMs: queue.tombstoneWindowMs)
                if change.action == .create {
                    try await send("POST", "/v1/queues", body)
                } else if change.fields.contains(where: { $0.field != "state" }) {
                    try await send("PATCH", "/v1/queues/\(segment(queue.name))", body)
                }
                if let state = queue.state, change.fields.contains(where: { $0.field == "state" }) {
                    try await send("POST", "/v1/queues/\(segment(queue.name)):\(state == "paused" ? "pause" : "resume")", nil as QueueRequest?)
                }
            case (.schedule, .create), (.schedule, .update):
                guard let schedule = desired.schedules?.first(where: { $0.name == change.name }) else { continue }
                let body = ScheduleRequest(name: schedule.name, cron: schedule.cron, timeZone: schedule.timeZone, queue: schedule.queue,
                                           task: schedule.task, paused: schedule.paused)
                if change.action == .create {
                    try await send("POST", "/v1/schedules", body)
                } else {
                    try await send("PATCH", "/v1/schedules/\(segment(schedule.name))", body)
                }
            case (.schedule, .delete): try await send("DELETE", "/v1/schedules/\(segment(change.name))", nil as QueueRequest?)
            case (.queue, .delete): try await send("DELETE", "/v1/queues/\(segment(change.name))", nil as QueueRequest?)
            case (.jobPreset, .delete): try await send("DELETE", "/v1/jobPresets/\(segment(change.name))", nil as QueueRequest?)
            default: break
            }
            print("done")
        }
    }

    /// One write; the Idempotency-Key is derived from the request, so a retry after an
    /// unknown outcome is the same request to the server.
    func send<Body: Encodable>(_ method: String, _ path: String, _ body: Body?) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try body.map { try encoder.encode($0) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for byte in Data((method + " " + path + " ").utf8) + (data ?? Data()) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let key = "apply-" + String(hash, radix: 16)
        // A node that is busy, between leaders or unsure whether the write committed answers
        // 503/504: the same request again (same key) is safe. A create that did commit before
        // its answer was lost comes back "already exists" on the retry: that is success.
        var delayMs = 200
        for attempt in 1...6 {
            do {
                _ = try await client.call(method, path, body: body, headers: ["Idempotency-Key": key], as: JSONValue.self)
                return
            } catch APIClient.ClientError.api(let status, let error) where attempt < 6 && (status == 503 || status == 504) {
                _ = error
            } catch APIClient.ClientError.api(let status, _) where attempt > 1 && status == 409 && method == "POST" {
                return
            } catch APIClient.ClientError.unreachable where attempt < 6 {
            }
            try await Task.sleep(for: .milliseconds(delayMs))
            delayMs = min(delayMs * 2, 3_000)
        }
    }
}
