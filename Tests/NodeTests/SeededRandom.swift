import Raft

extension SplitMix64 {
    /// A value in 0..<bound, for the seeded corpora of the JSON tests.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
