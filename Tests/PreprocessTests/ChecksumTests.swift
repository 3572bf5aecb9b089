import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct ChecksumTests {
    @Test func crc32KnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func crc32IsIncremental() {
        var c = CRC32()
        c.update(Array("1234".utf8))
        c.update(Array("56789".utf8))
        #expect(c.value == 0xCBF4_3926)
    }

    @Test func fnv1aKnownValues() {
        #expect(FNV1a64.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a64.hash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a64.hash(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    @Test func shardNames() {
        #expect(ShardName.path(prefix: "out/counts", shard: 0, of: 3) == "out/counts-00000-of-00003")
        #expect(ShardName.path(prefix: "p", shard: 123_456, of: 200_000) == "p-123456-of-200000")
    }
}
