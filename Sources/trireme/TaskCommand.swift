import API
import ArgumentParser
import Foundation

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Send and inspect tasks.",
        subcommands: [Create.self, Get.self, List.self, Delete.self, Run.self, Cancel.self, Redrive.self, Attempts.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a task in a queue.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Queue name.") var queue: String
        @Option(help: "Task kind: http, preprocess, or a test kind when enabled.") var kind: String = "http"
        @Option(help: "Kind-specific JSON payload, e.g. '{\"url\":\"http://127.0.0.1:9000/\"}'.") var payload: String?
        @Option(help: "Task name for de-duplication.") var name: String?
        @Option(help: "When to run it (RFC 3339); default now.") var scheduleTime: String?
        @Option(help: "Attempt deadline, ms.") var dispatchDeadlineMs: Int64?
        @Option(help: "Makes a retried create return the first outcome.") var idempotencyKey: String?

        func run() async throws {
            var payloadValue: JSONValue?
            if let payload {
                do {
                    payloadValue = try JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))
                } catch {
                    throw ValidationError("--payload is not valid JSON: \(error)")
                }
            }
            let request = TaskRequest(name: name, kind: kind, payload: payloadValue, scheduleTime: scheduleTime,
                                      dispatchDeadlineMs: dispatchDeadlineMs)
            let headers = idempotencyKey.map { [APIHeader.idempotencyKey: $0] } ?? [:]
            let (task, _) = try await options.client.call("POST", "/v1/queues/\(segment(queue))/tasks", body: request,
                                                          headers: headers, as: TaskBody.self)
            print(options.json ? Output.json(task) : task.id)
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        @Flag(help: "Wait for the task's next change (a long poll, no polling loop), then print it.") var wait = false
        @Option(help: "With --wait: give up after this many seconds (exit 3).") var waitTimeout: Double = 60
        func run() async throws {
            let path = "/v1/queues/\(segment(queue))/tasks/\(segment(id))"
            var (task, reply) = try await options.client.call("GET", path, as: TaskBody.self)
            if wait {
                guard let changed = try await options.client.waitForChange(path, after: reply, seconds: waitTimeout, as: TaskBody.self) else {
                    throw ExitCode(3)
                }
                (task, reply) = changed
            }
            print(options.json ? Output.json(task) : TaskCommand.describe([task]))
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Option(help: "Only tasks in this state: queued, leased, running, succeeded, dead, cancelled.") var state: String?
        @Option(help: "At most this many tasks.") var limit: Int = 100
        func run() async throws {
            var all: [TaskBody] = []
            var token: String?
            repeat {
                var query = "pageSize=\(min(limit - all.count, 500))"
                if let state { query += "&state=\(segment(state))" }
                if let token { query += "&pageToken=\(segment(token))" }
                let (page, _) = try await options.client.call("GET", "/v1/queues/\(segment(queue))/tasks?\(query)", as: TaskList.self)
                all += page.tasks
                token = page.nextPageToken
            } while token != nil && all.count < limit
            print(options.json ? Output.json(all) : TaskCommand.describe(all))
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        func run() async throws {
            _ = try await options.client.call("DELETE", "/v1/queues/\(segment(queue))/tasks/\(segment(id))", as: JSONValue.self)
            print(options.json ? Output.json(["deleted": id]) : "deleted task \(id)")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a task due now.")
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        func run() async throws { try await TaskCommand.verb(options, queue, id, "run") }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a task; a running attempt is stopped.")
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        func run() async throws { try await TaskCommand.verb(options, queue, id, "cancel") }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead task again (its attempt count restarts).")
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        func run() async throws { try await TaskCommand.verb(options, queue, id, "redrive") }
    }

    struct Attempts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task's attempts: executor, fence, times, outcome, error.")
        @OptionGroup var options: ClientOptions
        @Argument var queue: String
        @Argument var id: String
        func run() async throws {
            let (list, _) = try await options.client.call(
                "GET", "/v1/queues/\(segment(queue))/tasks/\(segment(id))/attempts", as: AttemptList.self)
            print(options.json ? Output.json(list.attempts) : TaskCommand.describe(list.attempts))
        }
    }

    static func verb(_ options: ClientOptions, _ queue: String, _ id: String, _ verb: String) async throws {
        let (task, _) = try await options.client.call("POST", "/v1/queues/\(segment(queue))/tasks/\(segment(id)):\(verb)", as: TaskBody.self)
        print(options.json ? Output.json(task) : TaskCommand.describe([task]))
    }

    static func describe(_ attempts: [AttemptBody]) -> String {
        // Executor ids usually are their node's name; show the node only when it differs.
        Output.table(["ATTEMPT", "EXECUTOR", "FENCE", "DISPATCHED", "STARTED", "ENDED", "DURATION", "OUTCOME", "ERROR"], attempts.map { a in
            let executor = a.node.map { $0 == a.executor ? a.executor : "\(a.executor)@\($0)" } ?? a.executor
            return [String(a.attempt), executor, String(a.fence), a.dispatchTime, a.startTime ?? "-", a.endTime ?? "-",
                    a.durationMs.map { "\($0) ms" } ?? "-", a.outcome ?? "(in flight)", String((a.error ?? "").prefix(40))]
        })
    }

    static func describe(_ tasks: [TaskBody]) -> String {
        Output.table(["ID", "NAME", "KIND", "STATE", "ATTEMPTS", "SCHEDULED", "LAST ERROR"], tasks.map { t in
            [t.id, t.name ?? "-", t.kind, t.state, String(t.attempts), t.scheduleTime, String((t.lastError ?? "").prefix(40))]
        })
    }
}
