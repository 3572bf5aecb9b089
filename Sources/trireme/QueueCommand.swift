import API
import ArgumentParser
import Foundation

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Create, inspect and control queues.",
        subcommands: [Create.self, Get.self, List.self, Update.self, Delete.self, Pause.self, Resume.self, Purge.self])

    struct Limits: ParsableArguments {
        @Option(help: "Max dispatches per second (token bucket rate).") var maxDispatchesPerSecond: Double?
        @Option(help: "Max burst size (token bucket capacity).") var maxBurst: Int?
        @Option(help: "Max concurrent dispatches.") var maxConcurrent: Int?
        @Option(help: "Max attempts per task (-1: unlimited).") var maxAttempts: Int?
        @Option(help: "Min backoff between attempts, ms.") var minBackoffMs: Int64?
        @Option(help: "Max backoff between attempts, ms.") var maxBackoffMs: Int64?
        @Option(help: "Times the backoff doubles before growing linearly.") var maxDoublings: Int?
        @Option(help: "Max total retry duration, ms (0: unlimited).") var maxRetryDurationMs: Int64?
        @Option(help: "How long a finished task's name stays reserved, ms.") var tombstoneWindowMs: Int64?

        func request(name: String?) -> QueueRequest {
            let rate = RateLimitsBody(maxDispatchesPerSecond: maxDispatchesPerSecond, maxBurstSize: maxBurst,
                                      maxConcurrentDispatches: maxConcurrent)
            let retry = RetryConfigBody(maxAttempts: maxAttempts, minBackoffMs: minBackoffMs, maxBackoffMs: maxBackoffMs,
                                        maxDoublings: maxDoublings, maxRetryDurationMs: maxRetryDurationMs)
            return QueueRequest(name: name, rateLimits: rate == RateLimitsBody() ? nil : rate,
                                retryConfig: retry == RetryConfigBody() ? nil : retry, tombstoneWindowMs: tombstoneWindowMs)
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        @OptionGroup var limits: Limits
        func run() async throws {
            let (queue, _) = try await options.client.call("POST", "/v1/queues", body: limits.request(name: name), as: QueueBody.self)
            print(options.json ? Output.json(queue) : "created queue \(queue.name)")
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        @Flag(help: "Wait for the queue's next change (its settings or any of its tasks; a long poll), then print it.")
        var wait = false
        @Option(help: "With --wait: give up after this many seconds (exit 3).") var waitTimeout: Double = 60
        func run() async throws {
            let path = "/v1/queues/\(segment(name))"
            var (queue, reply) = try await options.client.call("GET", path, as: QueueBody.self)
            if wait {
                guard let changed = try await options.client.waitForChange(path, after: reply, seconds: waitTimeout, as: QueueBody.self) else {
                    throw ExitCode(3)
                }
                (queue, reply) = changed
            }
            print(options.json ? Output.json(queue) : QueueCommand.describe([queue]))
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Option var pageSize: Int = 100
        func run() async throws {
            var all: [QueueBody] = []
            var token: String?
            repeat {
                let query = "pageSize=\(pageSize)" + (token.map { "&pageToken=\(segment($0))" } ?? "")
                let (page, _) = try await options.client.call("GET", "/v1/queues?\(query)", as: QueueList.self)
                all += page.queues
                token = page.nextPageToken
            } while token != nil
            print(options.json ? Output.json(all) : QueueCommand.describe(all))
        }
    }

    struct Update: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        @OptionGroup var limits: Limits
        func run() async throws {
            let (queue, _) = try await options.client.call("PATCH", "/v1/queues/\(segment(name))", body: limits.request(name: nil), as: QueueBody.self)
            print(options.json ? Output.json(queue) : QueueCommand.describe([queue]))
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await options.client.call("DELETE", "/v1/queues/\(segment(name))", as: JSONValue.self)
            print(options.json ? Output.json(["deleted": name]) : "deleted queue \(name)")
        }
    }

    struct Pause: AsyncParsableCommand { @OptionGroup var options: ClientOptions; @Argument var name: String
        func run() async throws { try await QueueCommand.verb(options, name, "pause") } }
    struct Resume: AsyncParsableCommand { @OptionGroup var options: ClientOptions; @Argument var name: String
        func run() async throws { try await QueueCommand.verb(options, name, "resume") } }
    struct Purge: AsyncParsableCommand { @OptionGroup var options: ClientOptions; @Argument var name: String
        func run() async throws { try await QueueCommand.verb(options, name, "purge") } }

    static func verb(_ options: ClientOptions, _ name: String, _ verb: String) async throws {
        let (queue, _) = try await options.client.call("POST", "/v1/queues/\(segment(name)):\(verb)", as: QueueBody.self)
        print(options.json ? Output.json(queue) : describe([queue]))
    }

    static func describe(_ queues: [QueueBody]) -> String {
        Output.table(
            ["NAME", "STATE", "RATE/S", "BURST", "CONCURRENT", "ATTEMPTS", "QUEUED", "RUNNING", "DEAD"],
            queues.map { q in
                [q.name, q.state, q.rateLimits.maxDispatchesPerSecond.map { String($0) } ?? "-",
                 q.rateLimits.maxBurstSize.map(String.init) ?? "-", q.rateLimits.maxConcurrentDispatches.map(String.init) ?? "-",
                 q.retryConfig.maxAttempts.map(String.init) ?? "-",
                 String(q.stats?["queued"] ?? 0), String((q.stats?["leased"] ?? 0) + (q.stats?["running"] ?? 0)),
                 String(q.stats?["dead"] ?? 0)]
            })
    }
}
