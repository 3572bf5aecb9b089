import Raft

/// Decides the safety invariants from observations the simulator feeds it. It keeps the whole
/// run's history (leaders per term, every committed entry, every persisted (index, term)), so
/// crashes do not erase evidence. Each `observe…` throws the first violation it sees. It knows
/// nothing of the simulator, so a test can feed it a hand-made bad history.
struct SafetyChecker {
    /// What is known about a committed index: the entry (unless it was only seen inside a
    /// snapshot image), its term, the state-machine hash after it, and an upper bound of the term
    /// in which it was committed (the highest term seen anywhere when it was first applied).
    struct Committed {
        var entry: Entry?
        var term: Term
        var hash: UInt64
        var commitTermBound: Term
    }

    let quorum: Int
    private(set) var leaders: [Term: NodeID] = [:]
    private(set) var committed: [UInt64: Committed] = [:]
    /// Highest index applied anywhere.
    private(set) var maxApplied: LogIndex = .zero
    /// Highest commit index any node reported, or applied index.
    private(set) var maxCommit: LogIndex = .zero
    /// Highest term any node was seen in.
    private(set) var maxTerm: Term = .zero
    /// Last persisted hard state per node (survives crashes, as the disk does).
    var persistedHardState: [NodeID: HardState] = [:]
    /// For I3: each (index, term) ever persisted anywhere, with its content and previous term.
    var logged: [IndexTerm: LoggedEntry] = [:]
    /// Proposals that got an index: payload → index. Payloads are unique per run.
    private(set) var proposals: [[UInt8]: LogIndex] = [:]
    /// Committed payloads → the index they committed at.
    private(set) var committedPayloads: [[UInt8]: LogIndex] = [:]
    /// Read requests: context → the highest commit seen before the request was issued.
    private var reads: [[UInt8]: LogIndex] = [:]
    /// Contexts that got a ReadState.
    private(set) var answeredReads: Set<[UInt8]> = []
    /// For I6 under membership changes: the voters of the leader that first committed each
    /// index (a leader counts a quorum of the configuration in force in its log, committed or
    /// not). Only filled when `tracksCommits` (the simulator); hand-made histories use `quorum`.
    var commitVoters: [UInt64: Set<NodeID>] = [:]
    var tracksCommits = false
    /// M-checks: the committed configurations in log order, each with the index of its entry and
    /// the commit-term bound of that entry; the first is the initial configuration at i0.
    var committedConfigurations: [CommittedConfiguration] = []

    struct IndexTerm: Hashable {
        var index: LogIndex
        var term: Term
    }

    struct LoggedEntry: Equatable {
        var kind: EntryKind
        var data: [UInt8]
        var previousTerm: Term
    }

    struct CommittedConfiguration {
        var index: LogIndex
        var bound: Term
        var configuration: Configuration
    }

    init(quorum: Int) { self.quorum = quorum }

    /// The simulator's checker: quorums come from the configurations the leaders used.
    init(initial: Configuration) {
        quorum = initial.quorum
        tracksCommits = true
        committedConfigurations = [CommittedConfiguration(index: .zero, bound: .zero, configuration: initial)]
    }

    // MARK: Roles and terms

    /// I1: at most one leader per term, over the whole run. Returns true when `node` is a leader
    /// not seen before in `term` (the caller then checks I4 on it).
    mutating func observeRole(_ node: NodeID, role: Role, term: Term) throws(Violation) -> Bool {
        maxTerm = max(maxTerm, term)
        guard role == .leader else { return false }
        if let other = leaders[term] {
            guard other == node else { throw Violation(.electionSafety, "\(other) and \(node) both lead \(term)") }
            return false
        }
        leaders[term] = node
        return true
    }

    mutating func observeCommitIndex(_ commit: LogIndex) { maxCommit = max(maxCommit, commit) }

    // MARK: Applying

    /// I5: no two nodes apply different entries at one index; the state-machine hash after an
    /// index is the same everywhere; committed payloads are proposed ones, at their index, once.
    mutating func observeApply(_ node: NodeID, entry: Entry, hashAfter: UInt64) throws(Violation) {
        let key = entry.index.rawValue
        if let known = committed[key] {
            if let other = known.entry, other != entry {
                throw Violation(.stateMachineSafety, "\(node) applied \(describe(entry)) where another node applied \(describe(other))")
            }
            guard known.term == entry.term, known.hash == hashAfter else {
                throw Violation(.stateMachineSafety, "\(node) state after \(entry.index) (\(entry.term)) differs from the state other nodes had there (\(known.term))")
            }
            if known.entry == nil { committed[key]?.entry = entry }
            return
        }
        committed[key] = Committed(entry: entry, term: entry.term, hash: hashAfter, commitTermBound: maxTerm)
        maxApplied = max(maxApplied, entry.index)
        maxCommit = max(maxCommit, entry.index)
        try checkPayload(entry)
        if entry.kind == .configurationChange { try observeCommittedChange(entry) }
    }

    /// A restarted node is handed an entry its durable state machine already applied: it must be
    /// the entry that was committed there.
    func observeReapply(_ node: NodeID, entry: Entry) throws(Violation) {
        guard let known = committed[entry.index.rawValue] else {
            throw Violation(.stateMachineSafety, "\(node) re-applies \(describe(entry)) that no node applied before")
        }
        guard known.term == entry.term, known.entry == nil || known.entry == entry else {
            throw Violation(.stateMachineSafety, "\(node) re-applies \(describe(entry)) where \(known.entry.map(describe) ?? "\(known.term)") was applied")
        }
    }

    /// A node replaced its state with a snapshot image: it must be a state other nodes had there.
    mutating func observeSnapshotRestore(_ node: NodeID, image: SnapshotImage) throws(Violation) {
        let key = image.index.rawValue
        if let known = committed[key] {
            guard known.term == image.term, known.hash == image.hash else {
                throw Violation(.stateMachineSafety, "\(node) installed a snapshot at \(image.index) that differs from the applied state there")
            }
            return
        }
        committed[key] = Committed(entry: nil, term: image.term, hash: image.hash, commitTermBound: maxTerm)
        maxApplied = max(maxApplied, image.index)
        maxCommit = max(maxCommit, image.index)
    }

    private mutating func checkPayload(_ entry: Entry) throws(Violation) {
        guard entry.kind == .normal, !entry.data.isEmpty else { return }
        guard let proposed = proposals[entry.data] else {
            throw Violation(.proposalIntegrity, "\(describe(entry)) committed but was never proposed")
        }
        guard proposed == entry.index else {
            throw Violation(.proposalIntegrity, "\(describe(entry)) committed at \(entry.index) but propose() returned \(proposed)")
        }
        if let earlier = committedPayloads[entry.data] {
            throw Violation(.proposalIntegrity, "\(describe(entry)) committed twice (also at \(earlier))")
        }
        committedPayloads[entry.data] = entry.index
    }

    // MARK: Client

    mutating func observeProposal(_ payload: [UInt8], at index: LogIndex) {
        proposals[payload] = index
    }

    mutating func observeReadRequest(context: [UInt8]) { reads[context] = maxCommit }

    /// A ReadState must not be older than any commit seen before its request was issued.
    mutating func observeReadState(_ node: NodeID, _ state: ReadState) throws(Violation) {
        guard let required = reads[state.context] else {
            throw Violation(.readIndexSafety, "\(node) got a read state for an unknown context \(String(decoding: state.context, as: UTF8.self))")
        }
        guard state.index >= required else {
            throw Violation(.readIndexSafety, "\(node) read \(String(decoding: state.context, as: UTF8.self)) at \(state.index), but \(required) was committed before the request")
        }
        answeredReads.insert(state.context)
    }

    func describe(_ entry: Entry) -> String {
        "\(entry.index)/\(entry.term) \(entry.kind) \"\(String(decoding: entry.data, as: UTF8.self))\""
    }
}
