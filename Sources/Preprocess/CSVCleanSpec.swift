/// What a `csv-clean` or `jsonl-transform` job does to each record, in this order:
/// 1. `select` columns (input names, in output order; absent = all columns),
/// 2. `trim` whitespace of text values, `lowercase` the listed columns,
/// 3. `missing`: an empty or null value is missing; drop the row, or fill it,
/// 4. `casts` to int, double, bool or string (a value that does not cast is malformed),
/// 5. `filter`: keep rows for which every predicate holds,
/// 6. `normalize` numeric columns (min-max or z-score; needs the statistics pass),
/// 7. `rename` columns for output, 8. `dedupe` exact duplicate output rows (in the reducer).
/// Column names in every field are input names (before `rename`).
public struct CSVCleanSpec: Codable, Sendable, Equatable {
    public enum ColumnType: String, Codable, Sendable { case int, double, bool, string }
    public enum Normalization: String, Codable, Sendable { case minmax, zscore }
    public enum OutputFormat: String, Codable, Sendable { case csv, jsonl }
    public enum MalformedPolicy: String, Codable, Sendable {
        /// Count the record and write it to the task's rejects file; the job goes on.
        case rejectFile = "reject-file"
        /// Fail the task on the first malformed record.
        case fail
    }

    public struct MissingPolicy: Codable, Sendable, Equatable {
        public enum Action: String, Codable, Sendable { case keep, drop, fill }
        public var action: Action = .keep
        /// Columns the action applies to; absent = every selected column.
        public var columns: [String]?
        /// Fill values (as text, cast like any value) for `action: fill`.
        public var fill: [String: String] = [:]
        public init(action: Action = .keep, columns: [String]? = nil, fill: [String: String] = [:]) {
            self.action = action
            self.columns = columns
            self.fill = fill
        }

        enum CodingKeys: String, CodingKey { case action, columns, fill }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            action = try c.decodeIfPresent(Action.self, forKey: .action) ?? .keep
            columns = try c.decodeIfPresent([String].self, forKey: .columns)
            fill = try c.decodeIfPresent([String: String].self, forKey: .fill) ?? [:]
        }
    }

    public struct Predicate: Codable, Sendable, Equatable {
        public enum Op: String, Codable, Sendable { case eq, ne, lt, le, gt, ge, contains }
        public var column: String
        public var op: Op
        /// Compared as a number when both sides are numbers, else as text (UTF-8 byte order).
        public var value: String

        public init(column: String, op: Op, value: String) {
            self.column = column
            self.op = op
            self.value = value
        }

        enum CodingKeys: String, CodingKey { case column, op, value }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            column = try c.decode(String.self, forKey: .column)
            op = try c.decode(Op.self, forKey: .op)
            if let s = try? c.decode(String.self, forKey: .value) {
                value = s
            } else if let i = try? c.decode(Int64.self, forKey: .value) {
                value = String(i)
            } else if let d = try? c.decode(Double.self, forKey: .value) {
                value = String(d)
            } else {
                value = String(try c.decode(Bool.self, forKey: .value))
            }
        }
    }

    public var select: [String]?
    public var rename: [String: String] = [:]
    public var casts: [String: ColumnType] = [:]
    public var missing = MissingPolicy()
    public var trim = false
    public var lowercase: [String] = []
    public var filter: [Predicate] = []
    public var dedupe = false
    public var normalize: [String: Normalization] = [:]
    public var output: OutputFormat?
    public var malformed: MalformedPolicy = .rejectFile
    /// Longest record (CSV) or line (JSONL) accepted; longer ones are malformed.
    public var maxRecordBytes = 1 << 20
    /// Deepest JSON nesting accepted (JSONL only); deeper records are malformed.
    public var maxDepth = 64

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case select, rename, casts, missing, trim, lowercase, filter, dedupe, normalize, output, malformed
        case maxRecordBytes, maxDepth
    }
}
