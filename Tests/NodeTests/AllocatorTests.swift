import Testing
@testable import Node

@Suite struct AllocatorTests {
    /// The startup line names the library `malloc` resolved to. This test binary does not link
    /// jemalloc (only `trireme` does), so it runs on glibc's: the lookup must find libc, not
    /// fall back to "unknown".
    @Test func namesTheLibraryMallocResolvesTo() {
        #expect(Allocator.name.hasPrefix("libc.so") || Allocator.name.hasPrefix("libjemalloc"), "\(Allocator.name)")
    }
}
