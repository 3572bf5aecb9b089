#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only file descriptor with positional reads (`pread`), closed on deinit. Owned by one
/// task at a time (not Sendable).
final class ReadableFile {
    let path: String
    private let fd: Int32
    /// Inputs must not change while a job runs; reads never go past this size, which keeps
    /// a chunk-sized read near the end of a file from allocating a whole chunk.
    let sizeAtOpen: Int64

    /// Opens `path`; when `root` is given, the open goes through `DataRoot.openForReading`,
    /// which checks again, on the opened descriptor, that the file lies inside the root.
    init(path: String, root: DataRoot?) throws(PreprocessError) {
        self.path = path
        if let root {
            fd = try root.openDescriptorForReading(path)
        } else {
            let d = open(path, O_RDONLY | O_CLOEXEC)
            if d < 0 { throw .io(path: path, operation: "open", errno: errno) }
            fd = d
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            close(fd)
            throw .io(path: path, operation: "fstat", errno: errno)
        }
        sizeAtOpen = Int64(st.st_size)
    }

    deinit { close(fd) }

    /// Reads up to `count` bytes at `offset` and appends them to `buffer`; returns the number
    /// read (0 at end of file).
    func read(at offset: Int64, count requested: Int, appendingTo buffer: inout [UInt8]) throws(PreprocessError) -> Int {
        precondition(requested > 0, "read of a non-positive count")
        let count = Int(min(Int64(requested), max(0, sizeAtOpen - offset)))
        if count == 0 { return 0 }
        var got = 0
        var failure: Int32 = 0
        // Read into fresh, uninitialised storage and move or copy it in: zero-filling the
        // buffer first (`append(contentsOf: repeatElement(0, count:))`) went element by
        // element in debug builds, 0.7 s per megabyte, and planning a CSV reads every chunk.
        let fresh = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            while got < count {
                let n = pread(fd, raw.baseAddress.map { $0 + got }, count - got, off_t(offset) + off_t(got))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                got += n
            }
            initialized = got
        }
        if failure != 0 { throw .io(path: path, operation: "pread", errno: failure) }
        if buffer.isEmpty {
            buffer = fresh
        } else {
            buffer.append(contentsOf: fresh)
        }
        return got
    }
}
