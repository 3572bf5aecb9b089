import Foundation
import Raft
import Testing
@testable import Node

/// `HTTPSupport.httpDate`, the `Date` header of the create fast path, against Foundation's
/// formatter with RFC 9110's IMF-fixdate pattern.
@Suite struct HTTPDateTests {
    @Test func httpDateMatchesFoundationsIMFFixdate() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var random = SplitMix64(seed: 9110)
        // Fixed points (the epoch, leap days, a century and the last second of 9999) and 3,000
        // random seconds in between.
        var seconds: [Int64] = [0, 951_782_400, 4_107_542_400, 1_764_579_600, 253_402_300_799]
        for _ in 0..<3_000 { seconds.append(Int64(random.next() % 253_402_300_800)) }
        for second in seconds {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(second)))
            #expect(HTTPSupport.httpDate(epochSeconds: second) == expected, "second \(second)")
        }
    }
}
