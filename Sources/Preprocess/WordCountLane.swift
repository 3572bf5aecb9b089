/// One lane of a map task: a word table and line counters that one child task at a time fills.
///
/// `@unchecked Sendable` is safe because of how `WordCountMapper.countBlocks` hands lanes out:
/// a lane is either idle (held only by the reading task) or owned by exactly one child task,
/// which returns it as its result; the reading task touches it again only after receiving it
/// from the task group, which orders the child's writes before the reader's accesses.
final class WordCountLane: @unchecked Sendable {
    var table = WordCountTable(capacity: 1 << 14)
    var lines = 0
    var malformed = 0

    func count(_ block: LineBlock, tokenizer: WordTokenizer) {
        let (l, m) = Self.count(block.bytes, tokenizer: tokenizer, into: &table)
        lines += l
        malformed += m
    }

    /// Tokens handed to the table at once (see `WordCountTable.addBatch`).
    static let batch = 32

    /// Counts the words of whole lines (`bytes`, terminators included) into `table`; returns
    /// the number of lines (as `LineBlock.forEachLine` sees them) and of malformed ones.
    static func count(_ bytes: [UInt8], tokenizer: WordTokenizer,
                      into table: inout WordCountTable) -> (lines: Int, malformed: Int) {
        bytes.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, let lastByte = p.last else { return (0, 0) }
            let n = p.count
            var lines = 0
            var malformed = 0
            let lastMalformed = withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * Self.batch) { spans in
                var k = 0
                let last = tokenizer.scan(p, token: { start, end in
                    spans[2 * k] = start
                    spans[2 * k + 1] = end
                    k += 1
                    if k == Self.batch {
                        table.addBatch(base, readable: n, spans: spans, count: k)
                        k = 0
                    }
                }, lineEnd: { bad in
                    lines += 1
                    if bad { malformed += 1 }
                })
                table.addBatch(base, readable: n, spans: spans, count: k)
                return last
            }
            if lastByte != 0x0A {  // a last line without its `\n` (the file's end)
                lines += 1
                if lastMalformed { malformed += 1 }
            }
            return (lines, malformed)
        }
    }
}
