// A tiny seeded pseudo-random generator (Steele, Lea, Flood 2014). The core must be
// deterministic: election-timeout jitter comes from this, seeded through `RaftNode.init`,
// never from the system generator. Public for the node's id generator and for tests that
// need a reproducible corpus.

public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
