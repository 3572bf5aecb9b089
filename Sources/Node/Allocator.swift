#if canImport(Glibc)
import Glibc
#endif

/// Which malloc this process runs on, for the startup log line: the file mapped where `malloc`
/// resolves to. The `trireme` binary links jemalloc when the build machine has Debian's
/// `libjemalloc-dev` (Package.swift says why), and runs on glibc's malloc otherwise.
enum Allocator {
    static let name: String = {
        #if canImport(Glibc)
        // Read with stdio: procfs files report size 0, which Foundation's file reading trusts.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc"),
              let file = fopen("/proc/self/maps", "r") else { return "unknown" }
        defer { fclose(file) }
        let address = UInt(bitPattern: symbol)
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "start-end perms offset dev inode path"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  (start..<end).contains(address) else { continue }
            return fields[5].split(separator: "/").last.map(String.init) ?? "unknown"
        }
        return "unknown"
        #else
        return "system"
        #endif
    }()
}
