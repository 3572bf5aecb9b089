// Applying a single-server membership change to a configuration. The entry bytes are the
// codec's `ConfigurationChange.encoded` form (MessageCodec+Entry.swift); every node decodes the
// same bytes the same way, so a malformed change is ignored by all of them alike.

extension Configuration {
    /// This configuration with `change` applied (single-server change).
    /// Adding a learner that is already a voter changes nothing (no demotion).
    func applying(_ change: ConfigurationChange) -> Configuration {
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
