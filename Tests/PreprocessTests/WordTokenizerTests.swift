import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct WordTokenizerTests {
    /// Hand-written cases for Beam's `[\w']+`; expectations are what Python 3 returns.
    @Test(arguments: [
        ("", [String]()),
        ("hello world", ["hello", "world"]),
        ("  leading and trailing  ", ["leading", "and", "trailing"]),
        ("don't stop", ["don't", "stop"]),
        ("'tis the season's end'", ["'tis", "the", "season's", "end'"]),
        ("''", ["''"]),
        ("snake_case and CamelCase", ["snake_case", "and", "CamelCase"]),
        ("a-b,c.d;e:f!g?h", ["a", "b", "c", "d", "e", "f", "g", "h"]),
        ("x1 2y 3.14", ["x1", "2y", "3", "14"]),
        ("Hello hello HELLO", ["Hello", "hello", "HELLO"]),
        ("caf\u{E9} na\u{EF}ve", ["caf\u{E9}", "na\u{EF}ve"]),      // precomposed: one token each
        ("cafe\u{301}", ["cafe"]),                                   // decomposed: U+0301 is Mn, not \w
        ("e\u{301}t\u{E9}", ["e", "t\u{E9}"]),
        ("\u{3B1}\u{3B2}\u{3B3} \u{434}\u{43E}\u{43C}", ["\u{3B1}\u{3B2}\u{3B3}", "\u{434}\u{43E}\u{43C}"]),
        ("\u{6F22}\u{5B57}\u{3001}\u{304B}\u{306A}", ["\u{6F22}\u{5B57}", "\u{304B}\u{306A}"]),
        ("x\u{B2} \u{BD}cup", ["x\u{B2}", "\u{BD}cup"]),             // superscript two, one half: numeric
        ("\u{661}\u{662}\u{663}", ["\u{661}\u{662}\u{663}"]),        // Arabic-Indic digits
        ("ok\u{1F600}ok", ["ok", "ok"]),                             // emoji splits
        ("it\u{2019}s", ["it", "s"]),                                // right single quote is not '
        ("\u{2163}", ["\u{2163}"]),                                  // Roman numeral four: Nl, numeric
        ("a\u{203F}b", ["a", "b"]),                                  // undertie: Pc but not \w
        ("tab\tsep\u{A0}nbsp", ["tab", "sep", "nbsp"]),
    ])
    func beam(line: String, expected: [String]) {
        #expect(WordTokenizer(rule: .beam).tokens(line) == expected)
    }

    /// The Dataflow template: split on `[^a-zA-Z']+`, drop empty tokens.
    @Test(arguments: [
        ("don't stop", ["don't", "stop"]),
        ("snake_case x1 2y", ["snake", "case", "x", "y"]),
        ("caf\u{E9} au lait", ["caf", "au", "lait"]),
        ("", [String]()),
        ("---", [String]()),
        ("'quoted'", ["'quoted'"]),
    ])
    func template(line: String, expected: [String]) {
        #expect(WordTokenizer(rule: .template).tokens(line) == expected)
    }

    @Test func invalidUTF8IsReportedAndSplitsTokens() {
        let bytes: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8) + [0xE2, 0x82] + Array("e".utf8)
        var tokens: [String] = []
        let valid = bytes.withUnsafeBufferPointer { p in
            WordTokenizer().forEachToken(in: p) { tokens.append(String(decoding: $0, as: UTF8.self)) }
        }
        #expect(!valid)
        #expect(tokens == ["ab", "cd", "e"])
    }

    @Test(arguments: [
        [0xC0, 0x80] as [UInt8],        // overlong NUL
        [0xED, 0xA0, 0x80],             // surrogate D800
        [0xF4, 0x90, 0x80, 0x80],       // past U+10FFFF
        [0xE0, 0x80, 0x80],             // overlong
        [0x80],                         // lone continuation
    ])
    func rejectsInvalidSequences(bytes: [UInt8]) {
        #expect(!bytes.withUnsafeBufferPointer { UTF8Scalars.isValid($0) })
        #expect(String(validating: bytes, as: UTF8.self) == nil)
    }

    @Test func decoderAgreesWithSwiftOnValidText() {
        let text = "a\u{E9}\u{3B1}\u{6F22}\u{1F600}z"
        var scalars: [Unicode.Scalar] = []
        Array(text.utf8).withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (s, n) = UTF8Scalars.decode(p, at: i)
                if let s { scalars.append(s) }
                i += n
            }
        }
        #expect(scalars == Array(text.unicodeScalars))
    }
}
