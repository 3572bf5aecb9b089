import Foundation
import Testing
@testable import Node

@Suite struct TimeOrderedIDTests {
    @Test func idsAreVersion7UUIDsThatFoundationParses() throws {
        let id = TimeOrderedID.make(nowMs: 1_764_489_600_123)
        let parsed = try #require(UUID(uuidString: id))
        #expect(parsed.uuidString.lowercased() == id)
        let bytes = parsed.uuid
        #expect(bytes.6 >> 4 == 7, "version nibble")
        #expect(bytes.8 >> 6 == 0b10, "RFC 9562 variant")
        // The first 48 bits are the milliseconds.
        let ms = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms >= 1_764_489_600_123)
    }

    @Test func idsStrictlyIncreaseAlsoWithinOneMillisecondAndWhenTheClockStepsBack() {
        var ids: [String] = []
        for i in 0..<10_000 {
            // 10,000 ids in three "milliseconds", then a clock that went back by a second.
            let now: Int64 = i < 9_000 ? 2_000_000_000_000 + Int64(i / 3_000) : 1_999_999_999_000
            ids.append(TimeOrderedID.make(nowMs: now))
        }
        #expect(Set(ids).count == ids.count)
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func formatPlacesEveryField() {
        let id = TimeOrderedID.format(ms: 0x0123_4567_89AB, counter: 0xCDE, random: 0xFFFF_FFFF_FFFF_FFFF)
        #expect(id == "01234567-89ab-7cde-bfff-ffffffffffff")
    }
}
