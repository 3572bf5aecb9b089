import Foundation

/// The log-entry format: `[version: UInt16 LE][tag: UInt8][fields…]` in `BinaryWriter`'s
/// encoding. The version is read first, so an entry from a newer build stops apply with
/// `unsupportedCommandVersion` instead of being guessed at; trailing bytes are an error.
/// Tags are fixed forever within a version: add new commands with new tags.
extension Command {
    /// The command wire-format version this build writes.
    ///
    /// - 1: the first format.
    /// - 2: same fields and tags; apply also records per-attempt history (`attempts` table).
    ///   A version-1 entry applies exactly as before (no history), so replicas stay equal
    ///   whichever build replays an old log.
    /// - 3: adds `launchJob` (34), `putJobPreset` (35), `deleteJobPreset` (36); the layout of
    ///   every older tag is unchanged, so version-2 entries apply exactly as before.
    public static let version = 3
    /// The oldest version this build still reads.
    public static let oldestVersion = 1

    /// The bytes to propose to Raft.
    public func encoded() -> [UInt8] { encoded(version: Command.version) }

    /// The bytes in an older (same-layout) version: for tests of old-log replay.
    func encoded(version: Int) -> [UInt8] {
        var w = BinaryWriter()
        w.byte(UInt8(version & 0xFF))
        w.byte(UInt8(version >> 8))
        w.byte(tag)
        writeFields(to: &w)
        return w.bytes
    }

    /// Decodes an entry's bytes. `index` only labels the error.
    public static func decode(_ bytes: [UInt8], index: UInt64) throws(StoreError) -> Command {
        try decodeVersioned(bytes, index: index).command
    }

    /// Decodes an entry's bytes with the format version they were written in.
    public static func decodeVersioned(_ bytes: [UInt8], index: UInt64) throws(StoreError) -> (command: Command, version: Int) {
        guard bytes.count >= 3 else { throw .malformedEntry(index: index, reason: "entry of \(bytes.count) bytes") }
        let version = Int(bytes[0]) | Int(bytes[1]) << 8
        guard (Command.oldestVersion...Command.version).contains(version) else {
            throw .unsupportedCommandVersion(index: index, version: version)
        }
        var reader = BinaryReader(bytes)
        do throws(DecodeError) {
            _ = try reader.byte()
            _ = try reader.byte()
            let command = try read(tag: try reader.byte(), from: &reader)
            guard reader.isAtEnd else { throw DecodeError(reason: "trailing bytes") }
            return (command, version)
        } catch {
            throw .malformedEntry(index: index, reason: error.reason)
        }
    }

    var tag: UInt8 {
        switch self {
        case .createQueue: 1
        case .updateQueue: 2
        case .deleteQueue: 3
        case .pauseQueue: 4
        case .resumeQueue: 5
        case .disableQueue: 6
        case .purgeQueue: 7
        case .createTask: 10
        case .deleteTask: 11
        case .cancelTask: 12
        case .runTask: 13
        case .assignTask: 14
        case .startTask: 15
        case .renewLeases: 16
        case .completeTask: 17
        case .failTask: 18
        case .expireLeases: 19
        case .redriveDeadTask: 20
        case .createJob: 30
        case .updateJobProgress: 31
        case .cancelJob: 32
        case .finishJob: 33
        case .launchJob: 34
        case .putJobPreset: 35
        case .deleteJobPreset: 36
        case .registerExecutor: 40
        case .executorHeartbeat: 41
        case .createSchedule: 50
        case .updateSchedule: 51
        case .deleteSchedule: 52
        case .recordScheduleFire: 53
        case .collectGarbage: 60
        }
    }

    private func writeFields(to w: inout BinaryWriter) {
        switch self {
        case .createQueue(let spec), .updateQueue(let spec): spec.write(to: &w)
        case .deleteQueue(let name, let now), .purgeQueue(let name, let now): w.string(name); w.int64(now)
        case .pauseQueue(let name), .resumeQueue(let name), .disableQueue(let name): w.string(name)
        case .createTask(let spec): spec.write(to: &w)
        case .deleteTask(let id, let now), .cancelTask(let id, let now), .runTask(let id, let now), .redriveDeadTask(let id, let now):
            w.string(id); w.int64(now)
        case .assignTask(let id, let executor, let until, let now): w.string(id); w.string(executor); w.int64(until); w.int64(now)
        case .startTask(let id, let fence, let now): w.string(id); w.uint64(fence); w.int64(now)
        case .renewLeases(let executor, let leases, let until, let now):
            w.string(executor)
            w.varint(leases.count)
            for lease in leases { w.string(lease.taskID); w.uint64(lease.fence) }
            w.int64(until); w.int64(now)
        case .completeTask(let id, let fence, let result, let counters, let now):
            w.string(id); w.uint64(fence); w.data(result); w.counters(counters); w.int64(now)
        case .failTask(let id, let fence, let error, let now): w.string(id); w.uint64(fence); w.string(error); w.int64(now)
        case .expireLeases(let now, let limit), .collectGarbage(let now, let limit): w.int64(now); w.int(limit)
        case .createJob(let spec): spec.write(to: &w)
        case .updateJobProgress(let id, let counters, let now): w.string(id); w.counters(counters); w.int64(now)
        case .cancelJob(let id, let now): w.string(id); w.int64(now)
        case .finishJob(let id, let failed, let error, let now):
            w.string(id); w.bool(failed); w.optional(error) { $0.string($1) }; w.int64(now)
        case .launchJob(let id, let fence, let job, let queue, let now):
            w.string(id); w.uint64(fence); job.write(to: &w); queue.write(to: &w); w.int64(now)
        case .putJobPreset(let spec): w.string(spec.name); w.string(spec.template); w.string(spec.parameters); w.int64(spec.nowMs)
        case .deleteJobPreset(let name): w.string(name)
        case .registerExecutor(let id, let node, let slots, let now): w.string(id); w.string(node); w.int(slots); w.int64(now)
        case .executorHeartbeat(let id, let now): w.string(id); w.int64(now)
        case .createSchedule(let spec), .updateSchedule(let spec): spec.write(to: &w)
        case .deleteSchedule(let id): w.string(id)
        case .recordScheduleFire(let id, let fire, let taskID, let now): w.string(id); w.int64(fire); w.string(taskID); w.int64(now)
        }
    }

    private static func read(tag: UInt8, from r: inout BinaryReader) throws(DecodeError) -> Command {
        switch tag {
        case 1: return .createQueue(try QueueSpec(from: &r))
        case 2: return .updateQueue(try QueueSpec(from: &r))
        case 3: return .deleteQueue(name: try r.string(), nowMs: try r.int64())
        case 4: return .pauseQueue(name: try r.string())
        case 5: return .resumeQueue(name: try r.string())
        case 6: return .disableQueue(name: try r.string())
        case 7: return .purgeQueue(name: try r.string(), nowMs: try r.int64())
        case 10: return .createTask(try TaskSpec(from: &r))
        case 11: return .deleteTask(taskID: try r.string(), nowMs: try r.int64())
        case 12: return .cancelTask(taskID: try r.string(), nowMs: try r.int64())
        case 13: return .runTask(taskID: try r.string(), nowMs: try r.int64())
        case 14: return .assignTask(taskID: try r.string(), executorID: try r.string(), leaseUntilMs: try r.int64(), nowMs: try r.int64())
        case 15: return .startTask(taskID: try r.string(), fence: try r.uint64(), nowMs: try r.int64())
        case 16:
            let executor = try r.string()
            let count = try r.varint()
            var leases: [LeaseRef] = []
            for _ in 0..<count { leases.append(LeaseRef(taskID: try r.string(), fence: try r.uint64())) }
            return .renewLeases(executorID: executor, leases: leases, leaseUntilMs: try r.int64(), nowMs: try r.int64())
        case 17:
            return .completeTask(taskID: try r.string(), fence: try r.uint64(), result: try r.data(), counters: try r.counters(), nowMs: try r.int64())
        case 18: return .failTask(taskID: try r.string(), fence: try r.uint64(), error: try r.string(), nowMs: try r.int64())
        case 19: return .expireLeases(nowMs: try r.int64(), limit: try r.int())
        case 20: return .redriveDeadTask(taskID: try r.string(), nowMs: try r.int64())
        case 30: return .createJob(try JobSpec(from: &r))
        case 31: return .updateJobProgress(jobID: try r.string(), counters: try r.counters(), nowMs: try r.int64())
        case 32: return .cancelJob(jobID: try r.string(), nowMs: try r.int64())
        case 33:
            return .finishJob(jobID: try r.string(), failed: try r.bool(), error: try r.optional { (r: inout BinaryReader) throws(DecodeError) in try r.string() }, nowMs: try r.int64())
        case 34:
            return .launchJob(taskID: try r.string(), fence: try r.uint64(), job: try JobSpec(from: &r), jobsQueue: try QueueSpec(from: &r),
                              nowMs: try r.int64())
        case 35: return .putJobPreset(JobPresetSpec(name: try r.string(), template: try r.string(), parameters: try r.string(), nowMs: try r.int64()))
        case 36: return .deleteJobPreset(name: try r.string())
        case 40: return .registerExecutor(executorID: try r.string(), node: try r.string(), slots: try r.int(), nowMs: try r.int64())
        case 41: return .executorHeartbeat(executorID: try r.string(), nowMs: try r.int64())
        case 50: return .createSchedule(try ScheduleSpec(from: &r))
        case 51: return .updateSchedule(try ScheduleSpec(from: &r))
        case 52: return .deleteSchedule(scheduleID: try r.string())
        case 53: return .recordScheduleFire(scheduleID: try r.string(), fireTimeMs: try r.int64(), taskID: try r.string(), nowMs: try r.int64())
        case 60: return .collectGarbage(nowMs: try r.int64(), limit: try r.int())
        default: throw DecodeError(reason: "unknown command tag \(tag)")
        }
    }
}

extension QueueSpec {
    func write(to w: inout BinaryWriter) {
        w.string(name)
        w.double(rateLimits.maxDispatchesPerSecond); w.int(rateLimits.maxBurstSize); w.int(rateLimits.maxConcurrentDispatches)
        w.int(retryConfig.maxAttempts); w.int64(retryConfig.minBackoffMs); w.int64(retryConfig.maxBackoffMs)
        w.int(retryConfig.maxDoublings); w.int64(retryConfig.maxRetryDurationMs)
        w.int64(tombstoneWindowMs); w.int64(nowMs)
    }

    init(from r: inout BinaryReader) throws(DecodeError) {
        let name = try r.string()
        let rate = RateLimits(maxDispatchesPerSecond: try r.double(), maxBurstSize: try r.int(), maxConcurrentDispatches: try r.int())
        let retry = RetryConfig(maxAttempts: try r.int(), minBackoffMs: try r.int64(), maxBackoffMs: try r.int64(),
                                maxDoublings: try r.int(), maxRetryDurationMs: try r.int64())
        self.init(name: name, rateLimits: rate, retryConfig: retry, tombstoneWindowMs: try r.int64(), nowMs: try r.int64())
    }
}

extension TaskSpec {
    func write(to w: inout BinaryWriter) {
        w.string(id); w.string(queue)
        w.optional(name) { $0.string($1) }; w.optional(jobID) { $0.string($1) }
        w.string(kind); w.data(payload)
        w.int64(scheduleTimeMs); w.int64(dispatchDeadlineMs); w.int64(nowMs)
        w.optional(idempotencyKey) { $0.string($1) }
    }

    init(from r: inout BinaryReader) throws(DecodeError) {
        let string = { (r: inout BinaryReader) throws(DecodeError) -> String in try r.string() }
        self.init(id: try r.string(), queue: try r.string(), name: try r.optional(string), jobID: try r.optional(string),
                  kind: try r.string(), payload: try r.data(), scheduleTimeMs: try r.int64(), dispatchDeadlineMs: try r.int64(),
                  nowMs: try r.int64(), idempotencyKey: try r.optional(string))
    }
}

extension JobSpec {
    func write(to w: inout BinaryWriter) {
        w.string(id); w.string(template); w.string(parameters)
        w.varint(tasks.count)
        for task in tasks { task.write(to: &w) }
        w.int64(nowMs)
        w.optional(idempotencyKey) { $0.string($1) }
    }

    init(from r: inout BinaryReader) throws(DecodeError) {
        let id = try r.string(), template = try r.string(), parameters = try r.string()
        let count = try r.varint()
        var tasks: [TaskSpec] = []
        for _ in 0..<count { tasks.append(try TaskSpec(from: &r)) }
        self.init(id: id, template: template, parameters: parameters, tasks: tasks, nowMs: try r.int64(),
                  idempotencyKey: try r.optional { (r: inout BinaryReader) throws(DecodeError) in try r.string() })
    }
}

extension ScheduleSpec {
    func write(to w: inout BinaryWriter) {
        w.string(id); w.string(cron); w.string(timeZone); w.string(queue); w.string(kind); w.data(payload)
        w.bool(paused); w.int64(nowMs)
    }

    init(from r: inout BinaryReader) throws(DecodeError) {
        self.init(id: try r.string(), cron: try r.string(), timeZone: try r.string(), queue: try r.string(), kind: try r.string(),
                  payload: try r.data(), paused: try r.bool(), nowMs: try r.int64())
    }
}
