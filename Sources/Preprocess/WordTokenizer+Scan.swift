/// The scanner behind both rules: one pass over the bytes, a 256-entry class table for ASCII,
/// and a strict decode plus a BMP bitset (`PythonWord` precomputed) for bytes >= 0x80.
extension WordTokenizer {
    /// Byte classes of `classTable`.
    static let separatorByte: UInt8 = 0
    static let wordByte: UInt8 = 1
    static let newlineByte: UInt8 = 2
    static let highByte: UInt8 = 3

    static func classes(_ ascii: [Bool]) -> [UInt8] {
        (0..<256).map { b in
            if b >= 0x80 { return highByte }
            if b == 0x0A { return newlineByte }
            return ascii[b] ? wordByte : separatorByte
        }
    }

    static let beamClasses = classes(beamASCII)
    static let templateClasses = classes(templateASCII)

    /// Python's `\w` for every BMP scalar, one bit each (8 KiB; surrogates clear). Built once
    /// per process from `PythonWord.isWord`, so the two can never disagree.
    static let bmpWordBits: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 0x10000 / 64)
        for v in 0x80..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)), PythonWord.isWord(s) { bits[v >> 6] |= 1 << UInt64(v & 63) }
        }
        return bits
    }()

    /// Scans `bytes`, calling `token(start, end)` for each token (indices into `bytes`) and
    /// `lineEnd(malformed)` at each `\n`, with whether the line ending there held invalid
    /// UTF-8. Returns that flag for the text after the last `\n`.
    @inline(__always)
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, token: (Int, Int) -> Void, lineEnd: (Bool) -> Void) -> Bool {
        let beam = rule == .beam
        let table = beam ? Self.beamClasses : Self.templateClasses
        return table.withUnsafeBufferPointer { cls in
            Self.bmpWordBits.withUnsafeBufferPointer { bmp in
                let n = bytes.count
                var i = 0
                var start = -1
                var malformed = false
                while i < n {
                    switch cls[Int(bytes[i])] {
                    case Self.wordByte:
                        if start < 0 { start = i }
                        i += 1
                        while i < n && cls[Int(bytes[i])] == Self.wordByte { i += 1 }
                    case Self.separatorByte:
                        if start >= 0 { token(start, i); start = -1 }
                        i += 1
                    case Self.newlineByte:
                        if start >= 0 { token(start, i); start = -1 }
                        lineEnd(malformed)
                        malformed = false
                        i += 1
                    default:
                        let (scalar, length) = UTF8Scalars.decode(bytes, at: i)
                        if let scalar, beam, Self.isWord(scalar, bmp: bmp) {
                            if start < 0 { start = i }
                        } else {
                            if scalar == nil { malformed = true }
                            if start >= 0 { token(start, i); start = -1 }
                        }
                        i += length
                    }
                }
                if start >= 0 { token(start, n) }
                return malformed
            }
        }
    }

    @inline(__always)
    static func isWord(_ s: Unicode.Scalar, bmp: UnsafeBufferPointer<UInt64>) -> Bool {
        let v = Int(s.value)
        if v < 0x10000 { return bmp[v >> 6] & (1 << UInt64(v & 63)) != 0 }
        return PythonWord.isWord(s)
    }
}
