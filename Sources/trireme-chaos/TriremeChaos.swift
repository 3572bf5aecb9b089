import ArgumentParser
import Chaos
import Foundation

@main
struct TriremeChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trireme-chaos",
        abstract: "Chaos workload and checker for a running Trireme cluster (see cluster/chaos/README.md).",
        subcommands: [RunCommand.self, CheckCommand.self]
    )
}

/// What a run leaves behind (`record.json`), enough to check it again with `check`.
struct RunRecord: Codable {
    var history: History
    var final: FinalState
    var baselineCounters: [String: Int64]?
}

/// Shared by both subcommands: the inputs that are files, and the verdict.
struct CheckInputs: ParsableArguments {
    @Option(help: "The fault scripts' timeline (JSON lines of FaultEvent); missing file: no faults.")
    var faultsLog: String?

    @Option(help: "Reference word counts (`word: count` lines).")
    var reference = "cluster/sample/expected-wordcount.txt"

    func faults() throws -> [FaultEvent] {
        guard let path = faultsLog, FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var events: [FaultEvent] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            do {
                events.append(try JSONDecoder().decode(FaultEvent.self, from: Data(line.utf8)))
            } catch {
                throw ValidationError("\(path):\(n + 1): not a fault event: \(line.prefix(100))")
            }
        }
        return events
    }

    func referenceCounts() throws -> [String: Int64] {
        let parsed = JobChecks.parseCounts(try String(contentsOfFile: reference, encoding: .utf8))
        guard parsed.badLines == 0 else { throw ValidationError("\(reference): \(parsed.badLines) malformed lines") }
        return parsed.counts
    }

    /// Prints the table and details; throws a failing exit code on any violation.
    func report(_ record: RunRecord) throws {
        let report = ChaosReport(history: record.history, faults: try faults(), final: record.final,
                                 reference: try referenceCounts(), baselineCounters: record.baselineCounters)
        print(report.table())
        for line in report.details() { print("  " + line) }
        if report.violations > 0 { throw ExitCode(1) }
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Checks a saved run record again.")

    @Option(help: "A record.json written by `run`.")
    var record: String

    @OptionGroup var inputs: CheckInputs

    func run() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: record))
        let saved: RunRecord
        do {
            saved = try JSONDecoder().decode(RunRecord.self, from: data)
        } catch {
            throw ValidationError("\(record): not a run record: \(error)")
        }
        try inputs.report(saved)
    }
}
