/// FNV-1a, 64 bit. Used to assign words and rows to shards: unlike Swift's `Hasher`, which is
/// seeded randomly per process, it gives the same shard on every node and every run.
public enum FNV1a64 {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = offsetBasis
        for b in bytes {
            h ^= UInt64(b)
            h = h &* prime
        }
        return h
    }

    public static func hash(_ bytes: some Collection<UInt8>) -> UInt64 {
        var h = offsetBasis
        for b in bytes {
            h ^= UInt64(b)
            h = h &* prime
        }
        return h
    }

    /// The shard of a key among `shardCount` shards.
    public static func shard(of hash: UInt64, shardCount: Int) -> Int {
        precondition(shardCount > 0, "shard count must be positive")
        return Int(hash % UInt64(shardCount))
    }
}
