/// One CSV record as read: decoded fields, the file offset of its first byte, its raw bytes
/// (for the rejects file; capped) and, if malformed, why.
public struct CSVRecord: Sendable, Equatable {
    public var fields: [String]
    public var offset: Int64
    public var raw: [UInt8]
    public var malformation: String?
}

/// Reads the records of a CSV split whose edges are record boundaries (as `planCSV` makes
/// them): `[start, end)` holds whole records only. Empty lines are skipped. A record over
/// `maxRecordBytes` is reported malformed and not buffered past the cap.
final class CSVRecordReader {
    private let file: ReadableFile
    private let split: InputSplit
    private let chunkBytes: Int
    private let maxRecordBytes: Int

    init(split: InputSplit, root: DataRoot?, chunkBytes: Int = 1 << 20, maxRecordBytes: Int = 1 << 20) throws(PreprocessError) {
        self.split = split
        self.chunkBytes = chunkBytes
        self.maxRecordBytes = maxRecordBytes
        file = try ReadableFile(path: split.path, root: root)
    }

    /// Calls `body` for each record; returns the bytes consumed. `body` returns false to stop.
    @discardableResult
    func forEachRecord(_ body: (CSVRecord) throws(PreprocessError) -> Bool) throws(PreprocessError) -> Int64 {
        var scanner = CSVScanner()
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var raw: [UInt8] = []
        var recordStart = split.start
        var oversized = false
        var pos = split.start
        var chunk: [UInt8] = []
        var stop = false
        func emit(_ e: CSVScanner.Event) {
            switch e {
            case .byte(let b): if !oversized { field.append(b) }
            case .endField: fields.append(field); field.removeAll(keepingCapacity: true)
            case .endRecord, .none: break
            }
        }
        func endRecord() throws(PreprocessError) {
            defer {
                fields.removeAll(keepingCapacity: true); field.removeAll(keepingCapacity: true)
                raw.removeAll(keepingCapacity: true); oversized = false; scanner.clearMalformation()
            }
            if raw.isEmpty || raw == [0x0A] || raw == [0x0D, 0x0A] { return }  // empty line
            fields.append(field)
            var reason = oversized ? "record longer than \(maxRecordBytes) bytes" : scanner.malformation
            var decoded: [String] = []
            decoded.reserveCapacity(fields.count)
            for f in fields {
                guard let s = String(validating: f, as: UTF8.self) else { reason = reason ?? "invalid UTF-8"; break }
                decoded.append(s)
            }
            let record = CSVRecord(fields: decoded, offset: recordStart, raw: raw, malformation: reason)
            if try !body(record) { stop = true }
        }
        while pos < split.end && !stop {
            chunk.removeAll(keepingCapacity: true)
            let n = try file.read(at: pos, count: Int(min(Int64(chunkBytes), split.end - pos)), appendingTo: &chunk)
            if n == 0 { break }
            for (i, b) in chunk.enumerated() {
                if raw.count < maxRecordBytes { raw.append(b) } else { oversized = true }
                var ended = false
                scanner.step(b) { e in
                    if e == .endRecord { ended = true } else { emit(e) }
                }
                if ended {
                    try endRecord()
                    recordStart = pos + Int64(i) + 1
                    if stop { return recordStart - split.start }
                }
            }
            pos += Int64(n)
        }
        if !raw.isEmpty && !stop {
            scanner.finish { e in if e != .endRecord { emit(e) } }
            try endRecord()
        }
        return pos - split.start
    }

    /// The header: the first record of the file, and the offset just after it.
    static func readHeader(path: String, root: DataRoot?) throws(PreprocessError) -> (fields: [String], end: Int64) {
        let probe = try ReadableFile(path: path, root: root)
        let reader = try CSVRecordReader(split: InputSplit(path: path, start: 0, end: probe.sizeAtOpen), root: root)
        var header: CSVRecord?
        let consumed = try reader.forEachRecord { r in header = r; return false }
        guard let header else { throw .malformedRecord(path: path, offset: 0, reason: "missing header row") }
        if let why = header.malformation { throw .malformedRecord(path: path, offset: 0, reason: "header: " + why) }
        return (header.fields, consumed)
    }
}
