/// What every task reports back (through the replicated log, later): counters and the files it
/// made. All values are plain data so the executor can encode them as JSON.
public struct TaskCounters: Sendable, Codable, Equatable {
    public var recordsIn = 0
    public var bytesIn: Int64 = 0
    public var recordsOut = 0
    public var bytesOut: Int64 = 0
    public var malformedRecords = 0
    public var durationNanoseconds: Int64 = 0

    public init() {}

    mutating func setDuration(since start: ContinuousClock.Instant) {
        let d = ContinuousClock.now - start
        durationNanoseconds = d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}

/// A file a task wrote, after its final rename.
public struct OutputFile: Sendable, Codable, Equatable {
    public var path: String
    public var bytes: Int64
    /// CRC-32 (IEEE) of the whole file.
    public var crc32: UInt32

    public init(path: String, bytes: Int64, crc32: UInt32) {
        self.path = path
        self.bytes = bytes
        self.crc32 = crc32
    }
}

/// A map task's result: one spill file per shard (index = shard), maybe a rejects file.
public struct MapOutput: Sendable, Codable, Equatable {
    public var taskIndex: Int
    public var counters: TaskCounters
    public var spills: [OutputFile]
    public var rejects: OutputFile?
}

/// A reduce task's result: its one output shard.
public struct ReduceOutput: Sendable, Codable, Equatable {
    public var shard: Int
    public var counters: TaskCounters
    public var file: OutputFile
}

/// A spill file as a reducer input: which map task made it (the reducer reads its inputs in
/// this order, so its output does not depend on the order the caller lists them in).
public struct SpillInput: Sendable, Codable, Equatable {
    public var mapTaskIndex: Int
    public var path: String

    public init(mapTaskIndex: Int, path: String) {
        self.mapTaskIndex = mapTaskIndex
        self.path = path
    }
}
