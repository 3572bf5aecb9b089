#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file under a unique temporary name in the destination's directory, then (on
/// `commit`) syncs it, renames it over the final name and syncs the directory. A crashed or
/// re-run attempt therefore never leaves a partial file under the final name, and two attempts
/// racing both rename complete (and, our tasks being deterministic, identical) files.
/// Size and CRC-32 are computed while writing. Not Sendable: one owner.
final class AtomicFileWriter {
    let finalPath: String
    let tempPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var crc = CRC32()
    private(set) var bytesWritten: Int64 = 0
    private let flushBytes = 1 << 20

    /// With `root`, the opened temp file is checked (on its descriptor) to lie inside the root:
    /// a directory swapped for a symlink to elsewhere after the path was resolved is caught
    /// before a byte is written. The temp name is created fresh (`O_EXCL`, `O_NOFOLLOW`), so a
    /// planted symlink or hard link under that name is never written through; the final name
    /// is replaced by `rename`, which never follows a symlink either.
    init(finalPath: String, attempt: String, root: DataRoot? = nil) throws(PreprocessError) {
        self.finalPath = finalPath
        let (dir, name) = AtomicFileWriter.split(finalPath)
        tempPath = dir + "/." + name + ".tmp-" + attempt
        unlink(tempPath)  // a leftover of this same attempt (re-run after a crash)
        let d = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if d < 0 { throw .io(path: tempPath, operation: "open", errno: errno) }
        fd = d
        if let root {
            let opened = DataRoot.descriptorPath(d)
            guard let opened, root.contains(opened) else {
                close(d)
                unlink(tempPath)
                fd = -1
                throw .path(.outsideRoot(path: finalPath, resolved: opened ?? tempPath))
            }
        }
        buffer.reserveCapacity(flushBytes)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(tempPath)  // never committed: leave nothing behind
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(PreprocessError) {
        crc.update(bytes)
        bytesWritten += Int64(bytes.count)
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushBytes { try flush() }
    }

    func write(_ bytes: [UInt8]) throws(PreprocessError) {
        crc.update(bytes)
        bytesWritten += Int64(bytes.count)
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushBytes { try flush() }
    }

    func write(_ string: String) throws(PreprocessError) {
        try write(Array(string.utf8))
    }

    private func flush() throws(PreprocessError) {
        var done = 0
        var failure: Int32 = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress.map { $0 + done }, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw .io(path: tempPath, operation: "write", errno: failure) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs, renames to the final name, fsyncs the directory.
    func commit() throws(PreprocessError) -> OutputFile {
        try flush()
        if fsync(fd) != 0 { throw .io(path: tempPath, operation: "fsync", errno: errno) }
        close(fd)
        fd = -1
        if rename(tempPath, finalPath) != 0 {
            let e = errno
            unlink(tempPath)
            throw .io(path: finalPath, operation: "rename", errno: e)
        }
        let dir = AtomicFileWriter.split(finalPath).dir
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)  // best effort: some file systems refuse fsync on a directory
            close(dfd)
        }
        return OutputFile(path: finalPath, bytes: bytesWritten, crc32: crc.value)
    }

    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
}

/// `write(2)`, named apart from our own `write` methods.
@inline(__always)
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
    write(fd, p, n)
}
