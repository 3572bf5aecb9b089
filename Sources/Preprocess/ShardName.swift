/// Beam's sharded output names: `PREFIX-SSSSS-of-NNNNN`, at least five digits each.
public enum ShardName {
    public static func path(prefix: String, shard: Int, of count: Int) -> String {
        precondition(shard >= 0 && shard < count, "shard out of range")
        return "\(prefix)-\(pad(shard))-of-\(pad(count))"
    }

    static func pad(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }
}

/// A unique suffix for one attempt's temporary files (the temp name only; outputs are
/// deterministic).
enum AttemptID {
    static func make() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}
