/// Every operating error of the Preprocess module. Bad input never crashes a task: it ends up
/// here (or, for single malformed records under the reject-file policy, in a rejects file).
public enum PreprocessError: Error, Sendable, Equatable {
    /// A system call on `path` failed with `errno`.
    case io(path: String, operation: String, errno: Int32)
    /// A path given by a user was refused by `DataRoot`.
    case path(PathError)
    /// A job parameter or spec field is invalid; `field` names it.
    case invalidParameter(field: String, reason: String)
    /// An intermediate (spill) file is not in the format we wrote.
    case corruptSpill(path: String, offset: Int64)
    /// A malformed record under the `fail` policy (or a malformed header, which always fails).
    case malformedRecord(path: String, offset: Int64, reason: String)
}

/// Why `DataRoot` refused a path. Checked before any task runs and again at open time.
public enum PathError: Error, Sendable, Equatable {
    case empty
    case containsNUL(String)
    /// A `..` component: refused outright, even when it would stay inside the root.
    case parentTraversal(String)
    /// An absolute path, or a resolved path (after following symlinks), outside the root.
    case outsideRoot(path: String, resolved: String)
    case notFound(String)
    case notARegularFile(String)
    case notADirectory(String)
    /// A regular file with more than one hard link: it may alias a file outside the root.
    case hardLinked(String)
    case invalidGlob(String)
    /// A percent-encoded dot, slash, backslash, NUL or percent (`%2e%2e%2f`, double-encoded
    /// `%252e`), or a control character: paths are never decoded, so such a name can only be
    /// an attempt to smuggle a traversal past some other layer.
    case encoded(String)
}
