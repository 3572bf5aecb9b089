import Store

/// A queue's dispatch budget (Cloud Tasks `maxDispatchesPerSecond` / `maxBurstSize`): it holds
/// at most `capacity` tokens, gains `ratePerSecond` tokens per second, and each dispatch takes
/// one. Lives only in the leader's memory; a new leader starts every bucket full, so a
/// failover can let one extra burst through per queue (documented in the README).
public struct TokenBucket: Sendable, Equatable {
    public private(set) var tokens: Double
    public private(set) var capacity: Double
    public private(set) var ratePerSecond: Double
    public private(set) var lastRefillMs: Milliseconds

    public init(limits: RateLimits, nowMs: Milliseconds) {
        capacity = Double(max(limits.maxBurstSize, 1))
        ratePerSecond = max(limits.maxDispatchesPerSecond, 0)
        tokens = capacity
        lastRefillMs = nowMs
    }

    /// Adds the tokens earned since the last refill and follows a changed queue config.
    public mutating func refill(limits: RateLimits, nowMs: Milliseconds) {
        capacity = Double(max(limits.maxBurstSize, 1))
        ratePerSecond = max(limits.maxDispatchesPerSecond, 0)
        // A clock that steps back earns nothing and does not move the reference point back.
        if nowMs > lastRefillMs {
            tokens += ratePerSecond * Double(nowMs - lastRefillMs) / 1_000
            lastRefillMs = nowMs
        }
        tokens = min(tokens, capacity)
    }

    /// Whole tokens available now.
    public var available: Int { Int(tokens.rounded(.down)) }

    public mutating func take(_ count: Int = 1) {
        precondition(count >= 0 && count <= available, "taking more tokens than the bucket holds")
        tokens -= Double(count)
    }
}
