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
/// `maxRecordBytes` is reported malformed and not buffered past the cap. Memory: one chunk
/// plus one (capped) record. Not Sendable: one owner.
final class CSVRecordReader {
    private let file: ReadableFile
    private let split: InputSplit
    private let chunkBytes: Int
    private let maxRecordBytes: Int
    private var scanner = CSVScanner()
    private var fields: [[UInt8]] = []
    private var field: [UInt8] = []
    private var raw: [UInt8] = []
    private var oversized = false
    private var chunk: [UInt8] = []
    private var index = 0
    private var chunkStart: Int64    // file offset of chunk[0]
    private var finished = false
    /// File offset just after the last record ended (where the next one starts).
    private(set) var recordStart: Int64

    init(split: InputSplit, root: DataRoot?, chunkBytes: Int = 1 << 20, maxRecordBytes: Int = 1 << 20) throws(PreprocessError) {
        precondition(chunkBytes > 0 && maxRecordBytes > 0, "reader sizes must be positive")
        self.split = split
        self.chunkBytes = chunkBytes
        self.maxRecordBytes = maxRecordBytes
        chunkStart = split.start
        recordStart = split.start
        file = try ReadableFile(path: split.path, root: root)
    }

    /// Bytes of the split consumed so far.
    var consumedBytes: Int64 { recordStart - split.start }

    /// The next record, or nil at the end of the split.
    func next() throws(PreprocessError) -> CSVRecord? {
        while true {
            if index == chunk.count {
                chunkStart += Int64(chunk.count)
                chunk.removeAll(keepingCapacity: true)
                index = 0
                if finished { return nil }
                let want = Int(min(Int64(chunkBytes), split.end - chunkStart))
                let n = want > 0 ? try file.read(at: chunkStart, count: want, appendingTo: &chunk) : 0
                if n == 0 {
                    finished = true
                    guard !raw.isEmpty else { return nil }
                    scanner.finish { e in if e != .endRecord { emit(e) } }
                    let start = recordStart
                    recordStart = chunkStart
                    if let r = takeRecord(start: start) { return r }
                    return nil
                }
            }
            let b = chunk[index]
            index += 1
            if raw.count < maxRecordBytes { raw.append(b) } else { oversized = true }
            var ended = false
            scanner.step(b) { e in
                if e == .endRecord { ended = true } else { emit(e) }
            }
            if ended {
                let start = recordStart
                recordStart = chunkStart + Int64(index)
                if let r = takeRecord(start: start) { return r }
            }
        }
    }

    private func emit(_ e: CSVScanner.Event) {
        switch e {
        case .byte(let b): if !oversized { field.append(b) }
        case .endField: fields.append(field); field.removeAll(keepingCapacity: true)
        case .endRecord, .none: break
        }
    }

    /// Builds the record that just ended and resets; nil for an empty line.
    private func takeRecord(start: Int64) -> CSVRecord? {
        defer {
            fields.removeAll(keepingCapacity: true)
            field.removeAll(keepingCapacity: true)
            raw.removeAll(keepingCapacity: true)
            oversized = false
            scanner.clearMalformation()
        }
        if raw == [0x0A] || raw == [0x0D, 0x0A] { return nil }
        fields.append(field)
        var reason = oversized ? "record longer than \(maxRecordBytes) bytes" : scanner.malformation
        var decoded: [String] = []
        decoded.reserveCapacity(fields.count)
        for f in fields {
            guard let s = String(validating: f, as: UTF8.self) else {
                reason = reason ?? "invalid UTF-8"
                break
            }
            decoded.append(s)
        }
        return CSVRecord(fields: decoded, offset: start, raw: raw, malformation: reason)
    }

    /// Calls `body` for each record until it returns false; returns the bytes consumed.
    @discardableResult
    func forEachRecord(_ body: (CSVRecord) throws(PreprocessError) -> Bool) throws(PreprocessError) -> Int64 {
        while let r = try next() {
            if try !body(r) { break }
        }
        return consumedBytes
    }

    /// The header: the first record of the file, and the offset just after it.
    static func readHeader(path: String, root: DataRoot?) throws(PreprocessError) -> (fields: [String], end: Int64) {
        let probe = try ReadableFile(path: path, root: root)
        let reader = try CSVRecordReader(split: InputSplit(path: path, start: 0, end: probe.sizeAtOpen), root: root)
        guard let header = try reader.next() else {
            throw .malformedRecord(path: path, offset: 0, reason: "missing header row")
        }
        if let why = header.malformation { throw .malformedRecord(path: path, offset: 0, reason: "header: " + why) }
        var fields = header.fields
        if let first = fields.first, first.unicodeScalars.first == "\u{FEFF}" {  // a UTF-8 BOM (Excel writes one)
            fields[0] = String(first.unicodeScalars.dropFirst())
        }
        return (fields, reader.recordStart)
    }
}
