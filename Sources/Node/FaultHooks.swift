import Foundation

/// Test-only fault injection, on only when the node config says `testFaultHooks: true` (the
/// chaos scripts' clusters). A slow disk: while `<dataDir>/fault-fsync-delay-ms` holds a number
/// N (0...10,000), every Raft-log persist waits N ms first, as a sick disk's fsync would. The
/// file is read at most every 100 ms, so the hook costs nothing measurable when the file is
/// absent, and the chaos scripts can turn it on and off without restarting the node.
///
/// Used only on the driver thread (it is the driver's `beforePersist`).
final class FaultHooks {
    private let delayFile: String
    private let recheck: Duration
    private var delayMs = 0
    private var checkedAt: ContinuousClock.Instant?

    init(dataDir: String, recheck: Duration = .milliseconds(100)) {
        delayFile = (dataDir as NSString).appendingPathComponent("fault-fsync-delay-ms")
        self.recheck = recheck
    }

    func beforePersist() {
        let delay = currentDelayMs()
        if delay > 0 { Thread.sleep(forTimeInterval: Double(delay) / 1000) }
    }

    /// The delay in force: the file's number clamped to 0...10,000; 0 without a readable number.
    func currentDelayMs() -> Int {
        let now = ContinuousClock.now
        if let checkedAt, checkedAt.duration(to: now) < recheck { return delayMs }
        checkedAt = now
        let text = (try? String(contentsOfFile: delayFile, encoding: .utf8)) ?? ""
        delayMs = min(max(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0), 10_000)
        return delayMs
    }
}
