import API
import ArgumentParser
import Foundation

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Run and follow Dataflow-style jobs from templates.",
        subcommands: [Create.self, Get.self, List.self, Cancel.self, Watch.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a job: `trireme job create wordcount --param inputFile=… --param output=…`.",
            discussion: """
                Templates: wordcount (inputFile, output, numShards, tokenizer, tempLocation); csv-clean and \
                jsonl-transform (inputFile, output, numShards, tempLocation, and the cleaning spec as a JSON \
                object: --spec FILE). Paths are relative to the nodes' data root.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "Template name: wordcount, csv-clean or jsonl-transform.") var template: String
        @Option(name: .customLong("param"), help: "A template parameter KEY=VALUE (repeatable).") var params: [String] = []
        @Option(help: "A JSON file holding the cleaning spec (the `spec` parameter of csv-clean and jsonl-transform).")
        var spec: String?
        @Option(help: "Makes a retried create return the first outcome.") var idempotencyKey: String?

        func run() async throws {
            var parameters: [String: JSONValue] = [:]
            for param in params {
                guard let equals = param.firstIndex(of: "=") else { throw ValidationError("--param \(param): expected KEY=VALUE") }
                parameters[String(param[..<equals])] = .string(String(param[param.index(after: equals)...]))
            }
            if let spec {
                let data: Data
                do {
                    data = try Data(contentsOf: URL(fileURLWithPath: spec))
                } catch {
                    throw ValidationError("--spec \(spec): cannot read it (\(error.localizedDescription))")
                }
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object = value else {
                    throw ValidationError("--spec \(spec): not a JSON object")
                }
                parameters["spec"] = value
            }
            let headers = idempotencyKey.map { [APIHeader.idempotencyKey: $0] } ?? [:]
            let (job, _) = try await options.client.call("POST", "/v1/jobs", body: JobRequest(template: template, parameters: parameters),
                                                         headers: headers, as: JobBody.self)
            print(options.json ? Output.json(job) : job.id)
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Also write the job (state, counters, times, error) as JSON to this file.") var output: String?
        func run() async throws {
            let (job, _) = try await options.client.call("GET", "/v1/jobs/\(segment(id))", as: JobBody.self)
            if let output { try Output.write(Output.json(job), to: output) }
            print(options.json ? Output.json(job) : JobCommand.describe([job]))
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let (page, _) = try await options.client.call("GET", "/v1/jobs?pageSize=100", as: JobList.self)
            print(options.json ? Output.json(page.jobs) : JobCommand.describe(page.jobs))
        }
    }

    struct Cancel: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws {
            let (job, _) = try await options.client.call("POST", "/v1/jobs/\(segment(id)):cancel", as: JobBody.self)
            print(options.json ? Output.json(job) : JobCommand.describe([job]))
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a live progress bar until the job ends.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Give up after this many seconds.") var maxWait: Double = 3_600
        @Option(help: "Write the final job (state, counters, times, error) as JSON to this file.") var output: String?

        func run() async throws {
            let deadline = Date().addingTimeInterval(maxWait)
            let path = "/v1/jobs/\(segment(id))"
            var (job, reply) = try await options.client.call("GET", path, as: JobBody.self)
            while true {
                let done = job.counters["tasksDone"] ?? 0
                let total = max(job.counters["tasksTotal"] ?? 0, 1)
                let width = 30
                let filled = Int(Double(width) * Double(done) / Double(total))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let line = "\(job.id) \(job.state.padding(toLength: 10, withPad: " ", startingAt: 0)) [\(bar)] \(done)/\(total) tasks"
                    + JobCommand.counterSummary(job.counters)
                // With --json, stdout holds only the final JSON document.
                if !options.json {
                    if Output.isTerminal { FileHandle.standardOutput.write(Data("\r\(line)".utf8)) } else { print(line) }
                }
                if ["DONE", "FAILED", "CANCELLED"].contains(job.state) { break }
                // A long poll: the node answers when the job (or one of its tasks) changes.
                guard let next = try await options.client.waitForChange(path, after: reply, seconds: deadline.timeIntervalSinceNow,
                                                                        as: JobBody.self) else { break }
                (job, reply) = next
            }
            if Output.isTerminal && !options.json { print("") }
            if let output { try Output.write(Output.json(job), to: output) }
            if options.json { print(Output.json(job)) }
            if job.state != "DONE" { throw ExitCode(job.state == "FAILED" ? 2 : 3) }
        }
    }

    /// The job's data counters (summed from its tasks): records and bytes in and out, malformed.
    static func counterSummary(_ counters: [String: Int64]) -> String {
        guard counters["records_in"] != nil || counters["records_out"] != nil else { return "" }
        let value = { (name: String) in counters[name] ?? 0 }
        return "  in \(value("records_in")) rec/\(value("bytes_in")) B  out \(value("records_out")) rec/\(value("bytes_out")) B"
            + "  malformed \(value("malformed_records"))"
    }

    static func describe(_ jobs: [JobBody]) -> String {
        Output.table(["ID", "TEMPLATE", "STATE", "CREATED", "ERROR"], jobs.map { j in
            [j.id, j.template, j.state, j.createTime, String((j.error ?? "").prefix(40))]
        })
    }
}
