/// Generated text for cross-checks: words from many scripts (precomposed and decomposed
/// accents, Greek, Cyrillic, CJK, Hangul, Arabic-Indic digits, superscripts, fractions, Roman
/// numerals, titlecase and modifier letters, underscores, apostrophes, emoji), separated by
/// ASCII and Unicode punctuation, with empty lines and both \n and \r\n. Only characters from
/// Unicode 14 or earlier, so Python 3.11's tables agree with Swift's.
enum Corpus {
    static let words = [
        "the", "The", "THE", "it's", "don't", "'tis", "rock'n'roll", "''", "snake_case", "_private", "x1", "42",
        "caf\u{E9}", "cafe\u{301}", "na\u{EF}ve", "nai\u{308}ve", "\u{C5}ngstr\u{F6}m", "stra\u{DF}e",
        "\u{3A9}\u{3BC}\u{3AD}\u{3B3}\u{3B1}", "\u{3BB}\u{3CC}\u{3B3}\u{3BF}\u{3C2}",
        "\u{41F}\u{440}\u{438}\u{432}\u{435}\u{442}", "\u{43C}\u{438}\u{440}",
        "\u{6F22}\u{5B57}", "\u{6771}\u{4EAC}\u{90FD}", "\u{3072}\u{3089}\u{304C}\u{306A}", "\u{30AB}\u{30BF}\u{30AB}\u{30CA}",
        "\u{D55C}\u{AD6D}\u{C5B4}", "\u{1112}\u{1161}\u{11AB}",
        "\u{661}\u{662}\u{663}", "\u{967}\u{968}", "x\u{B2}", "m\u{B3}", "\u{BD}", "\u{2153}cup", "\u{2163}", "\u{216B}",
        "\u{1C5}ungla", "\u{2B0}a", "\u{5D0}\u{5D1}\u{5D2}", "\u{627}\u{644}\u{639}\u{631}\u{628}\u{64A}\u{629}",
        "\u{E01}\u{E34}\u{E19}", "\u{10D0}\u{10D1}", "\u{1D400}bold", "\u{2460}", "\u{FF21}\u{FF22}",
        "co\u{200D}op", "\u{1F600}", "\u{1F44D}\u{1F3FD}", "\u{2764}\u{FE0F}", "e\u{301}\u{301}", "\u{2019}s",
    ]
    static let separators = [" ", " ", " ", ", ", ". ", "; ", " - ", "\u{2014}", "\u{2026}", "\t", "\u{A0}", "!", "?\u{3000}",
                             "\u{203F}", "\"", "(", ")", "/", "\u{2019}"]

    /// About `bytes` bytes of text from `seed`.
    static func generate(bytes target: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(target + 200)
        while out.count < target {
            let n = Int.random(in: 0...14, using: &rng)
            for i in 0..<n {
                if i > 0 { out += Array((separators.randomElement(using: &rng) ?? " ").utf8) }
                out += Array((words.randomElement(using: &rng) ?? "x").utf8)
            }
            out += Bool.random(using: &rng) ? [0x0A] : [0x0D, 0x0A]
        }
        return out
    }
}
