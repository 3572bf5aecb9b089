/// Splits one line into words, over its UTF-8 bytes.
///
/// - `beam`: Apache Beam's Python WordCount, `re.findall(r"[\w']+", line)`: maximal runs of
///   Python-`\w` scalars and apostrophes (`'` U+0027 only). See `PythonWord` for what `\w`
///   means here (Python 3 `str.isalnum()` or `_`, per Unicode scalar).
/// - `template`: the Dataflow `Word_Count` template, `line.split("[^a-zA-Z']+")` with empty
///   tokens dropped: maximal runs of ASCII letters and apostrophes.
///
/// Invalid UTF-8 (Python would fail to decode the file and the Beam job would fail): each
/// maximal invalid sequence is treated as U+FFFD, which is not a word character, so it splits
/// tokens; the tokenizer reports the line as malformed and callers count it. Tokens are
/// therefore always valid UTF-8 byte ranges of the input line.
///
/// One scanner (`WordTokenizer+Scan.swift`) serves a single line and a whole block of lines:
/// neither rule counts `\n` or `\r` as a word character, so no token crosses a line end.
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
        var malformed = false
        let lastMalformed = scan(line, token: { start, end in
            body(UnsafeBufferPointer(rebasing: line[start..<end]))
        }, lineEnd: { malformed = malformed || $0 })
        return !(malformed || lastMalformed)
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

    /// ASCII word characters of the `beam` rule (`[0-9A-Za-z_']`); also read by `PythonWord`.
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
