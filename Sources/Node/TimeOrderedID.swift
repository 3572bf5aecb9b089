import Synchronization

/// Task ids in UUID version 7 layout (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
/// counter, then 62 random bits, printed as a lowercase 8-4-4-4-12 UUID.
///
/// Why not random (version 4) ids: `tasks.id` is the key of the table and of five indexes, so a
/// random id lands on a random leaf page of each, and every apply batch then writes about five
/// pages per task to the store's WAL. Ids that grow with time all land on the rightmost page of
/// each index: a batch of creates writes a handful of pages in total. Listing by id also lists in
/// creation order.
///
/// Ids from one process strictly increase: within one millisecond the counter counts up from a
/// random start, and when it runs out the timestamp field moves one millisecond ahead.
enum TimeOrderedID {
    private struct Last {
        var ms: UInt64 = 0
        var counter: UInt16 = 0
    }
    private static let last = Mutex(Last())

    /// A new id for the time `nowMs` (Unix milliseconds).
    static func make(nowMs: Int64) -> String {
        var random = SystemRandomNumberGenerator()
        let wall = UInt64(max(0, nowMs)) & 0xFFFF_FFFF_FFFF
        let (ms, counter) = last.withLock { last -> (UInt64, UInt16) in
            if wall > last.ms {
                // A fresh millisecond: start low in the counter's range so it rarely runs out.
                last.ms = wall
                last.counter = UInt16.random(in: 0..<0x400, using: &random)
            } else if last.counter < 0xFFF {
                last.counter += 1
            } else {
                last.ms += 1
                last.counter = 0
            }
            return (last.ms, last.counter)
        }
        return format(ms: ms, counter: counter, random: random.next())
    }

    /// The text of an id from its fields (`random`'s top two bits are replaced by the variant).
    static func format(ms: UInt64, counter: UInt16, random: UInt64) -> String {
        let high = (ms << 16) | 0x7000 | UInt64(counter & 0xFFF)
        let low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
