/// How `WordCountTable` finds a word: its first 16 bytes as two little-endian integers, a probe
/// hash, and whether the word is long (16 bytes or more).
///
/// A short word (at most 15 bytes) is zero-padded and its length is stored in the last byte of
/// `w1`, so two short words are equal exactly when their `w0`/`w1` are (whatever bytes they
/// hold, NUL included). A long word keeps 16 of its bytes inline; equal keys then still need a
/// length and tail comparison. The probe hash covers every byte and the length.
struct WordKey: Sendable {
    static let inlineBytes = 16

    var w0: UInt64
    var w1: UInt64
    var long: Bool
    var probeHash: UInt64

    init(w0: UInt64, w1: UInt64, long: Bool, probeHash: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.long = long
        self.probeHash = probeHash
    }

    /// `readable` (>= length) bytes may be read from `p`: with 16 of them, two unaligned loads
    /// and a mask replace a byte loop.
    @inline(__always)
    init(_ p: UnsafePointer<UInt8>, length: Int, readable: Int) {
        precondition(length >= 0 && readable >= length, "word key bounds")
        let raw = UnsafeRawPointer(p)
        if readable >= 16 {
            w0 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        } else {
            w0 = Self.loadPartial(p, min(length, 8))
            w1 = length > 8 ? Self.loadPartial(p + 8, length - 8) : 0
        }
        long = length >= Self.inlineBytes
        if !long {
            // Keep exactly the word's bytes (byte k is bits 8k..<8k+8), then the length marker.
            if length <= 8 {
                w0 &= length == 8 ? ~0 : (1 << UInt64(8 * length)) &- 1
                w1 = 0
            } else {
                w1 &= (1 << UInt64(8 * (length - 8))) &- 1
            }
            w1 |= UInt64(length) << 56
        }
        var h = Self.mix(0x9E37_79B9_7F4A_7C15, w0)
        h = Self.mix(h, w1)
        if long {
            h = Self.mix(h, UInt64(truncatingIfNeeded: length))
            var k = 16
            while k + 8 <= length {
                h = Self.mix(h, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)))
                k += 8
            }
            if k < length { h = Self.mix(h, Self.loadPartial(p + k, length - k)) }
        }
        probeHash = h ^ (h >> 32)
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        return (x ^ (x >> 31)) &* 0x94D0_49BB_1331_11EB
    }

    /// Up to 8 bytes, little-endian, zero-padded.
    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        var k = 0
        while k < n {
            v |= UInt64(p[k]) << UInt64(8 * k)
            k += 1
        }
        return v
    }
}
