/// A run of whole lines read from one split, each ending in `\n` except maybe the file's last.
public struct LineBlock: Sendable {
    /// Raw bytes, terminators included.
    public var bytes: [UInt8]
    /// File offset of `bytes[0]`.
    public var offset: Int64
    /// Offsets of lines longer than the reader's `maxLineBytes`, skipped without buffering.
    public var oversizedLineOffsets: [Int64] = []
}

/// Reads the lines of one split, Hadoop TextInputFormat style: a line belongs to the split that
/// holds its first byte. So a reader whose split starts inside a line skips to the next line
/// start, and reads on past `end` to finish the last line that starts before `end`. Every line
/// of a file is read by exactly one split, whatever the split sizes (even 1 byte).
///
/// Memory: one chunk plus the longest line, capped by `maxLineBytes` (a longer line is skipped
/// and reported in `oversizedLineOffsets`). Not Sendable: one owner.
public final class SplitReader {
    public let split: InputSplit
    private let file: ReadableFile
    private let chunkBytes: Int
    private let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var bufferStart: Int64 = 0   // file offset of buffer[0]; always a line start < end
    private var readPos: Int64 = 0       // next file offset to read
    private var scanned = 0              // buffer[..<scanned] holds no newline
    private var done = false
    private var started = false

    public init(split: InputSplit, root: DataRoot? = nil, chunkBytes: Int = 1 << 20,
                maxLineBytes: Int = 64 << 20) throws(PreprocessError) {
        precondition(chunkBytes > 0 && maxLineBytes > 0, "reader sizes must be positive")
        self.split = split
        self.chunkBytes = chunkBytes
        self.maxLineBytes = maxLineBytes
        file = try ReadableFile(path: split.path, root: root)
    }

    /// Finds the first line start at or after `split.start`.
    private func seekFirstLine() throws(PreprocessError) {
        started = true
        if split.start == 0 {
            bufferStart = 0
            readPos = 0
        } else {
            var probe: [UInt8] = []
            var pos = split.start - 1
            while true {
                probe.removeAll(keepingCapacity: true)
                let n = try file.read(at: pos, count: chunkBytes, appendingTo: &probe)
                if n == 0 { done = true; return }  // no line starts in this split
                if let i = probe.firstIndex(of: 0x0A) {
                    bufferStart = pos + Int64(i) + 1
                    break
                }
                pos += Int64(n)
            }
            readPos = bufferStart
        }
        if bufferStart >= split.end { done = true }
    }

    /// The next block of whole lines, or nil when the split is exhausted.
    public func nextBlock() throws(PreprocessError) -> LineBlock? {
        if !started { try seekFirstLine() }
        var oversized: [Int64] = []
        while !done {
            let n = try file.read(at: readPos, count: chunkBytes, appendingTo: &buffer)
            readPos += Int64(n)
            if n == 0 {  // end of file: the rest is the last line, which starts before `end`
                done = true
                if buffer.isEmpty { break }
                return takeBlock(upTo: buffer.count, oversized: oversized)
            }
            // A newline at offset >= end-1 is followed by a line that starts at or after `end`.
            let lastOwnNewline = split.end - 1 - bufferStart
            if let cut = newline(from: max(scanned, Int(max(0, min(lastOwnNewline, Int64(buffer.count)))))),
               Int64(cut) >= lastOwnNewline {
                done = true
                return takeBlock(upTo: cut + 1, oversized: oversized)
            }
            if let last = buffer.lastIndex(of: 0x0A) {
                return takeBlock(upTo: last + 1, oversized: oversized)
            }
            scanned = buffer.count
            if buffer.count > maxLineBytes {
                oversized.append(bufferStart)
                try skipRestOfLine()  // the offset travels with the next block
            }
        }
        return oversized.isEmpty ? nil : LineBlock(bytes: [], offset: bufferStart, oversizedLineOffsets: oversized)
    }

    private func newline(from index: Int) -> Int? {
        guard index < buffer.count else { return nil }
        return buffer[index...].firstIndex(of: 0x0A)
    }

    private func takeBlock(upTo count: Int, oversized: [Int64]) -> LineBlock {
        let block = LineBlock(bytes: Array(buffer[..<count]), offset: bufferStart, oversizedLineOffsets: oversized)
        buffer.removeFirst(count)
        bufferStart += Int64(count)
        scanned = 0
        return block
    }

    /// Drops the buffered start of an oversized line and reads past its newline, keeping
    /// whatever follows it.
    private func skipRestOfLine() throws(PreprocessError) {
        var lineEnd = bufferStart + Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
        while true {
            let n = try file.read(at: readPos, count: chunkBytes, appendingTo: &buffer)
            readPos += Int64(n)
            if n == 0 { done = true; buffer.removeAll(); return }
            if let i = buffer.firstIndex(of: 0x0A) {
                let next = lineEnd + Int64(i) + 1
                buffer.removeFirst(i + 1)
                bufferStart = next
                scanned = 0
                if next >= split.end { done = true; buffer.removeAll() }
                return
            }
            lineEnd += Int64(n)
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
