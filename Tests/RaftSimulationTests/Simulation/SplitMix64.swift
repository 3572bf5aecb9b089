/// The simulator's only source of randomness: SplitMix64 (Steele, Lea, Flood 2014), tiny, fast and
/// fully determined by its seed, so a run is a pure function of the seed.
struct SplitMix64: RandomNumberGenerator {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A new independent generator (for a sub-stream such as one node's election timer).
    mutating func fork() -> SplitMix64 { SplitMix64(seed: next()) }

    /// True with probability `p` (0 ... 1).
    mutating func chance(_ p: Double) -> Bool { p > 0 && Double(next() >> 11) * 0x1p-53 < p }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Uniform in [lower, upper).
    mutating func double(_ lower: Double, _ upper: Double) -> Double { Double.random(in: lower..<upper, using: &self) }

    mutating func pick<T>(_ items: [T]) -> T {
        precondition(!items.isEmpty, "pick from an empty list")
        return items[int(0...items.count - 1)]
    }
}
