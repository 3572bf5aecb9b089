#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// If the core traps (a `precondition` inside `RaftNode`), the test process dies before any
/// failure can be reported. This prints the seeds that were running, with their replay command,
/// from a signal handler, then hands the signal to the previous handler (Swift's backtracer or
/// the default action).
///
/// The messages are pre-formatted into a static buffer (one slot per worker) so the handler only
/// calls `write(2)`. A slot being rewritten while the handler reads it can at worst print a torn
/// line, which is acceptable for a crash report.
enum CrashReporter {
    private static let slotSize = 512
    private static let slotCount = 4

    // Written by the workers (each its own slot) and read only by the signal handler; see the
    // type comment for why the unsynchronized access is acceptable.
    nonisolated(unsafe) private static let buffer: UnsafeMutablePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: slotSize * slotCount)
        pointer.initialize(repeating: 0, count: slotSize * slotCount)
        return pointer
    }()

    nonisolated(unsafe) private static var previous: [Int32: sigaction] = [:]

    private static let installed: Void = {
        for signal in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                CrashReporter.dump()
                // Restore the previous handler; the faulting instruction runs again and it
                // takes over (for SIGABRT, re-raise).
                if var old = CrashReporter.previous[signal] { sigaction(signal, &old, nil) }
                if signal == SIGABRT { raise(signal) }
            }
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous[signal] = old
        }
    }()

    /// Marks `slot` as running `seed` (nil: idle).
    static func running(_ seed: UInt64?, slot: Int, replay: String) {
        _ = installed
        guard slot < slotCount else { return }
        let base = buffer + slot * slotSize
        base[0] = 0
        guard let seed else { return }
        let line = Array("\n[sim] the process died while worker \(slot) ran seed \(seed); replay: \(replay)\n".utf8.prefix(slotSize - 1))
        for (offset, byte) in line.enumerated().dropFirst() { base[offset] = byte }
        base[line.count] = 0
        base[0] = line[0]
    }

    private static func dump() {
        for slot in 0..<slotCount {
            let base = buffer + slot * slotSize
            let length = strlen(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self))
            if length > 0 { _ = write(2, base, length) }
        }
    }
}
