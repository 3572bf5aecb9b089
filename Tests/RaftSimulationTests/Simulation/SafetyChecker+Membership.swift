import Raft

/// The membership checks (single-server changes, thesis §4.1):
/// - M1 OneChangeAtATime: when a leader accepts a change, every entry of earlier terms and every
///   change it accepted before in its term is committed (so at most one configuration entry is
///   ever uncommitted in a leader's log);
/// - M2 LeaderIsMember: a node that becomes leader of term T is a voter of its own configuration,
///   and a voter of the last configuration committed before T began, unless a later promotion
///   of it was proposed (a re-added node); so a removed node never leads after its removal
///   committed;
/// - M3 ConfigurationFromLog: a node's configuration is its snapshot's with every configuration
///   entry of its log applied in order (checked by the simulator on quiescent nodes).
/// I6 under changing configurations lives here too: which voters committed each index.
extension SafetyChecker {
    /// A leader's commit index went from `from - 1` to `through` under `voters`.
    mutating func observeLeaderCommit(from: LogIndex, through: LogIndex, voters: Set<NodeID>) {
        var index = from.rawValue
        while index <= through.rawValue {
            if commitVoters[index] == nil { commitVoters[index] = voters }
            index += 1
        }
    }

    /// A configuration entry was applied for the first time anywhere. First applications happen
    /// in log order (a node applies in order, and a snapshot covers only what its taker applied),
    /// so the committed configurations are built in order.
    mutating func observeCommittedChange(_ entry: Entry) throws(Violation) {
        guard tracksCommits, let last = committedConfigurations.last else { return }
        guard entry.index > last.index else {
            throw Violation(.stateMachineSafety, "configuration entry \(describe(entry)) first applied after the one at \(last.index)")
        }
        guard let change = try? ConfigurationChange.decode(entry.data) else { return }
        committedConfigurations.append(CommittedConfiguration(
            index: entry.index, bound: committed[entry.index.rawValue]?.commitTermBound ?? maxTerm,
            configuration: last.configuration.modelApplying(change)))
    }

    /// The last configuration known committed before `term` began.
    func committedConfiguration(before term: Term) -> CommittedConfiguration? {
        committedConfigurations.last { $0.bound < term }
    }

    /// M2 on a node that just became leader of `term` with `configuration` in force.
    /// `promotedAfter(i)` says whether a promotion of the node was proposed at an index above i.
    func checkLeaderMembership(_ node: NodeID, term: Term, configuration: Configuration,
                               promotedAfter: (LogIndex) -> Bool) throws(Violation) {
        guard configuration.voters.contains(node) else {
            throw Violation(.leaderIsMember, "\(node) leads \(term) but is not a voter of its configuration \(describe(configuration))")
        }
        guard tracksCommits, let before = committedConfiguration(before: term) else { return }
        if !before.configuration.voters.contains(node) && !promotedAfter(before.index) {
            throw Violation(.leaderIsMember, "\(node) leads \(term) but the configuration committed at \(before.index) before that term, \(describe(before.configuration)), has it as no voter and no later promotion of it was proposed")
        }
    }

    func describe(_ configuration: Configuration) -> String {
        "voters \(configuration.voters.sorted()) learners \(configuration.learners.sorted())"
    }
}

extension Configuration {
    /// The simulator's own model of a single-server change (what the core must do): adding a
    /// learner that is a voter changes nothing, promote makes a voter, remove drops either role.
    func modelApplying(_ change: ConfigurationChange) -> Configuration {
        var next = self
        switch change {
        case .addLearner(let n):
            if !next.voters.contains(n) { next.learners.insert(n) }
        case .promote(let n):
            next.learners.remove(n)
            next.voters.insert(n)
        case .remove(let n):
            next.voters.remove(n)
            next.learners.remove(n)
        }
        return next
    }
}
