import Foundation
import Testing
@testable import Store

@Suite struct CommandTests {
    static let samples: [Command] = [
        .createQueue(queueSpec()), .updateQueue(queueSpec()), .deleteQueue(name: "q", nowMs: t0),
        .pauseQueue(name: "q"), .resumeQueue(name: "q"), .disableQueue(name: "q"), .purgeQueue(name: "q", nowMs: t0),
        .createTask(taskSpec("t1", name: "n", key: "k")), .deleteTask(taskID: "t1", nowMs: t0), .cancelTask(taskID: "t1", nowMs: t0),
        .runTask(taskID: "t1", nowMs: t0), .assignTask(taskID: "t1", executorID: "e", leaseUntilMs: t0 + 1, nowMs: t0),
        .startTask(taskID: "t1", fence: 3, nowMs: t0),
        .renewLeases(executorID: "e", leases: [LeaseRef(taskID: "t1", fence: 3)], leaseUntilMs: t0 + 5, nowMs: t0),
        .completeTask(taskID: "t1", fence: 3, result: Data([0, 1, 255]), counters: ["b": 2, "a": 1], nowMs: t0),
        .failTask(taskID: "t1", fence: 3, error: "boom", nowMs: t0), .expireLeases(nowMs: t0, limit: 10),
        .redriveDeadTask(taskID: "t1", nowMs: t0),
        .createJob(JobSpec(id: "j", template: "WordCount", parameters: "{\"inputFile\":\"a\"}", tasks: [taskSpec("t2")], nowMs: t0)),
        .updateJobProgress(jobID: "j", counters: ["records": 5], nowMs: t0), .cancelJob(jobID: "j", nowMs: t0),
        .finishJob(jobID: "j", failed: true, error: "x", nowMs: t0),
        .registerExecutor(executorID: "e", node: "n1", slots: 4, nowMs: t0), .executorHeartbeat(executorID: "e", nowMs: t0),
        .createSchedule(ScheduleSpec(id: "s", cron: "*/5 * * * *", queue: "q", kind: "k", nowMs: t0)),
        .updateSchedule(ScheduleSpec(id: "s", cron: "0 9 * * MON-FRI", timeZone: "Europe/Berlin", queue: "q", kind: "k", nowMs: t0)),
        .deleteSchedule(scheduleID: "s"), .recordScheduleFire(scheduleID: "s", fireTimeMs: t0, taskID: "t3", nowMs: t0),
        .collectGarbage(nowMs: t0, limit: 100),
    ]

    @Test(arguments: samples)
    func roundTripsAndValidates(command: Command) throws {
        let bytes = command.encoded()
        #expect(try Command.decode(bytes, index: 1) == command)
        #expect(command.encoded() == bytes, "encoding is deterministic")
        try command.validate()
    }

    @Test func samplesCoverEveryCommand() {
        let tags = Set(Self.samples.map(\.tag))
        #expect(tags.count == 29, "add new commands to `samples`")
    }

    @Test func unknownVersionStopsApply() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            let before = try s.store.stateHash()
            var future = Command.pauseQueue(name: "q").encoded()
            future[0] = UInt8(Command.version + 1)
            #expect(throws: StoreError.unsupportedCommandVersion(index: 2, version: Command.version + 1)) {
                try s.store.apply(index: 2, data: future)
            }
            #expect(s.store.appliedIndex == 1)
            #expect(try s.store.stateHash() == before)
            // The same batch with a good entry first is refused as a whole.
            let good = LogEntry(index: 2, data: Command.pauseQueue(name: "q").encoded())
            let bad = LogEntry(index: 3, data: future)
            #expect(throws: StoreError.self) { try s.store.apply(entries: [good, bad]) }
            #expect(s.store.appliedIndex == 1)
            #expect(try s.store.queue("q")?.state == .running)
        }
    }

    static let malformed: [[UInt8]] = [
        [1], [1, 0], [1, 0, 99], [1, 0, 4], [1, 0, 4, 1, 0xFF], Command.pauseQueue(name: "q").encoded() + [0],
        [1, 0, 14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [1, 0, 33, 1, 0x61, 7],
        Array(Command.createTask(taskSpec("t")).encoded().dropLast()),
    ]

    @Test(arguments: malformed)
    func malformedEntryStopsApply(data: [UInt8]) throws {
        try withStore { s in
            #expect {
                try s.store.apply(index: 1, data: data)
            } throws: { error in
                guard case .malformedEntry(let index, _) = error as? StoreError else { return false }
                return index == 1
            }
            #expect(s.store.appliedIndex == 0)
        }
    }

    /// Every prefix of a valid entry is refused (truncated in transit or on disk).
    @Test func everyTruncationIsRefused() {
        let bytes = Command.completeTask(taskID: "t", fence: 9, result: Data([1, 2]), counters: ["a": 1], nowMs: t0).encoded()
        for length in 0..<bytes.count {
            #expect(throws: StoreError.self) { try Command.decode(Array(bytes.prefix(length)), index: 1) }
        }
    }

    static let invalid: [(Command, CommandError)] = [
        (.createQueue(QueueSpec(name: "bad/name", nowMs: t0)), .invalidIdentifier(field: "queue", value: "bad/name")),
        (.createQueue(QueueSpec(name: "q", rateLimits: RateLimits(maxDispatchesPerSecond: 0), nowMs: t0)),
         .invalidRateLimits(field: "maxDispatchesPerSecond")),
        (.createQueue(QueueSpec(name: "q", rateLimits: RateLimits(maxDispatchesPerSecond: .nan), nowMs: t0)),
         .invalidRateLimits(field: "maxDispatchesPerSecond")),
        (.createQueue(QueueSpec(name: "q", rateLimits: RateLimits(maxBurstSize: 0), nowMs: t0)), .invalidRateLimits(field: "maxBurstSize")),
        (.createQueue(QueueSpec(name: "q", rateLimits: RateLimits(maxConcurrentDispatches: -1), nowMs: t0)),
         .invalidRateLimits(field: "maxConcurrentDispatches")),
        (.createQueue(QueueSpec(name: "q", retryConfig: RetryConfig(maxAttempts: 0), nowMs: t0)), .invalidRetryConfig(field: "maxAttempts")),
        (.createQueue(QueueSpec(name: "q", retryConfig: RetryConfig(minBackoffMs: 10, maxBackoffMs: 5), nowMs: t0)),
         .invalidRetryConfig(field: "maxBackoffMs")),
        (.createQueue(QueueSpec(name: "q", retryConfig: RetryConfig(maxDoublings: 99), nowMs: t0)), .invalidRetryConfig(field: "maxDoublings")),
        (.createQueue(QueueSpec(name: "q", retryConfig: RetryConfig(maxRetryDurationMs: -1), nowMs: t0)),
         .invalidRetryConfig(field: "maxRetryDurationMs")),
        (.createTask(TaskSpec(id: "t", queue: "q", kind: "k", payload: Data(count: 100 * 1024 + 1), scheduleTimeMs: t0, nowMs: t0)),
         .payloadTooLarge(bytes: 100 * 1024 + 1, limit: 100 * 1024)),
        (.createTask(taskSpec("")), .invalidIdentifier(field: "taskID", value: "")),
        (.createTask(taskSpec("t", name: "a\u{0}b")), .invalidIdentifier(field: "name", value: "a\u{0}b")),
        (.createTask(taskSpec("t", at: -1)), .invalidValue(field: "scheduleTimeMs")),
        (.assignTask(taskID: "t", executorID: "e", leaseUntilMs: t0, nowMs: t0), .invalidValue(field: "leaseUntilMs")),
        (.createSchedule(ScheduleSpec(id: "s", cron: "61 * * * *", queue: "q", kind: "k", nowMs: t0)),
         .malformedCron(expression: "61 * * * *", reason: "minute: 61 outside 0...59")),
        (.createSchedule(ScheduleSpec(id: "s", cron: "* * * * *", timeZone: "Mars/Base", queue: "q", kind: "k", nowMs: t0)),
         .invalidTimeZone("Mars/Base")),
        (.registerExecutor(executorID: "e", node: "n", slots: 0, nowMs: t0), .invalidValue(field: "slots")),
        (.expireLeases(nowMs: t0, limit: 0), .invalidValue(field: "limit")),
    ]

    @Test(arguments: invalid)
    func staticValidationNamesTheField(command: Command, expected: CommandError) {
        #expect(throws: expected) { try command.validate() }
    }

    @Test func payloadLimitIsConfigurable() throws {
        let command = Command.createTask(TaskSpec(id: "t", queue: "q", kind: "k", payload: Data(count: 2_000), scheduleTimeMs: t0, nowMs: t0))
        try command.validate()
        #expect(throws: CommandError.payloadTooLarge(bytes: 2_000, limit: 1_000)) {
            try command.validate(limits: CommandLimits(payloadBytesMax: 1_000))
        }
    }
}
