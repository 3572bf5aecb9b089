#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The node's configured data root: every input, output and temp location must lie under it.
///
/// Rules, checked before any task runs (`resolve`) and again when a task opens a file
/// (`openDescriptorForReading`):
/// - empty paths and paths containing NUL are refused;
/// - any `..` component is refused outright, even one that would stay inside the root;
/// - a relative path is taken relative to the root; an absolute path must lie inside it;
/// - symlinks are resolved (realpath) and the result must still lie inside the root;
/// - paths are never percent-decoded, and a percent-encoded dot, slash, backslash, NUL or
///   percent (`%2e%2e%2f`, double-encoded `%252e`) or a control character is refused outright;
/// - at open time, reads use `O_NOFOLLOW` and re-check the opened descriptor's real path
///   (`/proc/self/fd`) and refuse a file with more than one hard link (it may alias a file
///   outside the root: a hard link is indistinguishable from the original); writes create a
///   fresh temp name (`O_EXCL | O_NOFOLLOW`), re-check its descriptor's path, and `rename`.
public struct DataRoot: Sendable, Equatable {
    /// The root itself, symlinks resolved.
    public let path: String

    public init(_ path: String) throws(PathError) {
        guard !path.isEmpty else { throw .empty }
        guard !path.utf8.contains(0) else { throw .containsNUL(path) }
        guard let real = DataRoot.realPath(path) else { throw .notFound(path) }
        var st = stat()
        guard stat(real, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path) }
        self.path = real
    }

    /// The absolute, symlink-free path of `userPath`, which must lie inside the root. When
    /// `mustExist` is false (outputs), the longest existing ancestor is resolved and the rest
    /// appended (the rest cannot hold symlinks, since it does not exist yet).
    public func resolve(_ userPath: String, mustExist: Bool = true) throws(PathError) -> String {
        try DataRoot.checkText(userPath)
        let parts = userPath.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains("..") else { throw .parentTraversal(userPath) }
        let joined = userPath.hasPrefix("/") ? userPath : path + "/" + userPath
        if userPath.hasPrefix("/") && !contains(userPath) && !contains(DataRoot.realPath(userPath) ?? "") {
            throw .outsideRoot(path: userPath, resolved: userPath)
        }
        let resolved: String
        if let real = DataRoot.realPath(joined) {
            resolved = real
        } else if mustExist {
            throw .notFound(userPath)
        } else {
            resolved = try resolveMissing(joined, userPath: userPath)
        }
        guard contains(resolved) else { throw .outsideRoot(path: userPath, resolved: resolved) }
        return resolved
    }

    /// Resolves the deepest existing ancestor of `joined` and appends the missing tail.
    private func resolveMissing(_ joined: String, userPath: String) throws(PathError) -> String {
        var parts = joined.split(separator: "/").map(String.init)
        var tail: [String] = []
        while let last = parts.popLast() {
            tail.insert(last, at: 0)
            let prefix = "/" + parts.joined(separator: "/")
            if let real = DataRoot.realPath(prefix) {
                let base = real == "/" ? "" : real
                return base + "/" + tail.filter { $0 != "." }.joined(separator: "/")
            }
        }
        throw .notFound(userPath)
    }

    /// The checks on the text alone: not empty, no NUL, no control character, no percent-encoded
    /// dot, slash, backslash, NUL or percent (any case, so double encoding is caught too).
    static func checkText(_ userPath: String) throws(PathError) {
        guard !userPath.isEmpty else { throw .empty }
        guard !userPath.utf8.contains(0) else { throw .containsNUL(userPath) }
        guard !userPath.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw .encoded(userPath) }
        let lower = userPath.lowercased()
        for escape in ["%2e", "%2f", "%5c", "%00", "%25", "%c0%ae", "%c0%af"] where lower.contains(escape) {
            throw .encoded(userPath)
        }
    }

    /// True when the absolute, normalised `p` is the root or lies below it.
    public func contains(_ p: String) -> Bool {
        p == path || p.hasPrefix(path == "/" ? "/" : path + "/")
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
