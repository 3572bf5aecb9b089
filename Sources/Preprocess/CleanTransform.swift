/// A record on its way through cleaning: column names and values, aligned.
public struct CleanRow: Sendable, Equatable {
    public var names: [String]
    public var values: [CleanValue]
    public init(names: [String], values: [CleanValue]) {
        precondition(names.count == values.count, "row names and values must align")
        self.names = names
        self.values = values
    }

    func value(_ column: String) -> CleanValue {
        names.firstIndex(of: column).map { values[$0] } ?? .null
    }
}

/// The per-record steps of a `CSVCleanSpec` as pure functions: `prepare` (select, trim,
/// lowercase, missing, cast, filter), `observe` (statistics pass), `finish` (normalise,
/// rename), `serialize` (CSV or JSON line).
public struct CleanTransform: Sendable {
    public enum Outcome: Sendable, Equatable {
        case keep(CleanRow)
        case dropped
        case malformed(String)
    }

    public let spec: CSVCleanSpec
    private let lowercase: Set<String>
    private let casts: [(String, CSVCleanSpec.ColumnType)]

    public init(spec: CSVCleanSpec, header: [String]?) throws(PreprocessError) {
        try spec.validate(header: header)
        self.spec = spec
        lowercase = Set(spec.lowercase)
        var c = spec.casts
        for n in spec.normalize.keys where c[n] == nil { c[n] = .double }  // normalising needs numbers
        casts = c.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func prepare(_ input: CleanRow) -> Outcome {
        var row = input
        if let select = spec.select {
            row = CleanRow(names: select, values: select.map { input.value($0) })
        }
        for i in row.values.indices {
            guard case .string(var s) = row.values[i] else { continue }
            if spec.trim { s = s.trimmingASCIISpaces() }
            if lowercase.contains(row.names[i]) { s = s.lowercased() }
            row.values[i] = .string(s)
        }
        let considered = spec.missing.columns.map(Set.init)
        for i in row.values.indices where row.values[i].isMissing {
            let name = row.names[i]
            let applies = considered?.contains(name) ?? true
            switch spec.missing.action {
            case .drop where applies: return .dropped
            case .fill where applies: row.values[i] = spec.missing.fill[name].map(CleanValue.string) ?? .null
            default: row.values[i] = .null
            }
            if row.values[i].isMissing { row.values[i] = .null }
        }
        for (name, type) in casts {
            guard let i = row.names.firstIndex(of: name) else { continue }
            guard let v = row.values[i].cast(to: type) else {
                return .malformed("column \(name): cannot cast \(quoted(row.values[i].text)) to \(type.rawValue)")
            }
            row.values[i] = v
        }
        for p in spec.filter where !CleanTransform.holds(row.value(p.column), p) { return .dropped }
        return .keep(row)
    }

    /// Adds the row's normalised columns to `stats` (statistics pass).
    public func observe(_ row: CleanRow, into stats: inout [String: ColumnStats]) {
        for name in spec.normalize.keys {
            if let x = row.value(name).number { stats[name, default: ColumnStats()].add(x) }
        }
    }

    /// Normalises (with the merged statistics of the whole input) and renames.
    public func finish(_ input: CleanRow, stats: [String: ColumnStats]) -> CleanRow {
        var row = input
        for (i, name) in row.names.enumerated() {
            if let how = spec.normalize[name], let x = row.values[i].number {
                row.values[i] = .double((stats[name] ?? ColumnStats()).normalize(x, how))
            }
        }
        row.names = row.names.map { spec.rename[$0] ?? $0 }
        return row
    }

    /// The output header for CSV (known only when the input has one or `select` is given).
    public func outputColumns(header: [String]?) -> [String]? {
        (spec.select ?? header).map { $0.map { spec.rename[$0] ?? $0 } }
    }

    static func holds(_ v: CleanValue, _ p: CSVCleanSpec.Predicate) -> Bool {
        if v == .null { return false }
        if p.op == .contains { return v.text.utf8.count >= p.value.utf8.count && v.text.contains(p.value) }
        let order: Int
        if let a = v.number, let b = Double(p.value) {
            order = a < b ? -1 : (a > b ? 1 : 0)
        } else {
            let a = Array(v.text.utf8), b = Array(p.value.utf8)
            order = a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
        }
        switch p.op {
        case .eq: return order == 0
        case .ne: return order != 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .gt: return order > 0
        case .ge: return order >= 0
        case .contains: return false
        }
    }

    private func quoted(_ s: String) -> String {
        "\"" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "\""
    }
}
