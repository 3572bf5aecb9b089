import Testing
@testable import Raft

/// The slicing-by-8 CRC against the byte-at-a-time definition and the standard check value:
/// a wrong table or offset would change every stored row checksum (and fail every load).
@Suite struct CRC32CTests {
    @Test func checkValue() {
        #expect(CRC32C.of(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.of([]) == 0)
    }

    @Test func slicingMatchesBytewiseAtEveryLengthAndSplit() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var reference = CRC32C()
            reference.updateBytewise(bytes)
            var sliced = CRC32C()
            sliced.update(bytes)
            #expect(sliced.final == reference.final, "length \(length)")
            // Fed in two pieces (an unaligned second start), as a row's fields are.
            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &generator)
            var pieces = CRC32C()
            pieces.update(Array(bytes[..<split]))
            pieces.update(Array(bytes[split...]))
            #expect(pieces.final == reference.final, "length \(length) split \(split)")
        }
    }

    @Test func integersAndSingleBytesAreLittleEndianBytes() {
        let value: UInt64 = 0x0102_0304_0506_0708
        var integer = CRC32C()
        integer.update(byte: 0x45)
        integer.update(value)
        var bytes = CRC32C()
        bytes.updateBytewise([0x45, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        #expect(integer.final == bytes.final)
    }
}
