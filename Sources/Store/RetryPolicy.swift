/// The retry decision for a failed attempt, as Cloud Tasks documents it: the backoff starts at
/// `minBackoff`, doubles `maxDoublings` times, then grows linearly by `minBackoff·2^maxDoublings`
/// per retry, capped at `maxBackoff`. Pure: the same inputs give the same answer everywhere.
public enum RetryPolicy {
    /// The delay before retry number `retry` (1 = the first retry after the first attempt).
    public static func backoffMs(retry: Int, config: RetryConfig) -> Milliseconds {
        precondition(retry >= 1, "retry numbers start at 1")
        let doublings = min(retry - 1, config.maxDoublings)
        let doubled = shiftSaturating(config.minBackoffMs, by: doublings)
        var delay = doubled
        if retry - 1 > config.maxDoublings {
            let linearSteps = Int64(retry - 1 - config.maxDoublings)
            let (product, overflow) = doubled.multipliedReportingOverflow(by: linearSteps)
            delay = overflow ? Int64.max : doubled.addingSaturating(product)
        }
        return min(delay, config.maxBackoffMs)
    }

    /// Retry at this time, or nil when the task is dead. `attempts` counts the attempt that
    /// just failed. Both limits, when set, must be reached (Cloud Tasks semantics).
    public static func nextAttemptMs(
        attempts: Int, firstAttemptMs: Milliseconds, nowMs: Milliseconds, config: RetryConfig
    ) -> Milliseconds? {
        let attemptsLimited = config.maxAttempts != -1
        let durationLimited = config.maxRetryDurationMs > 0
        let attemptsReached = attemptsLimited && attempts >= config.maxAttempts
        let durationReached = durationLimited && nowMs - firstAttemptMs >= config.maxRetryDurationMs
        let dead: Bool
        switch (attemptsLimited, durationLimited) {
        case (true, true): dead = attemptsReached && durationReached
        case (true, false): dead = attemptsReached
        case (false, true): dead = durationReached
        case (false, false): dead = false
        }
        if dead { return nil }
        return nowMs.addingSaturating(backoffMs(retry: max(attempts, 1), config: config))
    }

    static func shiftSaturating(_ value: Int64, by bits: Int) -> Int64 {
        guard value > 0 else { return value }
        guard bits < 62, value <= Int64.max >> Int64(bits) else { return Int64.max }
        return value << Int64(bits)
    }
}

extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
