/// The input of a cleaning job: CSV with its header row (read once by the planner), or JSONL.
public enum CleanInput: Sendable, Equatable, Codable {
    case csv(header: [String])
    case jsonl

    var header: [String]? {
        if case .csv(let h) = self { return h }
        return nil
    }
}

/// One input record as the cleaning tasks see it.
enum SourceItem {
    case row(CleanRow, offset: Int64, raw: [UInt8])
    case malformed(offset: Int64, raw: [UInt8], reason: String)
}

/// Reads the records of one split of a cleaning input: CSV splits come from `planCSV` (record
/// aligned); JSONL splits from `plan` (line rule of `SplitReader`). Returns records and bytes in.
enum CleanSource {
    static func forEach(split: InputSplit, input: CleanInput, spec: CSVCleanSpec, root: DataRoot?,
                        _ body: (SourceItem) throws(PreprocessError) -> Void) throws(PreprocessError) -> (records: Int, bytes: Int64) {
        var records = 0
        switch input {
        case .csv(let header):
            let reader = try CSVRecordReader(split: split, root: root, maxRecordBytes: spec.maxRecordBytes)
            let bytes = try reader.forEachRecord { (r) throws(PreprocessError) in
                records += 1
                if let why = r.malformation {
                    try body(.malformed(offset: r.offset, raw: r.raw, reason: why))
                } else if r.fields.count != header.count {
                    try body(.malformed(offset: r.offset, raw: r.raw,
                                        reason: "expected \(header.count) fields, got \(r.fields.count)"))
                } else {
                    try body(.row(CleanRow(names: header, values: r.fields.map(CleanValue.string)), offset: r.offset, raw: r.raw))
                }
                return true
            }
            return (records, bytes)
        case .jsonl:
            let reader = try SplitReader(split: split, root: root, maxLineBytes: spec.maxRecordBytes)
            var bytes: Int64 = 0
            while let block = try reader.nextBlock() {
                bytes += Int64(block.bytes.count)
                for off in block.oversizedLineOffsets {
                    records += 1
                    try body(.malformed(offset: off, raw: [], reason: "line longer than \(spec.maxRecordBytes) bytes"))
                }
                var items: [SourceItem] = []
                block.forEachLine { line, offset in
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank line
                    records += 1
                    if line.count > spec.maxRecordBytes {
                        items.append(.malformed(offset: offset, raw: [], reason: "line longer than \(spec.maxRecordBytes) bytes"))
                        return
                    }
                    switch JSONLRecordParser.parse(line, maxDepth: spec.maxDepth) {
                    case .success(let row): items.append(.row(row, offset: offset, raw: Array(line)))
                    case .failure(let f): items.append(.malformed(offset: offset, raw: Array(line), reason: f.reason))
                    }
                }
                for item in items { try body(item) }
            }
            return (records, bytes)
        }
    }
}
