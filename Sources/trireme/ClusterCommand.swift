import API
import ArgumentParser
import Foundation

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Inspect the cluster.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each reachable node's view: role, term, indexes.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var rows: [[String]] = []
            var bodies: [ClusterStatusBody] = []
            for server in options.client.servers {
                let one = APIClient(servers: [server], timeout: options.timeout)
                do {
                    let (status, _) = try await one.call("GET", "/v1/cluster?consistency=stale", as: ClusterStatusBody.self)
                    bodies.append(status)
                    rows.append([server, "n\(status.nodeId)", status.role, String(status.term),
                                 status.leader.map { "n\($0)" } ?? "-", String(status.commitIndex), String(status.appliedIndex)])
                } catch {
                    rows.append([server, "?", "unreachable", "-", "-", "-", "-"])
                }
            }
            if options.json {
                print(Output.json(bodies))
            } else {
                print(Output.table(["ADDRESS", "NODE", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED"], rows))
            }
        }
    }
}
