/// Splits one line into words, over its UTF-8 bytes.
///
/// - `beam`: Apache Beam's Python WordCount, `re.findall(r"[\w']+", line)`: maximal runs of
///   Python-`\w` scalars and apostrophes (`'` U+0027 only). See `WordTokenizer+Unicode.swift`
///   for what `\w` means here (Python 3 `str.isalnum()` or `_`, per Unicode scalar).
/// - `template`: the Dataflow `Word_Count` template, `line.split("[^a-zA-Z']+")` with empty
///   tokens dropped: maximal runs of ASCII letters and apostrophes.
///
/// Invalid UTF-8 (Python would fail to decode the file and the Beam job would fail): each
/// maximal invalid sequence is treated as U+FFFD, which is not a word character, so it splits
/// tokens; the tokenizer reports the line as malformed and callers count it. Tokens are
/// therefore always valid UTF-8 byte ranges of the input line.
public struct WordTokenizer: Sendable, Equatable {
    public enum Rule: String, Sendable, Codable, CaseIterable {
        case beam
        case template
    }

    public var rule: Rule

    public init(rule: Rule = .beam) {
        self.rule = rule
    }

    /// Calls `body` with each token of `line` (a line without its terminator), in order.
    /// Returns false when the line is not valid UTF-8.
    @discardableResult
    public func forEachToken(in line: UnsafeBufferPointer<UInt8>,
                             _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        var ascii = true
        for b in line where b >= 0x80 {
            ascii = false
            break
        }
        if ascii || rule == .template {
            let table = rule == .beam ? WordTokenizer.beamASCII : WordTokenizer.templateASCII
            scanASCII(line, table: table, body)
            return ascii || UTF8Scalars.isValid(line)
        }
        return scanUnicode(line, body)
    }

    /// Convenience for tests and small inputs.
    public func tokens(_ line: String) -> [String] {
        var out: [String] = []
        var copy = line
        copy.withUTF8 { p in
            _ = forEachToken(in: p) { out.append(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }

    /// Bytes >= 0x80 are never in the tables, so they split tokens (right for `template`).
    private func scanASCII(_ line: UnsafeBufferPointer<UInt8>, table: [Bool],
                           _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        let n = line.count
        while i < n {
            while i < n && !table[Int(line[i])] { i += 1 }
            let start = i
            while i < n && table[Int(line[i])] { i += 1 }
            if i > start { body(UnsafeBufferPointer(rebasing: line[start..<i])) }
        }
    }

    private func scanUnicode(_ line: UnsafeBufferPointer<UInt8>,
                             _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        var valid = true
        var i = 0
        var tokenStart = -1
        let n = line.count
        while i < n {
            let (scalar, length) = UTF8Scalars.decode(line, at: i)
            let word: Bool
            if let scalar {
                word = scalar.value == 0x27 || PythonWord.isWord(scalar)
            } else {
                valid = false
                word = false
            }
            if word {
                if tokenStart < 0 { tokenStart = i }
            } else if tokenStart >= 0 {
                body(UnsafeBufferPointer(rebasing: line[tokenStart..<i]))
                tokenStart = -1
            }
            i += length
        }
        if tokenStart >= 0 { body(UnsafeBufferPointer(rebasing: line[tokenStart..<n])) }
        return valid
    }

    static let beamASCII: [Bool] = (0..<256).map { b in
        let c = UInt8(b)
        return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == 0x5F || c == 0x27
    }

    static let templateASCII: [Bool] = (0..<256).map { b in
        let c = UInt8(b)
        return (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x27
    }
}
