import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct SplitReaderTests {
    /// Reads every split of `path` and returns the lines in order.
    func linesViaSplits(_ path: String, size: Int64, splitBytes: Int64, chunkBytes: Int) throws -> [[UInt8]] {
        let splits = try SplitPlanner.plan(files: [.init(path: path, bytes: size)], targetBytes: splitBytes)
        var lines: [[UInt8]] = []
        for s in splits {
            let reader = try SplitReader(split: s, chunkBytes: chunkBytes)
            while let block = try reader.nextBlock() {
                block.forEachLine { line, _ in lines.append(Array(line)) }
            }
        }
        return lines
    }

    /// The reference: split on \n, drop one \r before it, no empty last line after a final \n.
    func referenceLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var parts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if bytes.last == 0x0A || bytes.isEmpty { parts.removeLast() }
        let lastIsOpen = bytes.last != 0x0A
        return parts.enumerated().map { i, p in
            (p.last == 0x0D && !(lastIsOpen && i == parts.count - 1)) ? Array(p.dropLast()) : p
        }
    }

    func randomFile(_ rng: inout SeededRandom) -> [UInt8] {
        let alphabet: [UInt8] = Array("ab c'".utf8) + [0x0A, 0x0A, 0x0D, 0xC3, 0xA9]
        let n = Int.random(in: 0...400, using: &rng)
        var bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng) ?? 0x61 }
        if Bool.random(using: &rng) { bytes += [0x0D, 0x0A] }
        return bytes
    }

    @Test(arguments: 0..<40)
    func everyLineReadExactlyOnce(seed: Int) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var rng = SeededRandom(seed: UInt64(seed))
        let bytes = randomFile(&rng)
        let path = try dir.write("f.txt", bytes)
        let expected = referenceLines(bytes)
        for splitBytes in [1, 2, 3, 7, Int64.random(in: 1...64, using: &rng), 1 << 20] as [Int64] {
            let chunk = [1, 3, 16, 1 << 20].randomElement(using: &rng) ?? 16
            let got = try linesViaSplits(path, size: Int64(bytes.count), splitBytes: splitBytes, chunkBytes: chunk)
            #expect(got == expected, "seed \(seed) split \(splitBytes) chunk \(chunk)")
        }
    }

    @Test func crlfAndEmptyLines() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let text = "one\r\n\r\ntwo\n\nthree\r\nlast"
        let path = try dir.write("f.txt", text)
        let got = try linesViaSplits(path, size: Int64(text.utf8.count), splitBytes: 4, chunkBytes: 2)
        #expect(got.map { String(decoding: $0, as: UTF8.self) } == ["one", "", "two", "", "three", "last"])
    }

    @Test func oversizedLinesAreSkippedAndReported() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let text = "short\n" + String(repeating: "x", count: 100) + "\nafter\n"
        let path = try dir.write("f.txt", text)
        let reader = try SplitReader(split: InputSplit(path: path, start: 0, end: Int64(text.utf8.count)),
                                     chunkBytes: 8, maxLineBytes: 20)
        var lines: [String] = []
        var oversized: [Int64] = []
        while let block = try reader.nextBlock() {
            oversized += block.oversizedLineOffsets
            block.forEachLine { line, _ in lines.append(String(decoding: line, as: UTF8.self)) }
        }
        #expect(lines == ["short", "after"])
        #expect(oversized == [6])
    }

    @Test func plannerRejectsBadTargets() throws {
        #expect(throws: PreprocessError.self) { try SplitPlanner.plan(files: [], targetBytes: 0) }
        #expect(try SplitPlanner.plan(files: [.init(path: "e", bytes: 0)], targetBytes: 10).isEmpty)
        #expect(try SplitPlanner.plan(files: [.init(path: "a", bytes: 25)], targetBytes: 10)
            == [InputSplit(path: "a", start: 0, end: 10), InputSplit(path: "a", start: 10, end: 20),
                InputSplit(path: "a", start: 20, end: 25)])
    }
}
