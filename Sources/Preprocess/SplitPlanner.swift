/// A byte range `[start, end)` of one input file, the unit of one map task.
public struct InputSplit: Sendable, Codable, Equatable, Hashable {
    public var path: String
    public var start: Int64
    public var end: Int64

    public init(path: String, start: Int64, end: Int64) {
        precondition(start >= 0 && start <= end, "split range must be ordered")
        self.path = path
        self.start = start
        self.end = end
    }
}

/// Cuts inputs into splits of about `targetBytes`.
///
/// Line-oriented inputs (text, JSONL) are cut at plain byte offsets: `SplitReader` then applies
/// the Hadoop TextInputFormat rule (a line belongs to the split holding its first byte), so no
/// line is lost or read twice at an edge. CSV cannot use that rule, because a quoted field may
/// hold newlines: see `planCSV` (SplitPlanner+CSV.swift).
public enum SplitPlanner {
    /// One entry per input file: its path and size.
    public struct FileSize: Sendable, Equatable {
        public var path: String
        public var bytes: Int64
        public init(path: String, bytes: Int64) {
            self.path = path
            self.bytes = bytes
        }
    }

    /// Splits of at most `targetBytes` each, in file order. Empty files give no split.
    public static func plan(files: [FileSize], targetBytes: Int64) throws(PreprocessError) -> [InputSplit] {
        guard targetBytes > 0 else {
            throw .invalidParameter(field: "targetSplitBytes", reason: "must be positive, got \(targetBytes)")
        }
        var splits: [InputSplit] = []
        for f in files {
            guard f.bytes >= 0 else {
                throw .invalidParameter(field: "size", reason: "negative size for \(f.path)")
            }
            var start: Int64 = 0
            while start < f.bytes {
                let end = min(f.bytes, start + targetBytes)
                splits.append(InputSplit(path: f.path, start: start, end: end))
                start = end
            }
        }
        return splits
    }
}
