#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DataRoot {
    /// Opens a file for reading and checks, on the opened descriptor, that it is a regular file
    /// inside the root with a single hard link. This closes the gap between `resolve` and the
    /// open (a path swapped for a symlink in between is caught here), and a hard link to a file
    /// outside the root (which no path check can see) is refused.
    public func openDescriptorForReading(_ userPath: String) throws(PreprocessError) -> Int32 {
        let resolved: String
        do {
            resolved = try resolve(userPath, mustExist: true)
        } catch {
            throw .path(error)
        }
        let fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ELOOP { throw .path(.outsideRoot(path: userPath, resolved: resolved)) }
            throw .io(path: resolved, operation: "open", errno: errno)
        }
        do {
            try checkOpened(fd, userPath: userPath)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private func checkOpened(_ fd: Int32, userPath: String) throws(PreprocessError) {
        guard let target = DataRoot.descriptorPath(fd) else {
            throw .io(path: userPath, operation: "readlink fd", errno: errno)
        }
        guard contains(target) else { throw .path(.outsideRoot(path: userPath, resolved: target)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: target, operation: "fstat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .path(.notARegularFile(userPath)) }
        guard st.st_nlink <= 1 else { throw .path(.hardLinked(userPath)) }
    }

    /// The path the kernel has for an open descriptor.
    static func descriptorPath(_ fd: Int32) -> String? {
        #if os(Linux)
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        var buf = [CChar](repeating: 0, count: Int(MAXPATHLEN))
        guard fcntl(fd, F_GETPATH, &buf) != -1 else { return nil }
        return String(cString: buf)
        #endif
    }

    /// Expands `pattern` (relative to the root, or absolute inside it) to matching regular
    /// files, sorted. Wildcards (`*`, `?`, `[...]`, fnmatch rules) are allowed in the last
    /// component only; a pattern without wildcards must name an existing file.
    public func expandInputs(_ pattern: String) throws(PathError) -> [String] {
        try DataRoot.checkText(pattern)
        guard !pattern.split(separator: "/").contains("..") else { throw .parentTraversal(pattern) }
        let (dir, name) = AtomicFileWriter.split(pattern.hasPrefix("/") || pattern.contains("/") ? pattern : "./" + pattern)
        if dir.contains(where: { "*?[".contains($0) }) { throw .invalidGlob(pattern) }
        guard name.contains(where: { "*?[".contains($0) }) else {
            return [try resolve(pattern, mustExist: true)]
        }
        let base = try resolve(dir, mustExist: true)
        guard let d = opendir(base) else { throw .notADirectory(dir) }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard entryName != ".", entryName != "..", fnmatch(name, entryName, FNM_PERIOD) == 0 else { continue }
            let full = try resolve(base + "/" + entryName, mustExist: true)
            var st = stat()
            if stat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { out.append(full) }
        }
        return out.sorted()
    }
}
