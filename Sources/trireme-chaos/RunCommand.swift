import API
import ArgumentParser
import Chaos
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the workload, waits for the cluster to heal, reads the final state and checks it.")

    @Option(help: "Comma-separated API addresses of the nodes.")
    var servers: String
    @Option(help: "Workload duration in seconds.")
    var duration: Int = 60
    @Option(help: "Concurrent clients.")
    var clients: Int = 6
    @Option(help: "WordCount jobs submitted during the run (plus one fault-free baseline before it).")
    var jobs: Int = 0
    @Option(help: "Seconds per register (a new register queue per window keeps each linearizability check small).")
    var registerWindow: Int = 60
    @Option(help: "Port of the delivery sink on 127.0.0.1.")
    var sinkPort: Int
    @Option(help: "Directory for record.json.")
    var runDir: String
    @Option(help: "Created once setup is done (the fault scripts wait for it).")
    var readyFile: String?
    @Option(help: "Waited for after the workload, before the final reads (the run script creates it once healed).")
    var healedFile: String?
    @Option(help: "Seconds to wait for --healed-file.")
    var healTimeout: Int = 180
    @Option(help: "Seconds for every task and job to end after healing before they count as stuck.")
    var settle: Int = 60
    @Option(help: "Per-request client timeout in seconds (then the outcome is unknown).")
    var timeout: Double = 3
    @Option(help: "The nodes' dataRoot (job paths are relative to it).")
    var dataRoot = "."
    @Option(help: "Job input, relative to the data root.")
    var input = "cluster/sample/corpus.txt"
    @OptionGroup var inputs: CheckInputs

    func validate() throws {
        guard duration > 0, (1...64).contains(clients), jobs >= 0, (1...65_535).contains(sinkPort), registerWindow > 0 else {
            throw ValidationError("need --duration > 0, 1 ≤ --clients ≤ 64, --jobs ≥ 0, --register-window > 0, a valid --sink-port")
        }
        guard !serverList.isEmpty else { throw ValidationError("--servers is empty") }
    }

    var serverList: [String] { servers.split(separator: ",").map(String.init).filter { !$0.isEmpty } }

    func run() async throws {
        let sink = DeliverySink(port: sinkPort)
        let sinkTask = Task { try await sink.run() }
        defer { sinkTask.cancel() }
        let http = ChaosHTTP(timeout: timeout)
        let setupDeadline = ContinuousClock.now + .seconds(60)
        _ = try await http.insist("GET", servers: ["127.0.0.1:\(sinkPort)"], path: "/healthz", deadline: setupDeadline)
        let runID = "r\(nowNs() / 1_000_000)"
        let outDir = "out/chaos/\(runID)"
        let setup = Setup(servers: serverList, http: http, deadline: setupDeadline)
        let registers = (0..<((duration + registerWindow - 1) / registerWindow)).map { "chaos-reg-\($0)" }
        let initial = try await setup.queues(taskQueue: "chaos", registerQueues: registers)
        let parameters: @Sendable (String) -> [String: JSONValue] = { name in
            ["inputFile": .string(input), "output": .string("\(outDir)/\(name)/counts"), "numShards": .number(3),
             "tempLocation": .string("\(outDir)/tmp")]
        }
        var baseline: [String: Int64]?
        if jobs > 0 {
            baseline = try await setup.baselineJob(key: "\(runID)-baseline", parameters: parameters("baseline"))
        }
        if let readyFile, !FileManager.default.createFile(atPath: readyFile, contents: Data()) {
            throw ChaosError.setup("cannot create \(readyFile)")
        }
        print("workload: \(clients) clients, \(jobs) jobs, \(duration) s against \(servers)")
        let workload = Workload(servers: serverList, http: http, taskQueue: "chaos", registerQueues: registers,
                                registerWindow: .seconds(registerWindow),
                                sinkPort: sinkPort, clients: clients, jobs: jobs,
                                jobParameters: { parameters("job-\($0)") }, runID: runID)
        let start = nowNs()
        let operations = await workload.run(for: .seconds(duration))
        let end = nowNs()
        print("workload done: \(operations.count) operations; waiting for the cluster to heal")
        try await waitForHeal()
        let reader = FinalReader(servers: serverList, http: ChaosHTTP(timeout: 5),
                                 dataRoot: URL(fileURLWithPath: dataRoot))
        let deliveredTwice = Set(Dictionary(grouping: sink.deliveries, by: \.taskID).filter { $0.value.count > 1 }.keys)
        let final = try await reader.read(queue: "chaos", excludingJobs: [], settle: .seconds(settle),
                                          historyOf: { $0.attempts > 1 || deliveredTwice.contains($0.id) })
        let history = History(operations: operations, deliveries: sink.deliveries,
                              initialRegisters: initial, startNs: start, endNs: end)
        let record = RunRecord(history: history, final: final, baselineCounters: baseline)
        try save(record)
        try inputs.report(record)
    }

    func waitForHeal() async throws {
        guard let healedFile else { return }
        let deadline = ContinuousClock.now + .seconds(healTimeout)
        while !FileManager.default.fileExists(atPath: healedFile) {
            guard ContinuousClock.now < deadline else { throw ChaosError.setup("\(healedFile) did not appear within \(healTimeout) s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func save(_ record: RunRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let url = URL(fileURLWithPath: runDir).appendingPathComponent("record.json")
        try encoder.encode(record).write(to: url)
        print("record: \(url.path) (re-check with: trireme-chaos check --record \(url.path) --faults-log …)")
    }
}
