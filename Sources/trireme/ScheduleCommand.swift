import API
import ArgumentParser
import Foundation

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Cron schedules that create tasks in a queue.",
        subcommands: [Create.self, Get.self, List.self, Update.self, Delete.self, Pause.self, Resume.self])

    /// The fields create and update share; update sends only those given.
    struct Fields: ParsableArguments {
        @Option(help: "Cron expression: 'minute hour day-of-month month day-of-week', or @hourly, @daily …") var cron: String?
        @Option(help: "IANA time zone the cron fields are read in, e.g. Europe/Berlin (default UTC).") var timeZone: String?
        @Option(help: "Queue that receives the tasks.") var queue: String?
        @Option(help: "Kind of the tasks created: http, preprocess, or a test kind when enabled.") var kind: String?
        @Option(help: "Kind-specific JSON payload of the tasks, e.g. '{\"url\":\"http://127.0.0.1:9000/\"}'.") var payload: String?

        func template(defaultKind: String?) throws -> TaskTemplateBody? {
            var value: JSONValue?
            if let payload {
                do {
                    value = try JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))
                } catch {
                    throw ValidationError("--payload is not valid JSON: \(error)")
                }
            }
            guard let kind = kind ?? (value != nil ? defaultKind ?? "http" : defaultKind) else { return nil }
            return TaskTemplateBody(kind: kind, payload: value)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a schedule: `trireme schedule create nightly --cron '0 3 * * *' --queue q --payload '{\"url\":…}'`.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Schedule name (letters, digits, '-', '_', '.').") var name: String
        @OptionGroup var fields: Fields
        @Flag(help: "Create it paused.") var paused = false

        func run() async throws {
            guard fields.cron != nil else { throw ValidationError("--cron is required") }
            guard fields.queue != nil else { throw ValidationError("--queue is required") }
            let request = ScheduleRequest(name: name, cron: fields.cron, timeZone: fields.timeZone, queue: fields.queue,
                                          task: try fields.template(defaultKind: "http"), paused: paused ? true : nil)
            let (schedule, _) = try await options.client.call("POST", "/v1/schedules", body: request, as: ScheduleBody.self)
            print(options.json ? Output.json(schedule) : ScheduleCommand.describe([schedule]))
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        func run() async throws {
            let (schedule, _) = try await options.client.call("GET", "/v1/schedules/\(segment(name))", as: ScheduleBody.self)
            print(options.json ? Output.json(schedule) : ScheduleCommand.describe([schedule]))
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        func run() async throws {
            var all: [ScheduleBody] = []
            var token: String?
            repeat {
                let query = "pageSize=500" + (token.map { "&pageToken=\(segment($0))" } ?? "")
                let (page, _) = try await options.client.call("GET", "/v1/schedules?\(query)", as: ScheduleList.self)
                all += page.schedules
                token = page.nextPageToken
            } while token != nil
            print(options.json ? Output.json(all) : ScheduleCommand.describe(all))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a schedule; only the options given change.")
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        @OptionGroup var fields: Fields
        func run() async throws {
            let request = ScheduleRequest(cron: fields.cron, timeZone: fields.timeZone, queue: fields.queue,
                                          task: try fields.template(defaultKind: nil))
            let (schedule, _) = try await options.client.call("PATCH", "/v1/schedules/\(segment(name))", body: request,
                                                              as: ScheduleBody.self)
            print(options.json ? Output.json(schedule) : ScheduleCommand.describe([schedule]))
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await options.client.call("DELETE", "/v1/schedules/\(segment(name))", as: JSONValue.self)
            print(options.json ? Output.json(["deleted": name]) : "deleted schedule \(name)")
        }
    }

    struct Pause: AsyncParsableCommand { @OptionGroup var options: ClientOptions; @Argument var name: String
        func run() async throws { try await ScheduleCommand.verb(options, name, "pause") } }
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a schedule; if slots were missed while paused, the latest one fires at once.")
        @OptionGroup var options: ClientOptions; @Argument var name: String
        func run() async throws { try await ScheduleCommand.verb(options, name, "resume") } }

    static func verb(_ options: ClientOptions, _ name: String, _ verb: String) async throws {
        let (schedule, _) = try await options.client.call("POST", "/v1/schedules/\(segment(name)):\(verb)", as: ScheduleBody.self)
        print(options.json ? Output.json(schedule) : describe([schedule]))
    }

    static func describe(_ schedules: [ScheduleBody]) -> String {
        Output.table(["NAME", "STATE", "CRON", "TIME ZONE", "QUEUE", "KIND", "LAST FIRE", "NEXT FIRE"], schedules.map { s in
            [s.name, s.state, s.cron, s.timeZone, s.queue, s.task.kind, s.lastFireTime ?? "-", s.nextFireTime ?? "-"]
        })
    }
}
