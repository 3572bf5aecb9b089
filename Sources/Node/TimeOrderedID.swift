import Raft
import Synchronization

/// Task ids in UUID version 7 layout (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
/// counter, then 62 random bits, printed as a lowercase 8-4-4-4-12 UUID.
///
/// Why not random (version 4) ids: `tasks.id` is the key of the table and ends each of its
/// indexes, so a random id lands on a random leaf page of each, and every apply batch then
/// writes about one page per index per task to the store's WAL. Ids that grow with time all land on the rightmost page of
/// each index: a batch of creates writes a handful of pages in total. Listing by id also lists in
/// creation order.
///
/// Ids from one process strictly increase: within one millisecond the counter counts up from a
/// random start, and when it runs out the timestamp field moves one millisecond ahead.
enum TimeOrderedID {
    private struct Last {
        var ms: UInt64 = 0
        var counter: UInt16 = 0
        /// The random bits come from SplitMix64 seeded once from the system generator: on Linux
        /// each `SystemRandomNumberGenerator.next()` is a `getrandom` system call, two per id.
        /// The bits only keep ids of different processes apart; nothing relies on them being
        /// unguessable (access to a task is by token, not by knowing its id).
        var random: SplitMix64 = {
            var system = SystemRandomNumberGenerator()
            return SplitMix64(seed: system.next())
        }()

        mutating func next() -> UInt64 { random.next() }
    }
    private static let last = Mutex(Last())

    /// A new id for the time `nowMs` (Unix milliseconds).
    static func make(nowMs: Int64) -> String {
        let wall = UInt64(max(0, nowMs)) & 0xFFFF_FFFF_FFFF
        let (ms, counter, random) = last.withLock { last -> (UInt64, UInt16, UInt64) in
            if wall > last.ms {
                // A fresh millisecond: start low in the counter's range so it rarely runs out.
                last.ms = wall
                last.counter = UInt16(truncatingIfNeeded: last.next() & 0x3FF)
            } else if last.counter < 0xFFF {
                last.counter += 1
            } else {
                last.ms += 1
                last.counter = 0
            }
            return (last.ms, last.counter, last.next())
        }
        return format(ms: ms, counter: counter, random: random)
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
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for (i, byte) in bytes.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                text[at] = hexDigit(byte >> 4)
                text[at + 1] = hexDigit(byte & 0xF)
                at += 2
            }
            return at
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
