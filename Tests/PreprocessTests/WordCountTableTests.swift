import Testing
@testable import Preprocess
import TestSupport

/// The word table against a Dictionary, and the block scanner against the per-line tokenizer
/// driven by `LineBlock.forEachLine` (a separate line splitter).
@Suite(.ownThreads) struct WordCountTableTests {
    /// A deterministic generator (SplitMix64), so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    func counts(_ table: WordCountTable) -> [[UInt8]: Int] {
        var out: [[UInt8]: Int] = [:]
        for e in table.sortedEntries() { out[Array(table.word(e)), default: 0] += e.count }
        return out
    }

    /// Words that share 16-byte prefixes, differ only in length or in a NUL, straddle the
    /// inline size, and a table grown many times; `sortedEntries` is in byte order.
    @Test func tableMatchesDictionary() {
        var words: [[UInt8]] = [[], [0], [0, 0], [0x61], [0x61, 0]]
        for length in 1...40 {
            let base = (0..<length).map { UInt8(0x61 + $0 % 26) }
            words.append(base)
            words.append(base.dropLast() + [0x41])        // differs in the last byte only
            words.append(base + [0])                       // a NUL after the word
            words.append(base.count > 15 ? Array(base[..<15]) + [UInt8(length)] : base + [UInt8(length)])
        }
        var rng = Rng(state: 7)
        for _ in 0..<20_000 { words.append((0..<(1 + rng.below(24))).map { _ in UInt8(0x61 + rng.below(6)) }) }
        var table = WordCountTable(capacity: 4)
        var expected: [[UInt8]: Int] = [:]
        for (i, w) in words.enumerated() {
            let n = 1 + i % 3
            w.withUnsafeBufferPointer { table.add($0, count: n) }
            expected[w, default: 0] += n
        }
        #expect(table.count == expected.count)
        #expect(counts(table) == expected)
        let order = table.sortedEntries().map { Array(table.word($0)) }
        #expect(order == expected.keys.sorted { $0.lexicographicallyPrecedes($1) })
        for e in table.sortedEntries() {
            #expect(e.hash == FNV1a64.hash(table.word(e)))
        }
    }

    @Test func mergeAddsCounts() {
        var rng = Rng(state: 11)
        var a = WordCountTable(), b = WordCountTable(capacity: 2)
        var expected: [[UInt8]: Int] = [:]
        for i in 0..<5_000 {
            let w = (0..<(1 + rng.below(30))).map { _ in UInt8(0x30 + rng.below(5)) }
            w.withUnsafeBufferPointer { p in i % 2 == 0 ? a.add(p) : b.add(p, count: 2) }
            expected[w, default: 0] += i % 2 == 0 ? 1 : 2
        }
        a.merge(b)
        #expect(counts(a) == expected)
    }

    /// Random blocks of ASCII, CR/LF, multi-byte and invalid UTF-8: the one-pass block count
    /// equals tokenizing line by line, for both rules and with tokens at the buffer's end.
    @Test(arguments: [WordTokenizer.Rule.beam, .template])
    func blockScanMatchesLineByLine(rule: WordTokenizer.Rule) {
        let pieces: [[UInt8]] = ["a", "bc", "_", "'", "9", " ", ",", "\n", "\r\n", "\r", "\t",
                                 "\u{E9}", "e\u{301}", "\u{3B1}\u{3B2}", "\u{6F22}", "\u{1F600}", "\u{A0}", "\u{2163}"]
            .map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0]]
        var rng = Rng(state: rule == .beam ? 1 : 2)
        let tokenizer = WordTokenizer(rule: rule)
        for round in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<rng.below(120) { bytes += pieces[rng.below(pieces.count)] }
            if round % 3 == 0 { bytes += Array("longword_over_sixteen_bytes".utf8) }
            var table = WordCountTable(capacity: 8)
            let (lines, malformed) = WordCountLane.count(bytes, tokenizer: tokenizer, into: &table)

            var reference = WordCountTable(capacity: 8)
            var refLines = 0, refMalformed = 0
            LineBlock(bytes: bytes, offset: 0).forEachLine { line, _ in
                refLines += 1
                if !tokenizer.forEachToken(in: line, { reference.add($0) }) { refMalformed += 1 }
            }
            #expect(lines == refLines && malformed == refMalformed, "round \(round): \(bytes)")
            #expect(counts(table) == counts(reference), "round \(round): \(bytes)")
        }
    }
}
