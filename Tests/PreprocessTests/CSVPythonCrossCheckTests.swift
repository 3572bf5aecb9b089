import Foundation
import Testing
@testable import Preprocess
import TestSupport

/// Our RFC 4180 reader against CPython's `csv` module on well-formed input (the two differ on
/// malformed input by design: Python is lenient, we reject).
@Suite(.ownThreads) struct CSVPythonCrossCheckTests {
    @Test(.enabled(if: Python.executable != nil, "python3 is not on PATH"))
    func recordsEqualPythonCSV() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var rng = SeededRandom(seed: 4180)
        let pieces = ["plain", "with space", "com,ma", "new\nline", "cr\r\nlf", "\"quoted\"", "", "\u{E9}t\u{E9}", "\u{6F22}",
                      "trailing ", " leading", "'apos'", "tab\there"]
        var text = ""
        for _ in 0..<500 {
            let n = Int.random(in: 1...5, using: &rng)
            let row = (0..<n).map { _ in pieces.randomElement(using: &rng) ?? "" }
            if row.allSatisfy(\.isEmpty) { continue }  // we skip empty lines, Python yields []
            text += String(decoding: CleanTransform.csvLine(row), as: UTF8.self) + (Bool.random(using: &rng) ? "\n" : "\r\n")
        }
        let path = try dir.write("f.csv", text)
        let script = """
            import csv, json, sys
            with open(sys.argv[1], encoding="utf-8", newline="") as f:
                json.dump([[list(c.encode("utf-8")) for c in row] for row in csv.reader(f)], sys.stdout)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Python.executable ?? "/usr/bin/python3")
        p.arguments = ["-c", script, path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let python = ((try JSONSerialization.jsonObject(with: data) as? [[[Int]]]) ?? [])
            .map { $0.map { String(decoding: $0.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self) } }
        let reader = try CSVRecordReader(split: InputSplit(path: path, start: 0, end: Int64(text.utf8.count)), root: nil,
                                         chunkBytes: 100)
        var ours: [[String]] = []
        try reader.forEachRecord { r in
            #expect(r.malformation == nil)
            ours.append(r.fields)
            return true
        }
        #expect(ours.count == python.count)
        #expect(ours == python)
    }
}
