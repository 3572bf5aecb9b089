import Testing
@testable import Preprocess
import TestSupport

/// `CSVScanner.seekRecordEnd` (the split planner's memchr skipping) finds exactly the record
/// ends that stepping the machine byte by byte reports, on any bytes and any chunking.
@Suite(.ownThreads) struct CSVSeekTests {
    /// Offsets just after each `.endRecord`, stepping one byte at a time.
    static func steppedEnds(_ bytes: [UInt8]) -> [Int] {
        var scanner = CSVScanner()
        var ends: [Int] = []
        for (i, b) in bytes.enumerated() {
            scanner.step(b) { if $0 == .endRecord { ends.append(i + 1) } }
        }
        return ends
    }

    /// The same, seeking over the bytes cut into chunks of `chunk` (the state crosses chunks).
    static func soughtEnds(_ bytes: [UInt8], chunk: Int) -> [Int] {
        var scanner = CSVScanner()
        var ends: [Int] = []
        var offset = 0
        while offset < bytes.count {
            let piece = Array(bytes[offset..<min(offset + chunk, bytes.count)])
            piece.withUnsafeBufferPointer { buffer in
                var i = 0
                while let end = scanner.seekRecordEnd(buffer, from: i) {
                    ends.append(offset + end)
                    i = end
                }
            }
            offset += piece.count
        }
        return ends
    }

    @Test func randomBytesOverTheSignificantAlphabet() {
        var rng = SeededRandom(seed: 4_181)
        let alphabet: [UInt8] = Array("a,\"\n\r".utf8)
        var compared = 0
        for _ in 0..<4_000 {
            let bytes = (0..<Int.random(in: 0...48, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? 0x61 }
            let expected = Self.steppedEnds(bytes)
            for chunk in [1, 2, Int.random(in: 3...9, using: &rng), 64] {
                let got = Self.soughtEnds(bytes, chunk: chunk)
                #expect(got == expected, "bytes \(String(decoding: bytes, as: UTF8.self).debugDescription) chunk \(chunk)")
                compared += 1
            }
        }
        #expect(compared == 16_000)
    }

    @Test(arguments: [
        ("a,b\nc,d\n", [4, 8]),
        ("\"x\ny\",z\nw\n", [8, 10]),            // newline inside quotes is data
        ("a\"b\nc\n", [4, 6]),                    // a quote inside an unquoted field opens nothing
        ("a,\"\"\"\n\"\nb\n", [8, 10]),           // escaped quote, then the closing one
        ("a\r\nb\r\n", [3, 6]),
        ("\"a\"x\ny\n", [5, 7]),                  // text after a closing quote: record still ends
        ("\r\"a\nb\"\n", [4, 7]),                 // after a lone \r the quote is data
        ("\"open\nnever closed\n", []),
    ])
    func handPickedCases(text: String, ends: [Int]) {
        let bytes = Array(text.utf8)
        #expect(Self.steppedEnds(bytes) == ends)
        for chunk in 1...bytes.count + 1 {
            #expect(Self.soughtEnds(bytes, chunk: chunk) == ends, "chunk \(chunk)")
        }
    }
}
