/// A strict UTF-8 decoder over raw bytes (no overlongs, no surrogates, nothing past U+10FFFF),
/// the same set of sequences Python's strict "utf-8" codec accepts.
enum UTF8Scalars {
    /// The scalar at `i` and the bytes it spans; nil and the length of the maximal invalid
    /// prefix (at least 1) when the bytes there are not valid UTF-8.
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar?, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        let need: Int
        var value: UInt32
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1; value = UInt32(b0 & 0x1F)
        case 0xE0: need = 2; value = 0; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2; value = UInt32(b0 & 0x0F)
        case 0xED: need = 2; value = 0x0D; hi = 0x9F
        case 0xF0: need = 3; value = 0; lo = 0x90
        case 0xF1...0xF3: need = 3; value = UInt32(b0 & 0x07)
        case 0xF4: need = 3; value = 4; hi = 0x8F
        default: return (nil, 1)
        }
        var j = 1
        while j <= need {
            guard i + j < p.count else { return (nil, j) }
            let b = p[i + j]
            let (l, h) = j == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
            guard b >= l && b <= h else { return (nil, j) }
            value = (value << 6) | UInt32(b & 0x3F)
            j += 1
        }
        guard let s = Unicode.Scalar(value) else { return (nil, j) }
        return (s, j)
    }

    static func isValid(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < p.count {
            if p[i] < 0x80 { i += 1; continue }
            let (s, n) = decode(p, at: i)
            if s == nil { return false }
            i += n
        }
        return true
    }
}
