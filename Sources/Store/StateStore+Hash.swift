import SQLite

/// FNV-1a, 64 bit: small, portable and stable across platforms and releases (unlike
/// `Hasher`, which is seeded per process). Not cryptographic; it detects divergence.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func addByte(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { addByte(byte) }
    }

    mutating func addInt(_ int: Int64) {
        var v = UInt64(bitPattern: int)
        for _ in 0..<8 {
            addByte(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// Length-prefixed, so ("ab","c") and ("a","bc") differ.
    mutating func add(_ text: String) {
        addInt(Int64(text.utf8.count))
        add(text.utf8)
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension StateStore {
    /// A hash of every table's rows in primary-key order, with type tags: equal stores at the
    /// same applied index have equal hashes (used by tests and replica-convergence checks).
    public func stateHash() throws(StoreError) -> String {
        let tables = try tableHashes()
        var hash = FNV1a()
        for table in Self.hashedTables {
            hash.add(table.name)
            hash.add(tables[table.name] ?? "")
        }
        return hash.hex
    }

    /// Per-table hashes, to name the table where two stores differ.
    public func tableHashes() throws(StoreError) -> [String: String] {
        var result: [String: String] = [:]
        do {
            for table in Self.hashedTables {
                var hash = FNV1a()
                try db.query("SELECT * FROM \(table.name) ORDER BY \(table.orderBy)") { row in
                    hash.addByte(0xFE)
                    for column in 0..<row.columnCount { Self.add(row.value(column), to: &hash) }
                }
                result[table.name] = hash.hex
            }
        } catch {
            throw StoreError.wrap(error)
        }
        return result
    }

    static func add(_ value: Value, to hash: inout FNV1a) {
        switch value {
        case .null: hash.addByte(0)
        case .integer(let v): hash.addByte(1); hash.addInt(v)
        case .real(let v): hash.addByte(2); hash.addInt(Int64(bitPattern: v.bitPattern))
        case .text(let v): hash.addByte(3); hash.add(v)
        case .blob(let v): hash.addByte(4); hash.addInt(Int64(v.count)); hash.add(v)
        }
    }
}
