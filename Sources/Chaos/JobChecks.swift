/// WordCount jobs run during the chaos must finish DONE with exactly the reference counts, and
/// their counters (summed by the store over every accepted task completion) must equal those of
/// the same job run without faults: a completion accepted twice adds its counters twice.
public enum JobChecks {
    public struct Result: Sendable, Equatable {
        public var jobs = 0
        public var done = 0
        /// Job id → why it is wrong.
        public var wrong: [String: String] = [:]
        public var violations: Int { wrong.count }
    }

    /// Counter names whose values legitimately differ between runs (timings).
    static func comparable(_ name: String) -> Bool {
        !name.lowercased().contains("duration") && !name.lowercased().contains("nanos")
    }

    public static func check(_ jobs: [FinalState.JobSnapshot], reference: [String: Int64],
                             baselineCounters: [String: Int64]?) -> Result {
        var result = Result()
        for job in jobs {
            result.jobs += 1
            guard job.state == "DONE" else {
                result.wrong[job.id] = "state \(job.state), not DONE"
                continue
            }
            result.done += 1
            guard let counts = job.wordCounts else {
                result.wrong[job.id] = "output shards unreadable"
                continue
            }
            if let diff = difference(counts, reference) {
                result.wrong[job.id] = "output differs from the reference: \(diff)"
                continue
            }
            if let baseline = baselineCounters {
                // An absent counter is 0 (a stage may not report a zero).
                let names = Set(job.counters.keys).union(baseline.keys).filter(comparable)
                    .filter { job.counters[$0, default: 0] != baseline[$0, default: 0] }.sorted()
                let mine = job.counters
                let base = baseline
                if !names.isEmpty {
                    result.wrong[job.id] = "counters differ from a fault-free run: "
                        + names.map { "\($0) \(mine[$0] ?? 0) vs \(base[$0] ?? 0)" }.joined(separator: ", ")
                }
            }
        }
        return result
    }

    /// The first few differences, or nil when equal.
    static func difference(_ actual: [String: Int64], _ expected: [String: Int64]) -> String? {
        guard actual != expected else { return nil }
        let words = Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.sorted()
        let shown = words.prefix(3).map { "'\($0)' \(actual[$0].map(String.init) ?? "absent") vs \(expected[$0].map(String.init) ?? "absent")" }
        return "\(words.count) words, e.g. " + shown.joined(separator: "; ")
    }

    /// Parses `word: count` lines (the shards' and the reference's format). The word may itself
    /// contain ": ", so the count is taken after the last one. Bad lines are returned, not trapped.
    public static func parseCounts(_ text: String) -> (counts: [String: Int64], badLines: Int) {
        var counts: [String: Int64] = [:]
        var bad = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let bytes = Array(line.utf8)
            // The last ": " separates the word from its count.
            guard let colon = (0..<max(bytes.count - 1, 0)).last(where: { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == UInt8(ascii: " ") }),
                  let n = Int64(String(decoding: bytes[(colon + 2)...], as: UTF8.self)) else {
                bad += 1
                continue
            }
            counts[String(decoding: bytes[..<colon], as: UTF8.self), default: 0] += n
        }
        return (counts, bad)
    }
}
