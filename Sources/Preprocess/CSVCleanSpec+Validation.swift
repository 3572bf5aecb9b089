extension CSVCleanSpec {
    /// Checks the spec on its own and, when the input has a header (CSV), against it. Errors
    /// name the offending field, e.g. `select[2]` or `normalize.price`.
    public func validate(header: [String]?) throws(PreprocessError) {
        let available = header.map(Set.init)
        func check(_ column: String, _ field: String) throws(PreprocessError) {
            if column.isEmpty { throw .invalidParameter(field: field, reason: "empty column name") }
            if let available, !available.contains(column) {
                throw .invalidParameter(field: field, reason: "unknown column \"\(column)\"")
            }
            if let select, !select.contains(column) {
                throw .invalidParameter(field: field, reason: "column \"\(column)\" is not selected")
            }
        }
        if let select {
            if select.isEmpty { throw .invalidParameter(field: "select", reason: "selects no column") }
            var seen = Set<String>()
            for (i, c) in select.enumerated() {
                if let available, !available.contains(c) {
                    throw .invalidParameter(field: "select[\(i)]", reason: "unknown column \"\(c)\"")
                }
                if !seen.insert(c).inserted {
                    throw .invalidParameter(field: "select[\(i)]", reason: "column \"\(c)\" selected twice")
                }
            }
        }
        for (c, to) in rename.sorted(by: { $0.key < $1.key }) {
            try check(c, "rename.\(c)")
            if to.isEmpty { throw .invalidParameter(field: "rename.\(c)", reason: "empty new name") }
        }
        let outputs = (select ?? header ?? []).map { rename[$0] ?? $0 }
        if Set(outputs).count != outputs.count {
            throw .invalidParameter(field: "rename", reason: "two output columns get the same name")
        }
        for c in casts.keys.sorted() { try check(c, "casts.\(c)") }
        for (i, c) in lowercase.enumerated() { try check(c, "lowercase[\(i)]") }
        for (i, c) in (missing.columns ?? []).enumerated() { try check(c, "missing.columns[\(i)]") }
        for c in missing.fill.keys.sorted() { try check(c, "missing.fill.\(c)") }
        if missing.action == .fill && missing.fill.isEmpty {
            throw .invalidParameter(field: "missing.fill", reason: "action fill needs fill values")
        }
        for (i, p) in filter.enumerated() { try check(p.column, "filter[\(i)].column") }
        for c in normalize.keys.sorted() {
            try check(c, "normalize.\(c)")
            if let t = casts[c], t != .int && t != .double {
                throw .invalidParameter(field: "normalize.\(c)", reason: "column is cast to \(t.rawValue), not a number")
            }
        }
        if maxRecordBytes < 16 || maxRecordBytes > 256 << 20 {
            throw .invalidParameter(field: "maxRecordBytes", reason: "must be in 16...\(256 << 20)")
        }
        if maxDepth < 1 { throw .invalidParameter(field: "maxDepth", reason: "must be at least 1") }
    }
}
