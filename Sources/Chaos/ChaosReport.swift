/// Runs every check over one chaos run and renders the summary table.
public struct ChaosReport: Sendable {
    public struct Row: Sendable, Equatable {
        public var check: String
        public var value: String
        /// nil: informational; true: passed; false: a violation.
        public var passed: Bool?
    }

    public let tasks: TaskChecks.Result
    public let jobs: JobChecks.Result
    public let registers: [String: RegisterLinearizability.Verdict]
    public let availability: Availability.Result
    public let operations: Int
    public let faults: Int
    let history: History

    public init(history: History, faults: [FaultEvent], final: FinalState, reference: [String: Int64],
                baselineCounters: [String: Int64]?, linearizability: RegisterLinearizability = RegisterLinearizability()) {
        tasks = TaskChecks.check(history, final)
        jobs = JobChecks.check(final.jobs, reference: reference, baselineCounters: baselineCounters)
        registers = linearizability.check(history)
        availability = Availability.measure(history, faults: faults)
        operations = history.operations.filter { $0.kind != .status }.count
        self.history = history
        self.faults = faults.filter { $0.phase == "start" }.count
    }

    var registerViolations: Int {
        registers.values.filter { if case .linearizable = $0 { false } else { true } }.count
    }

    /// Violations of any check; the run fails when this is not 0. An inconclusive
    /// linearizability search counts: an unproven history is not a passed one.
    public var violations: Int { tasks.violations + jobs.violations + registerViolations }

    public var rows: [Row] {
        let t = tasks
        let a = availability
        func ms(_ v: Int64?) -> String { v.map { "\($0)" } ?? "-" }
        var rows: [Row] = [
            Row(check: "operations / faults injected", value: "\(operations) / \(faults)", passed: nil),
            Row(check: "acknowledged creates lost", value: "\(t.lostCreates.count) of \(t.acknowledged)", passed: t.lostCreates.isEmpty),
            Row(check: "definite failures that committed", value: "\(t.falseFailures.count)", passed: t.falseFailures.isEmpty),
            Row(check: "tasks no client created", value: "\(t.unexpected.count)", passed: t.unexpected.isEmpty),
            Row(check: "unknown creates: committed / absent", value: "\(t.unknownCommitted) / \(t.unknownAbsent)", passed: nil),
            Row(check: "tasks with two accepted completions", value: "\(t.doubleCompletions.count)", passed: t.doubleCompletions.isEmpty),
            Row(check: "completions from a stale attempt", value: "\(t.staleCompletions.count) of \(t.succeeded) succeeded", passed: t.staleCompletions.isEmpty),
            Row(check: "store counts vs listed tasks", value: t.countMismatches.isEmpty ? "equal" : t.countMismatches.joined(separator: "; "), passed: t.countMismatches.isEmpty),
            Row(check: "tasks stuck after healing", value: "\(t.stuck.count)", passed: t.stuck.isEmpty),
            Row(check: "tasks delivered more than once (allowed)", value: "\(t.redelivered.count)", passed: nil),
            Row(check: "wordcount jobs DONE and exact", value: "\(jobs.jobs - jobs.wrong.count) of \(jobs.jobs)", passed: jobs.wrong.isEmpty),
        ]
        let registerOps = history.operations.filter { $0.kind == .writeRegister || $0.kind == .readRegister }.count
        rows.append(Row(check: "registers linearizable (WGL)",
                        value: "\(registers.count - registerViolations) of \(registers.count) (\(registerOps) ops)",
                        passed: registerViolations == 0))
        rows.append(Row(check: "write recovery after fault ms p50/p99/max",
                        value: "\(ms(Availability.Result.percentile(a.recoveryMs, 50)))/\(ms(Availability.Result.percentile(a.recoveryMs, 99)))/\(ms(a.recoveryMs.max()))"
                            + (a.neverRecovered > 0 ? " (\(a.neverRecovered) never)" : ""), passed: nil))
        rows.append(Row(check: "no-leader intervals ms p50/p99/max",
                        value: "\(ms(Availability.Result.percentile(a.leaderlessMs, 50)))/\(ms(Availability.Result.percentile(a.leaderlessMs, 99)))/\(ms(a.leaderlessMs.max())) (\(a.leaderlessMs.count))", passed: nil))
        rows.append(Row(check: "longest gap between successful writes ms", value: "\(a.longestWriteGapMs)", passed: nil))
        return rows
    }

    /// A fixed-width table, one row per check, and a closing verdict line.
    public func table() -> String {
        let rows = self.rows
        let width = rows.map(\.check.count).max() ?? 10
        var lines = ["| " + "check".padded(to: width) + " | result | value", "|" + String(repeating: "-", count: width + 2) + "|--------|------"]
        for row in rows {
            let verdict = row.passed.map { $0 ? "ok    " : "FAIL  " } ?? "info  "
            lines.append("| " + row.check.padded(to: width) + " | " + verdict + " | " + row.value)
        }
        lines.append(violations == 0 ? "verdict: PASS (0 violations)" : "verdict: FAIL (\(violations) violations)")
        return lines.joined(separator: "\n")
    }

    /// The offending items, for the log after the table (bounded).
    public func details() -> [String] {
        var out: [String] = []
        func list(_ name: String, _ items: [String]) {
            if !items.isEmpty { out.append("\(name): " + items.prefix(20).joined(separator: ", ") + (items.count > 20 ? " …" : "")) }
        }
        list("lost", tasks.lostCreates)
        list("false failures", tasks.falseFailures)
        list("unexpected", tasks.unexpected)
        list("double completions", tasks.doubleCompletions)
        list("stale completions", tasks.staleCompletions)
        list("stuck", tasks.stuck)
        list("redelivered (task: attempts)", tasks.redelivered.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })
        list("registers", registers.sorted { $0.key < $1.key }.compactMap { key, verdict in
            switch verdict {
            case .linearizable: nil
            case .violation(_, let op): "\(key): no linearization; stuck at \(op.kind.rawValue) \(op.value.map(String.init) ?? "nil") by p\(op.process) at \(op.invokeNs)"
            case .inconclusive: "\(key): search budget exceeded"
            }
        })
        list("jobs", jobs.wrong.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })
        return out
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
