/// Count, min, max, mean and M2 (sum of squared deviations) of one numeric column, updated
/// with Welford's method and merged across splits with Chan et al.'s formula, so the
/// statistics pass can run one task per split and combine their results in any order.
public struct ColumnStats: Sendable, Codable, Equatable {
    public var count: Int = 0
    public var min: Double = .infinity
    public var max: Double = -.infinity
    public var mean: Double = 0
    public var m2: Double = 0

    public init() {}

    public mutating func add(_ x: Double) {
        count += 1
        min = Swift.min(min, x)
        max = Swift.max(max, x)
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    public mutating func merge(_ o: ColumnStats) {
        guard o.count > 0 else { return }
        guard count > 0 else { self = o; return }
        let n = Double(count + o.count)
        let delta = o.mean - mean
        mean += delta * Double(o.count) / n
        m2 += o.m2 + delta * delta * Double(count) * Double(o.count) / n
        count += o.count
        min = Swift.min(min, o.min)
        max = Swift.max(max, o.max)
    }

    /// Population variance (M2 / n), as pandas' `std(ddof=0)` and scikit-learn's StandardScaler.
    public var variance: Double { count > 0 ? m2 / Double(count) : 0 }

    public func normalize(_ x: Double, _ how: CSVCleanSpec.Normalization) -> Double {
        switch how {
        case .minmax:
            let range = max - min
            return range > 0 && range.isFinite ? (x - min) / range : 0
        case .zscore:
            let sd = variance.squareRoot()
            return sd > 0 ? (x - mean) / sd : 0
        }
    }
}

/// Per-column statistics of one split (or merged over many).
public struct CleanStats: Sendable, Codable, Equatable {
    public var columns: [String: ColumnStats] = [:]
    public var counters = TaskCounters()
    public init() {}

    public mutating func merge(_ o: CleanStats) {
        for (k, v) in o.columns { columns[k, default: ColumnStats()].merge(v) }
    }
}
