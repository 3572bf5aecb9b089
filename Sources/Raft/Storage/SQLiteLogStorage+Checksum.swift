// CRC-32C (Castagnoli) over a canonical byte form of each stored row, so a flipped bit in any
// field (or a row edited behind our back) is detected at load. SQLite's own page format has no
// checksums; these cover the values we depend on.

/// CRC-32C, reflected polynomial 0x82F63B78, table-driven (one byte per step). About 1 GB/s is
/// plenty: rows are a few hundred bytes and every save is bounded by an fsync.
struct CRC32C {
    private(set) var value: UInt32 = 0xFFFF_FFFF

    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            Self.table.withUnsafeBufferPointer { table in
                var c = value
                for b in buffer { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
                value = c
            }
        }
    }

    /// Little-endian, fixed width: the canonical form of an integer field.
    mutating func update(_ v: UInt64) {
        var c = value
        Self.table.withUnsafeBufferPointer { table in
            for shift in stride(from: 0, to: 64, by: 8) {
                let b = UInt32(truncatingIfNeeded: v >> UInt64(shift))
                c = table[Int((c ^ b) & 0xFF)] ^ (c >> 8)
            }
        }
        value = c
    }

    var final: UInt32 { value ^ 0xFFFF_FFFF }

    static func of(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.final
    }
}

/// The checksums stored beside each row. Each starts with a distinct row-type tag so that a
/// hard-state row's bytes can never pass for an entry's.
enum RowChecksum {
    static func entry(index: UInt64, term: UInt64, kind: UInt8, data: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update([0x45, kind])  // "E"
        crc.update(index)
        crc.update(term)
        crc.update(data)
        return crc.final
    }

    static func hardState(term: UInt64, vote: UInt64, commit: UInt64) -> UInt32 {
        var crc = CRC32C()
        crc.update([0x48])  // "H"
        crc.update(term)
        crc.update(vote)
        crc.update(commit)
        return crc.final
    }

    static func snapshot(index: UInt64, term: UInt64, configuration: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update([0x53])  // "S"
        crc.update(index)
        crc.update(term)
        crc.update(configuration)
        return crc.final
    }
}
