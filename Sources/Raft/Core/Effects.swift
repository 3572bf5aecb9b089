// The output of the core. Frozen contract (see Types.swift).

public enum Role: String, Sendable, Hashable {
    case follower, preCandidate, candidate, leader
}

/// A linearizable read is safe at `index` once the host has applied up to it.
public struct ReadState: Sendable, Hashable {
    public var index: LogIndex
    public var context: [UInt8]
    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

/// Volatile state that the host may want to observe (who leads, our role).
public struct SoftState: Sendable, Hashable {
    public var leader: NodeID?
    public var role: Role
    public init(leader: NodeID?, role: Role) {
        self.leader = leader
        self.role = role
    }
}

/// One numbered batch of work for the host. The host must, in this order:
/// 1. send `messages` (they do not depend on this batch's persistence);
/// 2. install `snapshot` if any, then durably persist `hardState` and `entries` (entries may
///    overwrite a suffix: delete every stored entry at or after `entries.first.index`), all in
///    one sync;
/// 3. only then send `messagesAfterPersist`;
/// 4. apply `committedEntries` in order;
/// 5. serve `readStates` once applied up to their index;
/// 6. call `acknowledge(number)` on the core. No other batch is handed out before that.
///
/// `committedEntries` are committed AND already durable on this node (at or below what earlier
/// acknowledged batches persisted), so a host may apply them before step 2 — the node does, so
/// that a client waits for one fsync round, not two. Applying them never depends on this
/// batch's own persist.
public struct Effects: Sendable {
    public var number: UInt64
    public var softState: SoftState?
    public var hardState: HardState?
    public var entries: [Entry]
    public var snapshot: Snapshot?
    public var messages: [Message]
    public var messagesAfterPersist: [Message]
    public var committedEntries: [Entry]
    public var readStates: [ReadState]

    public init(
        number: UInt64, softState: SoftState? = nil, hardState: HardState? = nil, entries: [Entry] = [],
        snapshot: Snapshot? = nil, messages: [Message] = [], messagesAfterPersist: [Message] = [],
        committedEntries: [Entry] = [], readStates: [ReadState] = []
    ) {
        self.number = number
        self.softState = softState
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.messages = messages
        self.messagesAfterPersist = messagesAfterPersist
        self.committedEntries = committedEntries
        self.readStates = readStates
    }

    /// True when the host has something to do.
    public var isEmpty: Bool {
        softState == nil && hardState == nil && entries.isEmpty && snapshot == nil && messages.isEmpty
            && messagesAfterPersist.isEmpty && committedEntries.isEmpty && readStates.isEmpty
    }
}
