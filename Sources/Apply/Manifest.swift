/// The declared setup of a cluster (`trireme apply -f FILE`). Filled in by issue 11.
public enum Manifest {
    /// The manifest format version this build reads and writes.
    public static let formatVersion = 1
}
