import API
import Apply
import Testing

/// Parsing, validation and the plan of `trireme apply`, without a cluster.
@Suite struct ManifestTests {
    static let yaml = """
    version: 1
    queues:
      - name: nightly
        state: running
        rateLimits: {maxDispatchesPerSecond: 2, maxBurstSize: 1}
        retryConfig: {maxAttempts: 3, minBackoffMs: 1000}
    jobPresets:
      - name: wc
        template: wordcount
        parameters: {inputFile: "in/{{yesterday}}/*.txt", output: out/wc, numShards: 2}
    schedules:
      - name: nightly-wc
        cron: "0 2 * * *"
        timeZone: Europe/Berlin
        queue: nightly
        task: {kind: job, payload: {preset: wc}}
    """

    static var desired: Manifest { get throws { try Manifest.parse(yaml) } }

    /// The current setup as the cluster reports it (every field), built from the declaration.
    static func current(_ manifest: Manifest) -> Manifest {
        Manifest.current(
            queues: (manifest.queues ?? []).map { q in
                QueueBody(name: q.name, state: q.state ?? "running",
                          rateLimits: RateLimitsBody(maxDispatchesPerSecond: q.rateLimits?.maxDispatchesPerSecond ?? 500,
                                                     maxBurstSize: q.rateLimits?.maxBurstSize ?? 100, maxConcurrentDispatches: 1_000),
                          retryConfig: RetryConfigBody(maxAttempts: q.retryConfig?.maxAttempts ?? 100, minBackoffMs: q.retryConfig?.minBackoffMs ?? 100,
                                                       maxBackoffMs: 3_600_000, maxDoublings: 16, maxRetryDurationMs: 0),
                          tombstoneWindowMs: 3_600_000)
            },
            jobPresets: (manifest.jobPresets ?? []).map { JobPresetBody(name: $0.name, template: $0.template, parameters: $0.parameters ?? [:],
                                                                        updateTime: "2026-11-30T00:00:00Z") },
            schedules: (manifest.schedules ?? []).map { s in
                ScheduleBody(name: s.name, cron: s.cron, timeZone: s.timeZone ?? "UTC", queue: s.queue, task: s.task,
                             state: s.paused == true ? "PAUSED" : "ENABLED", createTime: "2026-11-30T00:00:00Z", lastFireTime: nil, nextFireTime: nil)
            })
    }

    @Test func anEmptyClusterGetsEveryResourceCreatedPresetsAndQueuesFirst() throws {
        let plan = Plan.make(current: Manifest(), desired: try Self.desired, prune: false)
        #expect(plan.changes.map { "\($0.action.rawValue) \($0.kind.rawValue) \($0.name)" }
                == ["create jobPreset wc", "create queue nightly", "create schedule nightly-wc"])
        let queue = try #require(plan.changes.first { $0.kind == .queue })
        #expect(queue.fields.map(\.field) == ["state", "rateLimits.maxDispatchesPerSecond", "rateLimits.maxBurstSize",
                                              "retryConfig.maxAttempts", "retryConfig.minBackoffMs"], "only declared fields")
        #expect(queue.fields.first { $0.field == "rateLimits.maxDispatchesPerSecond" }?.new == "2")
    }

    @Test func applyingTheSameSetupAgainChangesNothing() throws {
        let desired = try Self.desired
        let plan = Plan.make(current: Self.current(desired), desired: desired, prune: true)
        #expect(!plan.hasChanges, "\(plan.render())")
        #expect(plan.count(.unchanged) == 3)
    }

    @Test func aChangedFieldIsAnUpdateNamingOldAndNewValue() throws {
        var cluster = try Self.desired
        cluster.queues?[0].rateLimits?.maxBurstSize = 5
        cluster.schedules?[0].cron = "* * * * *"
        let plan = Plan.make(current: Self.current(cluster), desired: try Self.desired, prune: false)
        #expect(plan.changes.filter { $0.action == .update }.map(\.name) == ["nightly", "nightly-wc"])
        #expect(plan.changes.first { $0.name == "nightly" }?.fields == [Plan.FieldChange(field: "rateLimits.maxBurstSize", old: "5", new: "1")])
        #expect(plan.render().contains("~ cron: \"* * * * *\" -> \"0 2 * * *\""))
    }

    @Test func resourcesNotInTheFileAreDeletedOnlyWithPruneAndNeverSystemQueues() throws {
        var cluster = try Self.desired
        cluster.queues?.append(QueueDecl(name: "old"))
        cluster.queues?.append(QueueDecl(name: "_jobs"))
        cluster.schedules?.append(ScheduleDecl(name: "old-schedule", cron: "@daily", queue: "old", task: TaskTemplateBody(kind: "http")))
        let current = Self.current(cluster)
        #expect(Plan.make(current: current, desired: try Self.desired, prune: false).count(.delete) == 0)
        let pruned = Plan.make(current: current, desired: try Self.desired, prune: true)
        #expect(pruned.changes.filter { $0.action == .delete }.map { "\($0.kind.rawValue) \($0.name)" }
                == ["schedule old-schedule", "queue old"], "schedules before the queues they name")
    }

    @Test func fieldsLeftOutAreNotManaged() throws {
        var cluster = try Self.desired
        cluster.queues?[0].retryConfig?.maxBackoffMs = 42  // not declared in the file
        cluster.schedules?[0].timeZone = "UTC"
        var desired = try Self.desired
        desired.schedules?[0].timeZone = nil
        #expect(!Plan.make(current: Self.current(cluster), desired: desired, prune: false).hasChanges)
    }

    @Test func exportParsesBackToTheSameSetup() throws {
        let exported = Self.current(try Self.desired)
        let again = try Manifest.parse(try exported.yaml())
        #expect(again == exported)
        #expect(!Plan.make(current: exported, desired: again, prune: true).hasChanges)
    }

    @Test func jsonIsAcceptedToo() throws {
        let manifest = try Manifest.parse(#"{"version": 1, "queues": [{"name": "q", "state": "paused"}]}"#)
        #expect(manifest.queues == [QueueDecl(name: "q", state: "paused")])
    }

    @Test(arguments: [
        ("queues:\n  - name: q\n    rateLimit: {maxBurstSize: 1}\n", "queues[0].rateLimit"),
        ("queues:\n  - name: q\n    rateLimits: {maxBurst: 1}\n", "queues[0].rateLimits.maxBurst"),
        ("schedules:\n  - name: s\n    queue: q\n    task: {kind: http}\n", "schedules[0].cron"),
    ])
    func typosAndMissingFieldsAreRefusedWithTheirPath(text: String, path: String) {
        #expect(throws: ManifestError.self) { try Manifest.parse(text) }
        do {
            _ = try Manifest.parse(text)
        } catch {
            #expect(error.path == path, "\(error)")
        }
    }

    @Test func validationReportsEveryProblemBeforeAnyChange() throws {
        let manifest = try Manifest.parse("""
        queues:
          - {name: q, state: stopped, rateLimits: {maxBurstSize: 0}}
          - {name: q}
        jobPresets:
          - {name: p, template: sort, parameters: {output: "out/{{week}}"}}
        schedules:
          - {name: s, cron: "0 25 * * *", timeZone: Mars/Base, queue: nowhere, task: {kind: job, payload: {preset: missing}}}
        """)
        let paths = manifest.validate().map(\.path)
        for expected in ["queues[1].name", "queues[0].state", "queues[0]", "jobPresets[0].template", "jobPresets[0].parameters.output",
                         "schedules[0].queue", "schedules[0].timeZone", "schedules[0].task.payload.preset", "schedules[0]"] {
            #expect(paths.contains(expected), "\(expected) in \(paths)")
        }
        #expect(try Self.desired.validate().isEmpty)
    }

    @Test func aScheduleMayNameAQueueOrPresetTheClusterAlreadyHas() throws {
        let manifest = try Manifest.parse("""
        schedules:
          - {name: s, cron: "@daily", queue: nightly, task: {kind: job, payload: {preset: wc}}}
        """)
        #expect(!manifest.validate().isEmpty)
        #expect(manifest.validate(against: Self.current(try Self.desired)).isEmpty)
    }

    @Test func fireTimePlaceholdersFollowTheTimeZone() {
        // 2026-11-30 00:30 in Berlin is 2026-11-29 23:30 UTC.
        let ms: Int64 = 1_795_995_000_000
        let berlin = FireTimePlaceholders.values(.init(fireTimeMs: ms, timeZone: .init(identifier: "Europe/Berlin")!, taskID: "t", run: 2))
        let utc = FireTimePlaceholders.values(.init(fireTimeMs: ms, timeZone: .init(identifier: "UTC")!, taskID: "t", run: 2))
        #expect(berlin["date"] == "2026-11-30" && berlin["yesterday"] == "2026-11-29" && berlin["datetime"] == "2026-11-30T00:30:00")
        #expect(utc["date"] == "2026-11-29" && utc["tomorrow"] == "2026-11-30" && utc["hour"] == "23")
        let expanded = FireTimePlaceholders.expand(.string("in/{{ date }}/{{run}}/{{nope}}"),
                                                   .init(fireTimeMs: ms, timeZone: .init(identifier: "Europe/Berlin")!, taskID: "t", run: 2))
        #expect(expanded == .string("in/2026-11-30/2/{{nope}}"))
    }
}
