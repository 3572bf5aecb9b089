import Apply
import Testing

@Test func manifestFormatVersionIsOne() {
    #expect(Manifest.formatVersion == 1)
}
