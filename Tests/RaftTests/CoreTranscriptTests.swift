import Foundation
import Testing
@testable import Raft

/// Transcript tests (etcd `interaction_test.go` style): a scripted scenario prints every batch
/// in a canonical text form, compared with `testdata/<name>.txt`. Regenerate after an intended
/// change with `RAFT_TRANSCRIPT_UPDATE=1 swift test --filter CoreTranscriptTests` and review the diff.
@Suite struct CoreTranscriptTests {
    @Test func electionProposalAndRead() throws {
        var script = TranscriptCluster(voters: [1, 2, 3])
        script.run("campaign n1") { $0.with(1) { $0.campaign() } }
        script.run("propose n1 [aa] [bb]") { _ = try? $0.proposeOnly(1, [[0xAA], [0xBB]]) }
        script.run("read-index n2 ctx 07") { try? $0.with(2) { try $0.readIndex(context: [7]) } }
        script.run("transfer n1 -> n3") { $0.with(1) { $0.transferLeadership(to: nid(3)) } }
        try script.check(against: "election-proposal-read")
    }
}

/// Drives a `CoreTestCluster` and records the canonical text of every batch and delivery.
struct TranscriptCluster {
    var cluster: CoreTestCluster
    var text = ""

    init(voters: [UInt64]) { cluster = CoreTestCluster(voters: voters) }

    mutating func run(_ title: String, _ action: (inout CoreTestCluster) -> Void) {
        text += "> \(title)\n"
        action(&cluster)
        for _ in 0..<100 {
            var moved = false
            for id in cluster.nodes.keys.sorted() {
                guard var node = cluster.nodes[id], let effects = node.takeEffects() else { continue }
                text += Self.describe(effects, of: id)
                cluster.inFlight += effects.messages + effects.messagesAfterPersist
                node.acknowledge(effects.number)
                cluster.nodes[id] = node
                moved = true
            }
            if !cluster.inFlight.isEmpty {
                moved = true
                cluster.deliverAll()
            }
            if !moved { break }
        }
    }

    func check(against name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("testdata").appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["RAFT_TRANSCRIPT_UPDATE"] != nil {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "transcript \(name) changed; regenerate with RAFT_TRANSCRIPT_UPDATE=1 and review")
    }

    static func describe(_ e: Effects, of id: NodeID) -> String {
        var out = "\(id) batch \(e.number)\n"
        if let s = e.softState { out += "  soft: \(s.role.rawValue) leader=\(s.leader.map(\.description) ?? "none")\n" }
        if let h = e.hardState { out += "  hard: term=\(h.term) vote=\(h.vote.map(\.description) ?? "none") commit=\(h.commit)\n" }
        for entry in e.entries { out += "  persist: \(describe(entry))\n" }
        for m in e.messages { out += "  send: \(describe(m))\n" }
        for m in e.messagesAfterPersist { out += "  send after persist: \(describe(m))\n" }
        for entry in e.committedEntries { out += "  apply: \(describe(entry))\n" }
        for r in e.readStates { out += "  read: index=\(r.index) ctx=\(hex(r.context))\n" }
        return out
    }

    static func describe(_ entry: Entry) -> String { "\(entry.index)/\(entry.term) \(entry.kind) [\(hex(entry.data))]" }

    static func describe(_ m: Message) -> String {
        let head = "\(m.from)->\(m.to) \(m.term) "
        switch m.payload {
        case .voteRequest(let r):
            return head + "\(r.preVote ? "pre-vote" : "vote") last=\(r.lastLogIndex)/\(r.lastLogTerm)\(r.transfer ? " transfer" : "")"
        case .voteResponse(let r): return head + "\(r.preVote ? "pre-vote" : "vote") \(r.granted ? "granted" : "rejected")"
        case .append(let a):
            return head + (a.quiet ? "commit notice " : "") + "append prev=\(a.prevLogIndex)/\(a.prevLogTerm) commit=\(a.commit) entries=[\(a.entries.map(describe).joined(separator: ", "))]"
        case .appendResponse(let r):
            return head + (r.reject ? "append reject \(r.index) hint=\(r.hintIndex)/\(r.hintTerm)" : "append ok \(r.index)")
        case .heartbeat(let h): return head + "heartbeat commit=\(h.commit) ctx=\(hex(h.context))"
        case .heartbeatResponse(let h): return head + "heartbeat ok ctx=\(hex(h.context))"
        case .installSnapshot(let s): return head + "snapshot \(s.metadata.index)/\(s.metadata.term)"
        case .timeoutNow: return head + "timeout-now"
        case .readIndexRequest(let context): return head + "read-index ctx=\(hex(context))"
        case .readIndexResponse(let context, let index): return head + "read-index ok \(index) ctx=\(hex(context))"
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
