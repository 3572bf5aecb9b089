/// Intermediate shuffle files: a sequence of records, each a 4-byte little-endian length and
/// that many payload bytes. Written through `AtomicFileWriter` (temp name + rename).
struct SpillWriter {
    let file: AtomicFileWriter
    private(set) var records = 0

    init(path: String, attempt: String, root: DataRoot? = nil) throws(PreprocessError) {
        file = try AtomicFileWriter(finalPath: path, attempt: attempt, root: root)
    }

    mutating func append(_ payload: ArraySlice<UInt8>, prefix: UInt64? = nil) throws(PreprocessError) {
        let extra = prefix == nil ? 0 : 8
        precondition(payload.count + extra <= Int(UInt32.max), "spill record too large")
        var header: [UInt8] = []
        header.reserveCapacity(12)
        let length = UInt32(payload.count + extra)
        for k in 0..<4 { header.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(k)))) }
        if let p = prefix {
            for k in 0..<8 { header.append(UInt8(truncatingIfNeeded: p >> (8 * UInt64(k)))) }
        }
        header.append(contentsOf: payload)
        try file.write(header)
        records += 1
    }
}

/// Streams the records of one spill file in chunks; memory is one chunk plus one record.
struct SpillReader {
    static let maxRecordBytes = 1 << 30

    static func forEachRecord(path: String, root: DataRoot?, chunkBytes: Int = 1 << 20,
                              _ body: (UnsafeBufferPointer<UInt8>) throws(PreprocessError) -> Void)
        throws(PreprocessError) -> Int64 {
        let file = try ReadableFile(path: path, root: root)
        var buffer: [UInt8] = []
        var pos: Int64 = 0         // file offset of buffer[0]
        var readPos: Int64 = 0
        var eof = false
        while true {
            // Parse all complete records in the buffer.
            var i = 0
            var need = 4
            try buffer.withUnsafeBufferPointer { (b) throws(PreprocessError) in
                while b.count - i >= 4 {
                    let len = Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
                    if len > maxRecordBytes { throw .corruptSpill(path: path, offset: pos + Int64(i)) }
                    if b.count - i - 4 < len { need = 4 + len; return }
                    try body(UnsafeBufferPointer(rebasing: b[(i + 4)..<(i + 4 + len)]))
                    i += 4 + len
                }
            }
            buffer.removeFirst(i)
            pos += Int64(i)
            if eof {
                if !buffer.isEmpty { throw .corruptSpill(path: path, offset: pos) }
                return pos
            }
            let n = try file.read(at: readPos, count: max(chunkBytes, need - buffer.count), appendingTo: &buffer)
            readPos += Int64(n)
            if n == 0 { eof = true }
        }
    }
}
