/// The input of a cleaning job: CSV with its header row (read once by the planner), or JSONL.
public enum CleanInput: Sendable, Equatable, Codable {
    case csv(header: [String])
    case jsonl

    public var header: [String]? {
        if case .csv(let h) = self { return h }
        return nil
    }
}

/// A batch of raw input (about one chunk), cut by the reading task and cleaned by a child task.
enum RawBatch: Sendable {
    case csv([CSVRecord])
    case jsonl(LineBlock)
}

/// Reads one split of a cleaning input as batches: CSV splits come from `planCSV` (record
/// aligned), JSONL splits from `plan` (the line rule of `SplitReader`). Not Sendable: one owner.
final class CleanBatchSource {
    private let csv: CSVRecordReader?
    private let lines: SplitReader?
    private let batchBytes: Int
    private(set) var bytesIn: Int64 = 0

    init(split: InputSplit, input: CleanInput, spec: CSVCleanSpec, root: DataRoot?, batchBytes: Int) throws(PreprocessError) {
        self.batchBytes = batchBytes
        switch input {
        case .csv:
            csv = try CSVRecordReader(split: split, root: root, chunkBytes: batchBytes, maxRecordBytes: spec.maxRecordBytes)
            lines = nil
        case .jsonl:
            csv = nil
            lines = try SplitReader(split: split, root: root, chunkBytes: batchBytes, maxLineBytes: spec.maxRecordBytes)
        }
    }

    func next() throws(PreprocessError) -> RawBatch? {
        if let lines {
            guard let block = try lines.nextBlock() else { return nil }
            bytesIn += Int64(block.bytes.count)
            return .jsonl(block)
        }
        guard let csv else { return nil }
        var records: [CSVRecord] = []
        var size = 0
        while size < batchBytes, let r = try csv.next() {
            size += r.raw.count
            records.append(r)
        }
        bytesIn = csv.consumedBytes
        return records.isEmpty ? nil : .csv(records)
    }
}
