// Core value types of the Raft protocol. Frozen contract shared by the core, the storage and
// the simulator: add to it, do not change existing members without updating every user.

/// A Raft term. Never confused with a log index.
public struct Term: RawRepresentable, Comparable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static let zero = Term(0)
    public static func < (a: Term, b: Term) -> Bool { a.rawValue < b.rawValue }
    public var next: Term { Term(rawValue + 1) }
    public var description: String { "t\(rawValue)" }
}

/// A position in the Raft log. Index 0 is the empty prefix; the first entry is at 1.
public struct LogIndex: RawRepresentable, Comparable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static let zero = LogIndex(0)
    public static func < (a: LogIndex, b: LogIndex) -> Bool { a.rawValue < b.rawValue }
    public var next: LogIndex { LogIndex(rawValue + 1) }
    /// The previous index; precondition: not zero.
    public var previous: LogIndex {
        precondition(rawValue > 0, "LogIndex.zero has no previous index")
        return LogIndex(rawValue - 1)
    }
    public static func + (a: LogIndex, b: UInt64) -> LogIndex { LogIndex(a.rawValue + b) }
    public var description: String { "i\(rawValue)" }
}

/// A node's identity in the cluster. Never 0 (0 means "none" on the wire). Never reused.
public struct NodeID: RawRepresentable, Comparable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "n\(rawValue)" }
}

public enum EntryKind: UInt8, Sendable, Hashable {
    /// Application data: opaque bytes for the state machine. Empty data is the leader's
    /// no-op appended at the start of its term.
    case normal = 0
    /// A membership change: `data` is an encoded `ConfigurationChange`.
    case configurationChange = 1
}

/// One log entry. `data` is opaque to Raft.
public struct Entry: Sendable, Hashable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Approximate size for flow control: payload plus fixed overhead.
    public var sizeBytes: Int { data.count + 24 }
}

/// State that must be durable before any message that depends on it is sent.
public struct HardState: Sendable, Hashable {
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// The voting members and learners of the cluster.
public struct Configuration: Sendable, Hashable {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID>, learners: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners
    }

    public var members: Set<NodeID> { voters.union(learners) }
    public var quorum: Int { voters.count / 2 + 1 }
}

/// A single-server membership change, carried in an `.configurationChange` entry.
public enum ConfigurationChange: Sendable, Hashable {
    case addLearner(NodeID)
    case promote(NodeID)
    case remove(NodeID)
}

/// Describes the state machine image that replaces the log up to `index`.
public struct SnapshotMetadata: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term
    public var configuration: Configuration

    public init(index: LogIndex, term: Term, configuration: Configuration) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// A snapshot: metadata plus the opaque state machine image (may be empty when the host keeps
/// the image elsewhere and streams it separately).
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }
}

/// Everything a node recovers from its durable storage on restart.
public struct PersistentState: Sendable, Hashable {
    public var hardState: HardState
    /// The snapshot the log starts after, if any.
    public var snapshot: SnapshotMetadata?
    /// Entries after the snapshot, contiguous and ascending.
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: SnapshotMetadata? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}
