import API
import ArgumentParser
import Foundation

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Inspect the cluster and change its membership.",
        subcommands: [Status.self, Add.self, Promote.self, Remove.self, Transfer.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each reachable node's view (role, term, indexes, log start), then members and executors.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var rows: [[String]] = []
            var bodies: [ClusterStatusBody] = []
            for server in options.client.servers {
                let one = APIClient(servers: [server], timeout: options.timeout, caFile: options.caFile, token: options.bearerToken)
                do {
                    let (status, _) = try await one.call("GET", "/v1/cluster?consistency=stale", as: ClusterStatusBody.self)
                    bodies.append(status)
                    rows.append([server, "n\(status.nodeId)", status.role, String(status.term),
                                 status.leader.map { "n\($0)" } ?? "-", String(status.commitIndex), String(status.appliedIndex),
                                 status.snapshotIndex.map(String.init) ?? "-"])
                } catch {
                    rows.append([server, "?", "unreachable", "-", "-", "-", "-", "-"])
                }
            }
            if options.json {
                print(Output.json(bodies))
                return
            }
            print(Output.table(["ADDRESS", "NODE", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LOG STARTS AFTER"], rows))
            // Members and executors as the leader sees them (it alone knows match indexes).
            guard let view = bodies.first(where: { $0.role == "leader" }) ?? bodies.first else { return }
            print("")
            print(Output.table(["MEMBER", "RAFT ROLE", "API", "PEER", "MATCH"], view.members.map { member in
                ["n\(member.id)", member.role ?? "-", member.apiAddress, member.peerAddress, member.matchIndex.map(String.init) ?? "-"]
            }))
            if let executors = view.executors, !executors.isEmpty {
                print("")
                print(Output.table(["EXECUTOR", "NODE", "SLOTS", "LAST HEARTBEAT"], executors.map { executor in
                    [executor.id, executor.node, String(executor.slots), executor.lastHeartbeatTime]
                }))
            }
        }
    }

    struct Membership: Decodable {
        var voters: [UInt64]
        var learners: [UInt64]

        func show(json: Bool) {
            if json {
                print(Output.json(["voters": voters, "learners": learners]))
            } else {
                print("voters: \(voters.map { "n\($0)" }.joined(separator: " "))")
                print("learners: \(learners.isEmpty ? "-" : learners.map { "n\($0)" }.joined(separator: " "))")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a node as a learner (it catches up without voting); then `cluster promote` it.",
            discussion: "The node must be listed, with its addresses, in every node's config `members`.")
        @Argument(help: "Node id, e.g. 4.") var id: UInt64
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (membership, _) = try await options.client.call("POST", "/v1/cluster/members", body: ["id": id], as: Membership.self)
            membership.show(json: options.json)
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a caught-up learner a voter.")
        @Argument(help: "Node id, e.g. 4.") var id: UInt64
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (membership, _) = try await options.client.call("POST", "/v1/cluster/members/\(id):promote", as: Membership.self)
            membership.show(json: options.json)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member (voter or learner). A removed node stops campaigning; stop its process afterwards.")
        @Argument(help: "Node id, e.g. 4.") var id: UInt64
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (membership, _) = try await options.client.call("DELETE", "/v1/cluster/members/\(id)", as: Membership.self)
            membership.show(json: options.json)
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand leadership to a voter (waits until it leads).")
        @Argument(help: "Node id, e.g. 2.") var id: UInt64
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (membership, _) = try await options.client.call("POST", "/v1/cluster/transfer", body: ["to": id], as: Membership.self)
            if !options.json { print("n\(id) leads now") }
            membership.show(json: options.json)
        }
    }
}
