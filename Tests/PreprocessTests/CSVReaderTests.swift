import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct CSVReaderTests {
    /// All records of `text` read as one split (after nothing: header included).
    func records(_ text: String, maxRecordBytes: Int = 1 << 20, chunk: Int = 3) throws -> [CSVRecord] {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("f.csv", text)
        let reader = try CSVRecordReader(split: InputSplit(path: path, start: 0, end: Int64(text.utf8.count)), root: nil,
                                         chunkBytes: chunk, maxRecordBytes: maxRecordBytes)
        var out: [CSVRecord] = []
        try reader.forEachRecord { r in out.append(r); return true }
        return out
    }

    @Test func quotedFieldsWithCommasNewlinesAndQuotes() throws {
        let text = "a,b,c\r\n\"x, y\",\"line1\nline2\",\"say \"\"hi\"\"\"\r\n,,\n\"\",plain,\"\"\"\"\nlast,no,newline"
        let r = try records(text)
        #expect(r.map(\.fields) == [["a", "b", "c"], ["x, y", "line1\nline2", "say \"hi\""], ["", "", ""],
                                    ["", "plain", "\""], ["last", "no", "newline"]])
        #expect(r.allSatisfy { $0.malformation == nil })
        #expect(r.map(\.offset) == [0, 7, 42, 45, 59])
    }

    @Test func emptyLinesAreSkippedAndLoneCRIsData() throws {
        let r = try records("a\n\n\r\nb\rc\n")
        #expect(r.map(\.fields) == [["a"], ["b\rc"]])
    }

    @Test(arguments: [
        ("ab\"c,d\n", "quote inside an unquoted field"),
        ("\"ab\"c,d\n", "text after a closing quote"),
        ("\"never closed,d\nmore\n", "unterminated quoted field"),
    ])
    func malformedRecords(text: String, reason: String) throws {
        let r = try records(text)
        #expect(r.first?.malformation == reason)
    }

    @Test func recordsOverTheCapAreMalformedNotBuffered() throws {
        let long = String(repeating: "z", count: 100)
        let r = try records("ok\n\(long)\nfine\n", maxRecordBytes: 32)
        #expect(r.map(\.malformation) == [nil, "record longer than 32 bytes", nil])
        #expect(r[1].raw.count == 32)
        #expect(r[2].fields == ["fine"])
    }

    @Test func invalidUTF8IsMalformed() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("f.csv", Array("a,b\n".utf8) + [0xFF, 0x2C, 0x62, 0x0A])
        let reader = try CSVRecordReader(split: InputSplit(path: path, start: 0, end: 8), root: nil)
        var out: [CSVRecord] = []
        try reader.forEachRecord { r in out.append(r); return true }
        #expect(out.map(\.malformation) == [nil, "invalid UTF-8"])
    }

    @Test func headerIsReadOnce() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("f.csv", "\"na,me\",age\r\nbob,3\n")
        let (header, end) = try CSVRecordReader.readHeader(path: path, root: nil)
        #expect(header == ["na,me", "age"])
        #expect(end == 13)
        let bom = try dir.write("bom.csv", "\u{FEFF}id,name\n1,x\n")
        #expect(try CSVRecordReader.readHeader(path: bom, root: nil).fields == ["id", "name"])
        let empty = try dir.write("e.csv", "")
        #expect(throws: PreprocessError.malformedRecord(path: empty, offset: 0, reason: "missing header row")) {
            _ = try CSVRecordReader.readHeader(path: empty, root: nil)
        }
    }

    /// Random CSV with quoted newlines, commas and quotes; any target split size (even 1 byte)
    /// yields every data record exactly once, in order.
    @Test(arguments: 0..<25)
    func recordAlignedSplitsReadEveryRecordOnce(seed: Int) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var rng = SeededRandom(seed: UInt64(seed) &+ 1000)
        let pieces = ["a", "b c", "x,y", "line\nbreak", "q\"uote", "", "\u{E9}t\u{E9}", "crlf\r\nin"]
        var expected: [[String]] = []
        var text = "h1,h2,h3\n"
        for _ in 0..<Int.random(in: 0...30, using: &rng) {
            let row = (0..<3).map { _ in pieces.randomElement(using: &rng) ?? "" }
            if row == ["", "", ""] { continue }
            expected.append(row)
            text += String(decoding: CleanTransform.csvLine(row), as: UTF8.self) + (Bool.random(using: &rng) ? "\n" : "\r\n")
        }
        let path = try dir.write("f.csv", text)
        for target in [1, 2, 5, Int64.random(in: 1...80, using: &rng), 1 << 20] as [Int64] {
            var got: [[String]] = []
            for s in try SplitPlanner.planCSV(path: path, targetBytes: target, chunkBytes: 7) {
                let reader = try CSVRecordReader(split: s, root: nil, chunkBytes: 5)
                try reader.forEachRecord { r in
                    #expect(r.malformation == nil)
                    got.append(r.fields)
                    return true
                }
            }
            #expect(got == expected, "seed \(seed) target \(target)")
        }
    }
}
