#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// word → count, keyed by the word's UTF-8 bytes, with open addressing on FNV-1a. Words live
/// in one byte arena, so counting a token allocates nothing. The stored hash is the one that
/// picks the word's shard, so it is computed once.
struct WordCountTable: Sendable {
    struct Entry: Sendable {
        var offset: Int
        var length: Int
        var hash: UInt64
        var count: Int
    }

    private(set) var arena: [UInt8] = []
    private(set) var entries: [Entry] = []
    private var slots: [Int32]  // index into `entries`, -1 = empty
    private var mask: Int

    init(capacity: Int = 1024) {
        var c = 16
        while c < capacity * 2 { c <<= 1 }
        slots = Array(repeating: -1, count: c)
        mask = c - 1
    }

    var count: Int { entries.count }

    mutating func add(_ word: UnsafeBufferPointer<UInt8>, count: Int = 1) {
        add(word, hash: FNV1a64.hash(word), count: count)
    }

    mutating func add(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, count: Int) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let found: Int? = arena.withUnsafeBufferPointer { a in
            while true {
                let e = Int(slots[slot])
                if e < 0 { return nil }
                let entry = entries[e]
                if entry.hash == hash && entry.length == word.count
                    && byteCompare(UnsafeBufferPointer(rebasing: a[entry.offset..<entry.offset + entry.length]), word) == 0 {
                    return e
                }
                slot = (slot + 1) & mask
            }
        }
        if let found {
            entries[found].count += count
            return
        }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(offset: arena.count, length: word.count, hash: hash, count: count))
        arena.append(contentsOf: word)
        if entries.count * 2 > slots.count { grow() }
    }

    mutating func merge(_ other: WordCountTable) {
        other.arena.withUnsafeBufferPointer { a in
            for e in other.entries {
                add(UnsafeBufferPointer(rebasing: a[e.offset..<e.offset + e.length]), hash: e.hash, count: e.count)
            }
        }
    }

    func word(_ e: Entry) -> ArraySlice<UInt8> {
        arena[e.offset..<e.offset + e.length]
    }

    /// Entry indices ordered by the words' bytes (UTF-8 byte order = code point order).
    func sortedIndices(where include: (Entry) -> Bool = { _ in true }) -> [Int] {
        var idx = entries.indices.filter { include(entries[$0]) }
        arena.withUnsafeBufferPointer { a in
            idx.sort { x, y in
                let ex = entries[x], ey = entries[y]
                return byteCompare(UnsafeBufferPointer(rebasing: a[ex.offset..<ex.offset + ex.length]),
                                   UnsafeBufferPointer(rebasing: a[ey.offset..<ey.offset + ey.length])) < 0
            }
        }
        return idx
    }

    private mutating func grow() {
        let c = slots.count * 2
        slots = Array(repeating: -1, count: c)
        mask = c - 1
        for (i, e) in entries.enumerated() {
            var slot = Int(truncatingIfNeeded: e.hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i)
        }
    }
}

/// memcmp order, then shorter first: the byte order of UTF-8 strings.
func byteCompare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int32 {
    let n = min(x.count, y.count)
    if n > 0, let px = x.baseAddress, let py = y.baseAddress {
        let c = memcmp(px, py, n)
        if c != 0 { return c }
    }
    return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
}
