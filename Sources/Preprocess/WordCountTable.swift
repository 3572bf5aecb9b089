#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// word → count, keyed by the word's UTF-8 bytes, with open addressing. Words live in one byte
/// arena, so counting a token allocates nothing.
///
/// Speed (this is the map task's inner loop, and it is bound by cache misses on large
/// vocabularies): a slot holds the word's key (`WordKey`: 16 inline bytes) and its count, so
/// counting a word of up to 15 bytes touches one slot and nothing else; longer words also
/// compare their tail in the arena. The probe hash is a multiply-mix over 8-byte words, much
/// cheaper than FNV-1a; FNV-1a (`Entry.hash`, which picks the word's shard and must never
/// change) is computed once per distinct word. The probe hash is never written anywhere.
struct WordCountTable: Sendable {
    /// A distinct word, as handed out once counting is done.
    struct Entry: Sendable {
        var offset: Int
        var length: Int
        /// FNV-1a 64 of the word: its shard.
        var hash: UInt64
        var count: Int
    }

    private struct Slot {
        var w0: UInt64
        var w1: UInt64
        /// 0 = empty; else (31 bits of the probe hash, the long bit) << 32 | (info index + 1).
        var meta: UInt64
        var count: Int
    }

    private struct Info {
        var offset: Int
        var length: Int
        var fnv: UInt64
        var probeHash: UInt64
    }

    private(set) var arena: [UInt8] = []
    private var infos: [Info] = []
    private var slots: [Slot]
    private var mask: Int
    /// Written by `addBatch` only to keep its early loads; meaningless.
    private var touched: UInt64 = 0

    init(capacity: Int = 1024) {
        var c = 16
        while c * 3 < capacity * 4 { c <<= 1 }
        slots = Array(repeating: Slot(w0: 0, w1: 0, meta: 0, count: 0), count: c)
        mask = c - 1
    }

    var count: Int { infos.count }

    mutating func add(_ word: UnsafeBufferPointer<UInt8>, count: Int = 1) {
        guard let base = word.baseAddress else {
            // Only an empty word may have no base address (tokens are never empty).
            withUnsafePointer(to: UInt8(0)) { add($0, length: 0, readable: 0, count: count) }
            return
        }
        add(base, length: word.count, readable: word.count, count: count)
    }

    /// Adds `count` to the word at `p..<p+length`; `readable` bytes from `p` may be read (at
    /// least `length`), which lets the key load 16 bytes at once when there are that many.
    @inline(__always)
    mutating func add(_ p: UnsafePointer<UInt8>, length: Int, readable: Int, count: Int) {
        add(WordKey(p, length: length, readable: readable), p, length: length, count: count, fnv: nil)
    }

    /// Counts the words `base[spans[2j]..<spans[2j+1]]` for j < `count`; `readable` bytes from
    /// `base` may be read. First every word's home slot is loaded (independent loads, so the
    /// cache misses of a large vocabulary overlap instead of queueing), then the words are added.
    mutating func addBatch(_ base: UnsafePointer<UInt8>, readable: Int, spans: UnsafeMutableBufferPointer<Int>, count: Int) {
        precondition(count >= 0 && 2 * count <= spans.count, "batch bounds")
        withUnsafeTemporaryAllocation(of: WordKey.self, capacity: max(count, 1)) { keys in
            for j in 0..<count {
                let start = spans[2 * j]
                keys.initializeElement(at: j, to: WordKey(base + start, length: spans[2 * j + 1] - start,
                                                          readable: readable - start))
            }
            var sink: UInt64 = 0
            let m = mask
            slots.withUnsafeBufferPointer { sp in
                for j in 0..<count { sink ^= sp[Int(truncatingIfNeeded: keys[j].probeHash) & m].meta }
            }
            touched ^= sink  // stored, so the loads above are not optimised away
            for j in 0..<count {
                let start = spans[2 * j]
                add(keys[j], base + start, length: spans[2 * j + 1] - start, count: 1, fnv: nil)
            }
        }
    }

    mutating func merge(_ other: WordCountTable) {
        other.arena.withUnsafeBufferPointer { a in
            guard let base = a.baseAddress else { return }  // an empty table has nothing to add
            for s in other.slots where s.meta != 0 {
                let info = other.infos[Int(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1]
                let key = WordKey(w0: s.w0, w1: s.w1, long: s.meta & (1 << 32) != 0, probeHash: info.probeHash)
                add(key, base + info.offset, length: info.length, count: s.count, fnv: info.fnv)
            }
        }
    }

    @inline(__always)
    private mutating func add(_ key: WordKey, _ p: UnsafePointer<UInt8>, length: Int, count: Int, fnv: UInt64?) {
        let tag = (key.probeHash >> 33) << 33 | (key.long ? 1 << 32 : 0)
        var slot = Int(truncatingIfNeeded: key.probeHash) & mask
        while true {
            let s = slots[slot]
            if s.meta == 0 { break }
            if s.w0 == key.w0 && s.w1 == key.w1 && s.meta & 0xFFFF_FFFF_0000_0000 == tag
                && (!key.long || longEqual(infos[Int(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1], p, length)) {
                slots[slot].count += count
                return
            }
            slot = (slot + 1) & mask
        }
        precondition(infos.count < Int(UInt32.max), "word table full")
        let word = UnsafeBufferPointer(start: p, count: length)
        infos.append(Info(offset: arena.count, length: length, fnv: fnv ?? FNV1a64.hash(word), probeHash: key.probeHash))
        arena.append(contentsOf: word)
        slots[slot] = Slot(w0: key.w0, w1: key.w1, meta: tag | UInt64(infos.count), count: count)
        if infos.count * 4 > slots.count * 3 { grow() }
    }

    /// A long word's length and the bytes past the inline 16 (its first 16 are equal).
    private func longEqual(_ info: Info, _ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        guard info.length == length else { return false }
        return arena.withUnsafeBufferPointer { a in
            guard let base = a.baseAddress else { return false }
            let skip = WordKey.inlineBytes
            return memcmp(base + info.offset + skip, p + skip, length - skip) == 0
        }
    }

    private mutating func grow() {
        let c = slots.count * 2
        var fresh = Array(repeating: Slot(w0: 0, w1: 0, meta: 0, count: 0), count: c)
        let m = c - 1
        for s in slots where s.meta != 0 {
            var slot = Int(truncatingIfNeeded: infos[Int(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1].probeHash) & m
            while fresh[slot].meta != 0 { slot = (slot + 1) & m }
            fresh[slot] = s
        }
        slots = fresh
        mask = m
    }

    func word(_ e: Entry) -> ArraySlice<UInt8> {
        arena[e.offset..<e.offset + e.length]
    }

    /// Every distinct word with its count, ordered by the words' bytes (UTF-8 byte order =
    /// code point order).
    func sortedEntries() -> [Entry] {
        var keyed: [(prefix: UInt64, entry: Entry)] = []
        keyed.reserveCapacity(infos.count)
        for s in slots where s.meta != 0 {
            let info = infos[Int(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1]
            // The first 8 bytes, big-endian and zero-padded, order like memcmp does (see below).
            let prefix = info.length >= 8 ? s.w0.byteSwapped : (s.w0 & ((1 << UInt64(8 * info.length)) &- 1)).byteSwapped
            keyed.append((prefix, Entry(offset: info.offset, length: info.length, hash: info.fnv, count: s.count)))
        }
        arena.withUnsafeBufferPointer { a in
            // Unequal prefixes differ at a byte where at least one word has a real byte; zero
            // padding sorts a word before its extensions, as memcmp-then-length does.
            keyed.sort { x, y in
                if x.prefix != y.prefix { return x.prefix < y.prefix }
                let ex = x.entry, ey = y.entry
                return byteCompare(UnsafeBufferPointer(rebasing: a[ex.offset..<ex.offset + ex.length]),
                                   UnsafeBufferPointer(rebasing: a[ey.offset..<ey.offset + ey.length])) < 0
            }
        }
        return keyed.map(\.entry)
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
