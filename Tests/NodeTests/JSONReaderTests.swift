import Foundation
import API
import Raft
import Testing
import TestSupport

/// Differential tests of `JSONReader` against Foundation, which stays the reference: whenever
/// `parse` returns a value it must be bit-for-bit what `JSONDecoder` returns, and `isValid` must
/// agree with `JSONSerialization` except where Foundation departs from RFC 8259 (listed below).
///
/// Foundation-vs-RFC 8259 discrepancies found (Swift 6.3 on Linux), all followed the RFC's way:
/// 1. Byte-order mark: Foundation skips a leading UTF-8 BOM (and detects UTF-16/32 by BOM or by
///    NUL-byte patterns, so `[0x00, 0x31]` decodes as `1`). RFC 8259 §8.1: JSON exchanged between
///    systems is UTF-8 and a BOM must not be added; `isValid` rejects both (a raw NUL is never
///    valid UTF-8 JSON).
/// 2. Numbers out of Double range (`1e400`): both Foundation APIs reject them; RFC 8259 §6 allows
///    the syntax (range limits are up to implementations), so `isValid` accepts them.
/// 3. `0e1` (and `-0e1`, `0E+2`, ...): `JSONDecoder` rejects it although it is valid RFC 8259
///    (`JSONSerialization` accepts it). Harmless here: `parse` refuses every exponent anyway.
/// 4. Duplicate keys: `JSONDecoder` keeps the first value, `JSONSerialization` the last; RFC 8259
///    §4 leaves it undefined. `isValid` accepts them, `parse` refuses them.
/// 5. Trailing commas (`[1,]`, `{"a":1,}`): both Foundation APIs accept them; the RFC 8259 grammar
///    does not, so `isValid` and `parse` reject them. (`[,1]`, `[1,,2]` and `{,}` Foundation rejects.)
@Suite(.ownThreads) struct JSONReaderTests {
    // MARK: - (a) hand-written valid documents

    static let valid: [[UInt8]] = [
        b("{}"), b("[]"), b("{ }"), b("[ ]"), b("null"), b("true"), b("false"), b("0"), b("-1"), b("123"),
        b("999999999999999"), b("-999999999999999"), b("100000000000000"), b("-100000000000000"),
        b(#""""#), b(#""abc""#), b(#""\"\\\/\b\f\n\r\t""#), b(#""\u0041\u00e9\u4E2D""#),
        b(#""\uD83D\uDE00""#), b(#""\ud83d\ude00""#), b(#""\uDBFF\uDFFF""#), b(#""\u0000""#),
        b(#""\u001F\u007f""#), b(#""\uFFFF\uFFFE""#), b(#""\u2028\u2029""#), b(#""\\u0041""#),
        b(#""\"\"""#), b(#""\nabc""#), b(#""abc\n""#), b(#""a\\b""#), b(#""/\/""#),
        b("\"é日本😀\""), b("\"e\u{301}\""), b(#""e\u0301""#), b("\"\u{7F}\""),
        [0x22, 0xC2, 0x80, 0x22], [0x22, 0xDF, 0xBF, 0x22], [0x22, 0xE0, 0xA0, 0x80, 0x22],
        [0x22, 0xED, 0x9F, 0xBF, 0x22], [0x22, 0xEE, 0x80, 0x80, 0x22], [0x22, 0xEF, 0xBF, 0xBF, 0x22],
        [0x22, 0xF0, 0x90, 0x80, 0x80, 0x22], [0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22],
        b(#"{"a":1}"#), b(#"{"a":{"b":{"c":[1,2,{"d":null}]}}}"#), b("[[[[[]]]]]"), b("[1,[2,[3,[4]]]]"),
        b("[0,-1,2,-30,400]"), b(" \t\n\r{ \t\"a\" \n: \r[ 1 , 2 ] , \"b\":true\n}\r\n\t "), b(" 1 "),
        b(#"{"":""}"#), b(#"{"key with spaces":"v"}"#), b(#"{"\u0041":1,"\n":2}"#),
        b(#"{"ключ":"значение","😀":"🎉"}"#), b("[true,false,null]"), b(#"{"a":[],"b":{},"c":""}"#),
        b(#"{"a" : 1 , "b" : 2}"#), b(#"{"a":"b","c":"d","e":"f","g":[{"h":-5}]}"#), b(#"[" ", "  x  "]"#),
        b("\"" + String(repeating: "x", count: 500) + #"\t"# + String(repeating: "é", count: 500) + "\""),
        b("[" + (0..<100).map(String.init).joined(separator: ",") + "]"),
        b(#"{"id":"job-1","params":{"n":42,"tags":["a","b"],"on":true,"off":false,"x":null}}"#),
    ]

    @Test func validDocumentsMatchJSONDecoder() {
        #expect(Self.valid.count >= 60)
        for doc in Self.valid {
            expectSameAsFoundation(doc)
            #expect(JSONReader.isValid(doc, maxDepth: 64), "isValid rejects \(show(doc))")
        }
    }

    // MARK: - (b) random documents

    @Test func randomDocumentsMatchJSONDecoder() {
        var generator = DocumentGenerator(seed: 0x5EED_0001)
        var nested = 0
        for _ in 0..<2000 {
            let doc = generator.document()
            expectSameAsFoundation(doc)
            #expect(JSONReader.isValid(doc, maxDepth: 64), "isValid rejects \(show(doc))")
            if generator.deepest >= 6 { nested += 1 }
        }
        #expect(nested > 20, "the generator should reach depth 6 now and then")
    }

    // MARK: - (c) invalid documents

    /// Invalid RFC 8259 that Foundation rejects too.
    static let invalid: [[UInt8]] = [
        b(""), b(" "), b("\n\t"), b("{"), b("["), b("}"), b("]"), b(#"{"a""#), b(#"{"a":"#), b(#"{"a":1"#),
        b("[1,"), b("[1"), b(#""abc"#), b(#""abc\"#), b(#""\u12"#), b("[,1]"), b("[1,,2]"),
        b("{,}"), b("1 2"), b("{}x"), b("[]]"), b("{}}"), b("'a'"), b("{'a':1}"), b("01"), b("-01"), b("+1"),
        b(".5"), b("1."), b("1e"), b("1e+"), b("-"), b("--1"), b("NaN"), b("Infinity"), b("-Infinity"),
        b("tru"), b("nul"), b("True"), b("nulll"), b("[1 2]"), b(#"{"a" 1}"#), b("{1:2}"), b(#"{"a":1 "b":2}"#),
        b("/*c*/1"), b(#"{"a":1}{"b":2}"#), b(#""a" "b""#), b(#"[1,,]"#), b("{,}"), b("[,]"), b("\u{0C}1"), b("1\u{0B}"),
        b("1\u{A0}"), b(#""\ud800""#), b(#""\udc00""#), b(#""\ud800\u0041""#), b(#""\ud800x""#),
        b(#""\udc00\ud800""#), b(#""\ud800\ud800""#), b(#""\x""#), b(#""\U0041""#), b(#""\u00G0""#),
        b("\"a\u{1}b\""), b("\"a\tb\""), b("\"a\nb\""), b("{\"\u{1F}\":1}"),
        [0x22, 0xC3, 0x22], [0x22, 0xFF, 0x22], [0xFF], [0x22, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
        [0x22, 0xC1, 0xBF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22],
        [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        [0x22, 0xF0, 0x9F, 0x98, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x5B, 0x31, 0x2C, 0x00, 0x5D],
    ]

    /// Invalid RFC 8259 that Foundation accepts (discrepancies 1 and 5 at the top).
    static let invalidButFoundationAccepts: [[UInt8]] = [
        [0xEF, 0xBB, 0xBF] + b("{}"), [0xEF, 0xBB, 0xBF] + b("1"), [0x00, 0x31], [0x31, 0x00],
        b(#"{"a":1,}"#), b("[1,]"), b(#"["a" , ]"#), b(#"{"a":[{},]}"#),  // trailing commas
    ]

    @Test func invalidDocumentsAreRejected() {
        #expect(Self.invalid.count >= 60)
        for doc in Self.invalid + Self.invalidButFoundationAccepts {
            #expect(JSONReader.parse(doc, maxDepth: 64) == nil, "parse accepts \(show(doc))")
            #expect(!JSONReader.isValid(doc, maxDepth: 64), "isValid accepts \(show(doc))")
        }
        // Guards the lists themselves (and notices if Foundation changes).
        for doc in Self.invalid { #expect(foundationDecode(doc) == nil, "JSONDecoder accepts \(show(doc))") }
        for doc in Self.invalidButFoundationAccepts { #expect(foundationDecode(doc) != nil, "\(show(doc))") }
    }

    @Test func depthLimit() {
        for maxDepth in [0, 1, 2, 5, 64] {
            for doc in [arrays(maxDepth), objects(maxDepth)] {
                expectSameAsFoundation(doc, maxDepth: maxDepth)
                #expect(JSONReader.isValid(doc, maxDepth: maxDepth))
            }
            for doc in [arrays(maxDepth + 1), objects(maxDepth + 1)] {
                #expect(JSONReader.parse(doc, maxDepth: maxDepth) == nil, "depth \(maxDepth + 1) accepted")
                #expect(!JSONReader.isValid(doc, maxDepth: maxDepth), "depth \(maxDepth + 1) valid")
            }
        }
        #expect(JSONReader.parse(b("1"), maxDepth: -1) == .number(1))
        #expect(JSONReader.parse(b("[]"), maxDepth: -1) == nil)
        // Foundation stops at 512, so parse does too whatever maxDepth says; isValid does not.
        expectSameAsFoundation(arrays(512), maxDepth: 10_000)
        #expect(foundationDecode(arrays(513)) == nil)
        #expect(JSONReader.parse(arrays(513), maxDepth: 10_000) == nil)
        #expect(JSONReader.isValid(arrays(513), maxDepth: 10_000))
        // Hostile nesting is refused without deep recursion.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(JSONReader.parse(hostile, maxDepth: 64) == nil)
        #expect(!JSONReader.isValid(hostile, maxDepth: 64))
    }

    /// Reads stop at the end of the buffer even when the bytes after it would complete the token.
    @Test func bufferBoundsAreRespected() {
        let cases: [(String, Int, JSONValue?)] = [
            ("[1,2]xyz", 5, .array([.number(1), .number(2)])), (#""abc""#, 4, nil), ("true", 3, nil),
            (#""\u0041""#, 6, nil), (#""\ud83d\ude00""#, 13, nil), ("12345", 3, .number(123)),
            ("{}", 0, nil), (" [] ", 3, .array([])),
        ]
        #expect(JSONReader.parse(UnsafeRawBufferPointer(start: nil, count: 0), maxDepth: 8) == nil)
        #expect(!JSONReader.isValid(UnsafeRawBufferPointer(start: nil, count: 0), maxDepth: 8))
        for (text, count, expected) in cases {
            let bytes = b(text)
            bytes.withUnsafeBytes { buffer in
                let slice = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                #expect(JSONReader.parse(slice, maxDepth: 8) == expected, "\(text) cut at \(count)")
                #expect(JSONReader.isValid(slice, maxDepth: 8) == (expected != nil), "\(text) cut at \(count)")
            }
        }
        // The same bytes later in a buffer (non-zero base offset).
        let padded = b("xx{\"a\":[1]}xx")
        padded.withUnsafeBytes { buffer in
            let slice = UnsafeRawBufferPointer(rebasing: buffer[2..<11])
            #expect(JSONReader.parse(slice, maxDepth: 8) == .object(["a": .array([.number(1)])]))
        }
    }

    // MARK: - (d) valid but outside the fast subset

    static let outsideSubset: [[UInt8]] = [
        b("1.5"), b("1e3"), b("1E+2"), b("2e-3"), b("-0"), b("-0.0"), b("0.0"), b("[1.0]"), b(#"{"x":[1e-5]}"#),
        b("1234567890123456"), b("-1234567890123456"), b("9007199254740993"), b("12345678901234567890"),
        b("0e1"), b("1e400"), b(#"{"a":1,"a":2}"#), b(#"{"a":1,"b":{"c":1,"c":1}}"#), b(#"{"a":1,"\u0061":2}"#),
        b("{\"é\":1,\"e\\u0301\":2}"),  // distinct bytes, but equal Swift strings: one dictionary key
        b(#"[{"a":{},"a":[]}]"#),
    ]

    @Test func validDocumentsOutsideTheSubsetAreRefused() {
        for doc in Self.outsideSubset {
            #expect(JSONReader.parse(doc, maxDepth: 64) == nil, "parse accepts \(show(doc))")
            #expect(JSONReader.isValid(doc, maxDepth: 64), "isValid rejects \(show(doc))")
        }
    }

    // MARK: - (e) isValid vs JSONSerialization, and parse safety on mutated input

    @Test func isValidAgreesWithJSONSerialization() {
        var generator = DocumentGenerator(seed: 0x5EED_0002)
        var corpus = (0..<2000).map { _ in generator.document() }
        corpus += corpus.map { generator.mutate($0) }
        corpus += Self.valid + Self.invalid + Self.invalidButFoundationAccepts + Self.outsideSubset
        var compared = (valid: 0, invalid: 0), excluded: [String] = []
        for doc in corpus {
            let valid = JSONReader.isValid(doc, maxDepth: 512)
            let foundation = foundationAccepts(doc)
            if let parsed = JSONReader.parse(doc, maxDepth: 64) {
                // The safety property: any value parse returns is exactly JSONDecoder's.
                #expect(foundationDecode(doc).map { identical($0, parsed) } == true, "parse differs on \(show(doc))")
                #expect(valid, "parse accepts what isValid rejects: \(show(doc))")
            }
            if valid != foundation, let reason = Self.knownDiscrepancy(doc) {
                excluded.append(reason)
                continue
            }
            #expect(valid == foundation, "isValid \(valid), JSONSerialization \(foundation): \(show(doc))")
            if valid { compared.valid += 1 } else { compared.invalid += 1 }
        }
        #expect(compared.valid > 2000 && compared.invalid > 1000, "\(compared)")
        #expect(excluded.count < 40, "\(excluded)")
    }

    /// The documented Foundation-vs-RFC cases (see top); nil for anything else.
    static func knownDiscrepancy(_ doc: [UInt8]) -> String? {
        if doc.contains(0) || doc.starts(with: [0xEF, 0xBB, 0xBF]) || doc.starts(with: [0xFE, 0xFF])
            || doc.starts(with: [0xFF, 0xFE]) {
            return "encoding detection"
        }
        let text = String(decoding: doc, as: UTF8.self)
        let numbers = text.matches(of: /-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+/).map { String($0.output.0) }
        if numbers.contains(where: { Double($0).map { !$0.isFinite } ?? false }) { return "out of range" }
        if text.contains(/,[ \t\n\r]*[\]}]/) { return "trailing comma" }
        return nil
    }
}

// MARK: - Helpers

private func b(_ text: String) -> [UInt8] { Array(text.utf8) }

private func arrays(_ depth: Int) -> [UInt8] {
    depth == 0 ? b("0") : b(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
}

private func objects(_ depth: Int) -> [UInt8] {
    depth == 0 ? b("0") : b(String(repeating: #"{"k":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1))
}

private func foundationDecode(_ doc: [UInt8]) -> JSONValue? {
    try? JSONDecoder().decode(JSONValue.self, from: Data(doc))
}

private func foundationAccepts(_ doc: [UInt8]) -> Bool {
    (try? JSONSerialization.jsonObject(with: Data(doc), options: [.fragmentsAllowed])) != nil
}

/// Readable form of a document for failure messages.
private func show(_ doc: [UInt8]) -> String {
    let text = String(decoding: doc.prefix(300), as: UTF8.self).debugDescription
    return doc.allSatisfy({ $0 >= 0x20 && $0 < 0x80 }) ? text : "\(text) \(doc.prefix(40).map { String($0, radix: 16) })"
}

/// Asserts that Foundation decodes `doc` and that `parse` returns exactly the same value.
private func expectSameAsFoundation(_ doc: [UInt8], maxDepth: Int = 64, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let expected = foundationDecode(doc) else {
        Issue.record("JSONDecoder rejects \(show(doc))", sourceLocation: sourceLocation)
        return
    }
    guard let actual = JSONReader.parse(doc, maxDepth: maxDepth) else {
        Issue.record("parse refuses \(show(doc))", sourceLocation: sourceLocation)
        return
    }
    #expect(identical(actual, expected), "parse differs on \(show(doc))", sourceLocation: sourceLocation)
}

/// Bit-exact equality: `==` would let canonically equivalent strings and -0/0 pass as equal.
private func identical(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case let (.bool(left), .bool(right)): return left == right
    case let (.number(left), .number(right)): return left.bitPattern == right.bitPattern
    case let (.string(left), .string(right)): return left.utf8.elementsEqual(right.utf8)
    case let (.array(left), .array(right)): return left.count == right.count && zip(left, right).allSatisfy(identical)
    case let (.object(left), .object(right)):
        return left.count == right.count && left.allSatisfy { key, value in
            guard let index = right.index(forKey: key) else { return false }
            return right[index].key.utf8.elementsEqual(key.utf8) && identical(value, right[index].value)
        }
    default: return false
    }
}


/// Random valid JSON text in the fast subset: nesting up to 6, unique keys, ints of up to 15 digits,
/// strings mixing ASCII, escapes, surrogate pairs, raw non-ASCII, emoji and combining marks.
private struct DocumentGenerator {
    var rng: SplitMix64
    /// Deepest container nesting of the last document.
    var deepest = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// (JSON text, decoded text) pieces of strings.
    static let pieces: [(String, String)] = [
        ("a", "a"), ("Z", "Z"), (" ", " "), ("é", "é"), ("日本", "日本"), ("😀", "😀"), ("👩‍💻", "👩‍💻"),
        ("e\u{301}", "e\u{301}"), (#"\n"#, "\n"), (#"\""#, "\""), (#"\\"#, "\\"), (#"\/"#, "/"), (#"\b"#, "\u{8}"),
        (#"\f"#, "\u{C}"), (#"\r"#, "\r"), (#"\t"#, "\t"), (#"\u00e9"#, "é"), (#"\u0301"#, "\u{301}"),
        (#"\uD83D\uDE00"#, "😀"), (#"\ud83c\udf89"#, "🎉"), (#"\u0000"#, "\0"), (#"\u001f"#, "\u{1F}"),
        (#"\u4E2D"#, "中"), ("\u{7F}", "\u{7F}"), ("\u{10FFFF}", "\u{10FFFF}"), ("/", "/"), ("0", "0"),
    ]

    mutating func document() -> [UInt8] {
        deepest = 0
        var out = ""
        whitespace(&out)
        if rng.below(10) < 7 { object(depth: 1, into: &out) } else { value(depth: 0, into: &out) }
        whitespace(&out)
        return b(out)
    }

    mutating func value(depth: Int, into out: inout String) {
        switch rng.below(depth < 6 ? 12 : 8) {
        case 0: out += "null"
        case 1: out += "true"
        case 2: out += "false"
        case 3, 4: integer(into: &out)
        case 5, 6, 7: _ = string(into: &out)
        case 8, 9: array(depth: depth + 1, into: &out)
        default: object(depth: depth + 1, into: &out)
        }
    }

    mutating func array(depth: Int, into out: inout String) {
        deepest = max(deepest, depth)
        out += "["
        for index in 0..<rng.below(5) {
            if index > 0 { out += "," }
            whitespace(&out)
            value(depth: depth, into: &out)
            whitespace(&out)
        }
        out += "]"
    }

    mutating func object(depth: Int, into out: inout String) {
        deepest = max(deepest, depth)
        out += "{"
        whitespace(&out)
        var keys: Set<String> = []
        for _ in 0..<rng.below(6) {
            var field = ""
            guard keys.insert(string(into: &field)).inserted else { continue }
            if keys.count > 1 { out += "," }
            whitespace(&out)
            out += field
            whitespace(&out)
            out += ":"
            whitespace(&out)
            value(depth: depth, into: &out)
            whitespace(&out)
        }
        out += "}"
    }

    /// Writes a string literal and returns its decoded text.
    mutating func string(into out: inout String) -> String {
        var decoded = ""
        out += "\""
        for _ in 0..<rng.below(8) {
            if rng.below(2) == 0 {
                let letter = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(rng.below(26))))
                out += letter
                decoded += letter
            } else {
                let (text, value) = Self.pieces[rng.below(Self.pieces.count)]
                out += text
                decoded += value
            }
        }
        out += "\""
        return decoded
    }

    /// `-?(0|[1-9][0-9]{0,14})`, never `-0`.
    mutating func integer(into out: inout String) {
        let digits = 1 + rng.below(15)
        var magnitude = 1 + rng.below(9)
        for _ in 1..<digits { magnitude = magnitude * 10 + rng.below(10) }
        if rng.below(8) == 0 { magnitude = 0 }
        out += magnitude != 0 && rng.below(3) == 0 ? "-\(magnitude)" : "\(magnitude)"
    }

    mutating func whitespace(_ out: inout String) {
        guard rng.below(4) == 0 else { return }
        for _ in 0..<(1 + rng.below(3)) { out += [" ", "\t", "\n", "\r"][rng.below(4)] }
    }

    static let interesting = b("{}[]\":,\\ -+.eE0159tfnu\t\n") + [0x00, 0x01, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]

    /// One or two random byte edits: replace, insert, delete or truncate.
    mutating func mutate(_ doc: [UInt8]) -> [UInt8] {
        var doc = doc
        for _ in 0..<(1 + rng.below(2)) {
            let position = rng.below(doc.count + 1)
            let byte = rng.below(3) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : Self.interesting[rng.below(Self.interesting.count)]
            switch rng.below(6) {
            case 0, 1: if position < doc.count { doc[position] = byte }
            case 2, 3: doc.insert(byte, at: position)
            case 4: if position < doc.count { doc.remove(at: position) }
            default: doc.removeSubrange(position...)
            }
        }
        return doc
    }
}
