import Foundation
import Testing
import TestSupport

/// The randomized simulation. Unset environment: the CI run (`SimulationRunner.ciSeeds` seeds of
/// `ciSteps` steps, 3 and 5 nodes, all faults). `SIM_SEED=S` replays one seed, `SIM_SEEDS=N`
/// soaks N seeds (see `SimulationRunner`).
@Suite(.ownThreads) struct SimulationSeedTests {
    @Test func everySeedKeepsTheInvariantsAndRecovers() async {
        let runner = SimulationRunner()
        let started = ContinuousClock.now
        let results = await runner.runAll()
        let elapsed = ContinuousClock.now - started

        var reports: [SimulationReport] = []
        var failures: [SimulationFailure] = []
        for result in results {
            switch result {
            case .success(let report): reports.append(report)
            case .failure(let failure): failures.append(failure)
            }
        }
        for failure in failures.prefix(3) { Issue.record("\(failure)") }
        for failure in failures {
            print("[sim] FAILED seed \(failure.seed) step \(failure.step): \(failure.violation) — \(failure.summary)")
        }
        if failures.count > 3 {
            Issue.record("\(failures.count) seeds failed in all: \(failures.map(\.seed))")
        }
        print(Self.summary(reports, failures: failures.count, elapsed: elapsed))
        for (invariant, failed) in Dictionary(grouping: failures, by: \.violation.invariant.rawValue).sorted(by: { $0.key < $1.key }) {
            let first = failed.min { $0.step < $1.step }.map { "seed \($0.seed) at step \($0.step)" } ?? ""
            print("[sim] \(invariant): \(failed.count) seeds (earliest: \(first))")
        }
        if runner.seeds.count == 1, let report = reports.first { print("[sim] seed \(report.seed): \(report.summary)") }

        // Coverage (M22): in a run of many seeds every enabled fault kind fires in ≥ 1 % of them.
        let coverage = FaultKind.allCases.map { kind in
            "\(kind.rawValue) \(reports.filter { $0.stats.faultsFired.contains(kind) }.count)"
        }
        print("[sim] seeds in which each fault fired: \(coverage.joined(separator: ", "))")
        if reports.count >= 100 {
            for kind in FaultKind.allCases where !runner.disabled.contains(kind) {
                let fired = reports.filter { $0.stats.faultsFired.contains(kind) }.count
                #expect(fired * 100 >= reports.count, "fault \(kind.rawValue) fired in only \(fired) of \(reports.count) seeds")
            }
        }
        let failedSeeds = failures.map(\.seed)
        #expect(failedSeeds.isEmpty)
    }

    static func summary(_ reports: [SimulationReport], failures: Int, elapsed: Duration) -> String {
        func total(_ key: (SimulationReport) -> Int) -> Int { reports.reduce(0) { $0 + key($1) } }
        let shapes = Dictionary(grouping: reports) { report in String(report.summary.prefix { $0 != "," }) }
            .map { "\($0.value.count) × \($0.key)" }.sorted().joined(separator: ", ")
        let worstRecovery = reports.map(\.recoveryTicks).max() ?? 0
        let withMembership = reports.filter { $0.stats.membershipChanges > 0 }.count
        func mean(_ enabled: Bool) -> Duration {
            let some = reports.filter { $0.membershipEnabled == enabled }
            return some.isEmpty ? .zero : some.reduce(Duration.zero) { $0 + $1.elapsed } / some.count
        }
        return """
            [sim] \(reports.count + failures) seeds (\(shapes)), \(failures) failed, \
            \(total(\.steps)) steps, \(total(\.ticks)) ticks in \(elapsed)
            [sim] proposals: \(total(\.committed)) committed, \(total(\.overwritten)) overwritten, \
            \(total(\.discarded)) discarded with an unreplicated suffix; \(total { $0.stats.notLeader }) notLeader, \
            \(total { $0.stats.refused }) refused
            [sim] \(total { $0.stats.readStates }) read states for \(total { $0.stats.readsIssued }) reads; \
            \(total { $0.stats.leadersElected }) leaders, \(total { $0.stats.crashes }) crashes, \
            \(total { $0.stats.splitBatches }) split batches, \(total { $0.stats.snapshotsTaken }) snapshots taken, \
            \(total { $0.stats.snapshotsInstalled }) installed, \(total { $0.stats.transfers }) transfers; \
            recovery after heal ≤ \(worstRecovery) ticks
            [sim] membership in \(withMembership) seeds: \(total { $0.stats.membershipChanges }) changes accepted, \
            \(total { $0.stats.membershipRefused }) refused (\(total { $0.stats.membershipNotLeader }) notLeader); mean seed time \(mean(true)) with the membership fault \
            enabled, \(mean(false)) without
            """
    }

    /// A run is a pure function of its seed: the same seed twice gives the same run.
    @Test(arguments: [UInt64(3), 4, 5])
    func sameSeedSameRun(seed: UInt64) {
        let runner = SimulationRunner(environment: [:])
        let first = runner.run(seed), second = runner.run(seed)
        switch (first, second) {
        case (.success(let a), .success(let b)):
            #expect(a.fingerprint == b.fingerprint)
            #expect(a.steps > runner.steps)
        case (.failure(let a), .failure(let b)):
            #expect(a.step == b.step && a.trace == b.trace)
        default:
            Issue.record("seed \(seed) passed once and failed once")
        }
    }
}
