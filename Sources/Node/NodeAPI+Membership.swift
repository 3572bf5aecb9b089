import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Raft

/// Membership changes and leadership transfer (`trireme cluster add|promote|remove|transfer`).
///
/// One server at a time (Raft thesis §4.1): each change is a single log entry, in force on a
/// node once appended, and the next is refused until it has committed. Joint consensus buys
/// arbitrary changes in one step, which a three-to-five-node job store never needs; single
/// changes are simpler to get right and the core checks the one known pitfall (no change
/// before an entry of the leader's term has committed).
///
/// A node joins as a learner (it receives the log, a snapshot first if the log is compacted,
/// but does not vote), and is promoted once caught up, so adding a node never stalls commits.
/// Every node's config lists the addresses of all nodes that may ever be members; the Raft
/// configuration says which of them are.
extension NodeAPI {
    struct MemberRequest: Codable, Sendable {
        var id: UInt64
        static let fields: Set<String> = ["id"]
    }

    struct TransferRequest: Codable, Sendable {
        var to: UInt64
        static let fields: Set<String> = ["to"]
    }

    /// A learner is promoted only when its log is at most this far behind the leader's commit.
    static let promoteLagLimit: UInt64 = 100

    func addMembershipRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/cluster/members") { request, context in
            try await self.membershipWrite(request) { status in
                let body = try await HTTPSupport.decode(MemberRequest.self, from: request, context: context,
                                                        fields: MemberRequest.fields, maxBytes: 4_096)
                let id = try self.knownNode(body.id)
                guard !status.configuration.members.contains(id) else {
                    throw APIError(.alreadyExists, "n\(body.id) is already a member", field: "id")
                }
                return .addLearner(id)
            }
        }
        router.post("/v1/cluster/members/:member") { request, context in
            let (raw, verb) = try Self.nameAndVerb(context, "member")
            guard verb == "promote" else { throw APIError(.notFound, "unknown member verb :\(verb) (promote)") }
            return try await self.membershipWrite(request) { status in
                let id = try self.memberID(raw)
                guard status.configuration.learners.contains(id) else {
                    throw APIError(.failedPrecondition, "n\(raw) is not a learner")
                }
                let match = status.matchIndex[id]?.rawValue ?? 0
                guard match + Self.promoteLagLimit >= status.commit.rawValue else {
                    throw APIError(.failedPrecondition,
                                   "n\(raw) has not caught up yet (match \(match), commit \(status.commit.rawValue)); retry shortly")
                }
                return .promote(id)
            }
        }
        router.delete("/v1/cluster/members/:member") { request, context in
            guard let raw = context.parameters.get("member") else { throw APIError(.notFound, "missing member") }
            return try await self.membershipWrite(request) { status in
                let id = try self.memberID(raw)
                guard status.configuration.members.contains(id) else { throw APIError(.notFound, "n\(raw) is not a member") }
                guard status.configuration.voters != [id] else {
                    throw APIError(.failedPrecondition, "n\(raw) is the last voter; the cluster would have none")
                }
                // A leader removing itself from two voters can deadlock the pair (the removal is in
                // force on append, so it stops campaigning, while the other voter lacks the entry
                // and needs its vote; simulator finding F2). Hand leadership over first.
                guard !(id == status.id && status.configuration.voters.count == 2) else {
                    throw APIError(.failedPrecondition,
                                   "n\(raw) leads a two-voter cluster: transfer leadership to the other voter first")
                }
                return .remove(id)
            }
        }
        router.post("/v1/cluster/transfer") { request, context in
            guard let driver = self.core.driver, let status = self.core.status else {
                throw APIError(.unavailable, "node is starting")
            }
            if status.role != .leader { return try await self.forward(request, status: status, driver: driver) }
            let body = try await HTTPSupport.decode(TransferRequest.self, from: request, context: context,
                                                    fields: TransferRequest.fields, maxBytes: 4_096)
            let target = try self.knownNode(body.to)
            guard status.configuration.voters.contains(target) else {
                throw APIError(.failedPrecondition, "n\(body.to) is not a voter", field: "to")
            }
            if target != status.id { driver.transferLeadership(to: target) }
            // The core abandons a transfer after an election timeout; wait about that long.
            let waitMs = max(1_000, 2 * self.core.config.config.electionTicks * self.core.config.config.tickMs)
            for _ in 0..<(waitMs / 20) {
                if self.core.status?.leader == target { return HTTPSupport.json(self.membershipBody()) }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw APIError(.unavailable, "leadership did not move to n\(body.to) in time (is it caught up?); retry",
                           outcome: .unknown)
        }
    }

    /// Leader: validate with the current configuration, propose, answer once applied here.
    /// Follower: forward to the leader.
    private func membershipWrite(_ request: Request,
                                 build: (RaftStatus) async throws -> ConfigurationChange) async throws -> Response {
        guard let driver = core.driver, let status = core.status else { throw APIError(.unavailable, "node is starting") }
        if status.role != .leader { return try await forward(request, status: status, driver: driver) }
        let change = try await build(status)
        let timeout = writeTimeout
        let result = await OneShot<Result<UInt64, DriverError>?>.wait(timeout: timeout, sweeper: core.writeDeadlines, timedOut: nil) { resume in
            driver.changeConfiguration(change, onApplied: { _, index, _ in resume(.success(index)) },
                                       onFailed: { resume(.failure($0)) })
        }
        switch result {
        case .none:
            throw APIError(.deadlineExceeded, "the change did not commit in time; it may still commit", outcome: .unknown)
        case .failure(let error)?:
            if case .busy = error {
                throw APIError(.aborted, "another membership change is still committing; retry shortly", outcome: .notApplied)
            }
            throw apiError(error)
        case .success(let index)?:
            var response = HTTPSupport.json(membershipBody())
            response.headers[.raftIndex] = String(index)
            return response
        }
    }

    private func membershipBody() -> [String: [UInt64]] {
        let configuration = core.status?.configuration ?? Configuration(voters: [])
        return ["voters": configuration.voters.map(\.rawValue).sorted(),
                "learners": configuration.learners.map(\.rawValue).sorted()]
    }

    /// A node id that the config's address book knows (a member must be reachable).
    private func knownNode(_ id: UInt64) throws -> NodeID {
        guard core.config.apiAddresses[NodeID(id)] != nil else {
            throw APIError(.invalidArgument,
                           "n\(id) is not in this cluster's members list; add it with its addresses to every node's config first",
                           field: "id")
        }
        return NodeID(id)
    }

    private func memberID(_ raw: String) throws -> NodeID {
        guard let id = UInt64(raw.hasPrefix("n") ? String(raw.dropFirst()) : raw) else {
            throw APIError(.invalidArgument, "member must be a node id such as 4 or n4, not \(raw)")
        }
        return try knownNode(id)
    }
}
