/// Availability during the faults, from the client's view: for every fault, how long until the
/// next write succeeded (invoked after the fault began), and how long no node claimed to lead
/// (from the workload's `status` polls).
public enum Availability {
    public struct Result: Sendable, Equatable {
        /// Per fault start: milliseconds from the fault to the first later successful write.
        public var recoveryMs: [Int64] = []
        /// Faults after which no write ever succeeded again within the run.
        public var neverRecovered = 0
        /// Lengths of the intervals in which the status polls found no leader, in milliseconds.
        public var leaderlessMs: [Int64] = []
        /// The longest stretch without any successful write while the workload ran.
        public var longestWriteGapMs: Int64 = 0

        public static func percentile(_ values: [Int64], _ p: Double) -> Int64? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(rank, 0), sorted.count - 1)]
        }
    }

    static func isWrite(_ op: ClientOp) -> Bool {
        op.kind == .createTask || op.kind == .writeRegister || op.kind == .createJob
    }

    public static func measure(_ history: History, faults: [FaultEvent]) -> Result {
        var result = Result()
        let writes = history.operations.filter { isWrite($0) && $0.outcome == .ok }.sorted { $0.invokeNs < $1.invokeNs }
        for fault in faults where fault.phase == "start" {
            let firstAfter = writes.filter { $0.invokeNs >= fault.timeNs }.map(\.completeNs).min()
            if let done = firstAfter {
                result.recoveryMs.append((done - fault.timeNs) / 1_000_000)
            } else {
                result.neverRecovered += 1
            }
        }
        var last = history.startNs
        for done in writes.map(\.completeNs).sorted() {
            result.longestWriteGapMs = max(result.longestWriteGapMs, (done - last) / 1_000_000)
            last = max(last, done)
        }
        let polls = history.operations.filter { $0.kind == .status }.sorted { $0.invokeNs < $1.invokeNs }
        var gapStart: Int64?
        for poll in polls {
            let led = poll.outcome == .ok && poll.value != nil
            if !led, gapStart == nil { gapStart = poll.invokeNs }
            if led, let start = gapStart {
                result.leaderlessMs.append((poll.invokeNs - start) / 1_000_000)
                gapStart = nil
            }
        }
        if let start = gapStart, let end = polls.last?.invokeNs {
            result.leaderlessMs.append((end - start) / 1_000_000)
        }
        return result
    }
}
