extension SplitPlanner {
    /// Splits of a CSV file, each made of whole records, after the header.
    ///
    /// Why a sequential scan: a quoted CSV field may hold newlines, so whether a given `\n` ends
    /// a record depends on every quote before it; no rule applied from an arbitrary offset (such
    /// as quote parity from the split start) can know. So the planner reads the file once from
    /// the start with the same `CSVScanner` the reader uses and cuts at the first record end
    /// at or after each `targetBytes`. The scan streams in chunks (memory: one chunk) and jumps
    /// with `memchr` between the bytes that can end a record (`seekRecordEnd`), because it runs
    /// inside `POST /v1/jobs`: stepping a multi-gigabyte file byte by byte outlasted the write
    /// timeout. Every record is then in exactly one split.
    public static func planCSV(path: String, targetBytes: Int64, root: DataRoot? = nil,
                               chunkBytes: Int = 1 << 20) throws(PreprocessError) -> [InputSplit] {
        guard targetBytes > 0 else {
            throw .invalidParameter(field: "targetSplitBytes", reason: "must be positive, got \(targetBytes)")
        }
        let (_, headerEnd) = try CSVRecordReader.readHeader(path: path, root: root)
        let file = try ReadableFile(path: path, root: root)
        let size = file.sizeAtOpen
        var splits: [InputSplit] = []
        var scanner = CSVScanner()
        var splitStart = headerEnd
        var pos = headerEnd
        var chunk: [UInt8] = []
        while pos < size {
            chunk.removeAll(keepingCapacity: true)
            let n = try file.read(at: pos, count: chunkBytes, appendingTo: &chunk)
            if n == 0 { break }
            chunk.withUnsafeBufferPointer { buffer in
                var i = 0
                while let end = scanner.seekRecordEnd(buffer, from: i) {
                    let after = pos + Int64(end)
                    if after - splitStart >= targetBytes {
                        splits.append(InputSplit(path: path, start: splitStart, end: after))
                        splitStart = after
                    }
                    i = end
                }
            }
            pos += Int64(n)
        }
        if splitStart < size { splits.append(InputSplit(path: path, start: splitStart, end: size)) }
        return splits
    }
}
