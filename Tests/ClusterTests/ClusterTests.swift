import Foundation
import Testing
import TestSupport

/// Multi-process tests: real `trireme serve` processes, real sockets, real fsync.
@Suite(.serialized, .ownThreads) struct ClusterTests {
    @Test func writesThroughAFollowerAreReadableLinearizablyFromEveryNode() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1

        let created = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues", body: HTTP.json(["name": "q1"]))
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        #expect(created.headers["trireme-raft-index"] != nil)
        var ids: [String] = []
        for i in 0..<20 {
            let reply = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues/q1/tasks",
                                            body: HTTP.json(["kind": "http", "name": "t\(i)", "payload": ["url": "http://127.0.0.1:9/"]]))
            #expect(reply.status == 201)
            if let id = reply.json?["id"] as? String { ids.append(id) }
        }
        #expect(ids.count == 20)
        for member in cluster.members {
            let reply = try await HTTP.send("GET", "http://\(cluster.api(member.id))/v1/queues/q1/tasks?pageSize=100")
            let tasks = (reply.json?["tasks"] as? [[String: Any]]) ?? []
            #expect(Set(tasks.compactMap { $0["id"] as? String }) == Set(ids), "node n\(member.id) must see every acknowledged task")
        }
    }

    @Test func killingTheLeaderElectsANewOneAndLosesNoAcknowledgedWrite() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let survivor = cluster.members.map(\.id).first { $0 != leader } ?? 1
        #expect(try await HTTP.send("POST", "http://\(cluster.api(survivor))/v1/queues", body: HTTP.json(["name": "q"])).status == 201)
        var acknowledged: [String] = []
        for i in 0..<30 {
            let reply = try await HTTP.send("POST", "http://\(cluster.api(survivor))/v1/queues/q/tasks",
                                            body: HTTP.json(["kind": "http", "name": "before-\(i)"]))
            if reply.status == 201, let id = reply.json?["id"] as? String { acknowledged.append(id) }
        }
        #expect(acknowledged.count == 30)

        let killedAt = Date()
        cluster.kill9(leader)
        let others = cluster.members.map(\.id).filter { $0 != leader }
        let newLeader = try await cluster.waitForLeader(among: others, notIn: [leader], seconds: 10)
        let failover = Date().timeIntervalSince(killedAt)
        #expect(failover < 2, "a new leader must be elected within 2 s, took \(failover) s")
        #expect(newLeader != leader)

        // Every acknowledged write survived, on both survivors.
        for id in others {
            let reply = try await HTTP.send("GET", "http://\(cluster.api(id))/v1/queues/q/tasks?pageSize=1000")
            let seen = Set(((reply.json?["tasks"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            #expect(Set(acknowledged).isSubset(of: seen), "n\(id) lost acknowledged writes")
        }
        // The cluster keeps taking writes; the restarted node catches up.
        for i in 0..<10 {
            let reply = try await HTTP.send("POST", "http://\(cluster.api(newLeader))/v1/queues/q/tasks",
                                            body: HTTP.json(["kind": "http", "name": "after-\(i)"]))
            #expect(reply.status == 201)
        }
        try cluster.start(leader)
        let target = await cluster.status(newLeader)?.commitIndex ?? 0
        let deadline = Date().addingTimeInterval(10)
        var caughtUp = false
        while Date() < deadline && !caughtUp {
            caughtUp = (await cluster.status(leader)?.appliedIndex ?? 0) >= target
            if !caughtUp { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(caughtUp, "the restarted node must catch up to index \(target)")
        let reply = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/queues/q/tasks?pageSize=1000&consistency=stale")
        #expect(((reply.json?["tasks"] as? [[String: Any]]) ?? []).count == 40)
    }

    @Test func errorStatusesAreJSONWithFittingCodes() async throws {
        let cluster = try LocalCluster(extraConfig: ["maxRequestBytes": 64 * 1024, "writeTimeoutMs": 2_000])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let base = "http://\(cluster.api(leader))"
        #expect(try await HTTP.send("POST", "\(base)/v1/queues", body: HTTP.json(["name": "q"])).status == 201)

        let cases: [(String, String, Data?, String?, Int, String)] = [
            ("invalid field", "/v1/queues", HTTP.json(["name": "q2", "rateLimits": ["maxBurstSize": -1]]), "application/json", 400, "INVALID_ARGUMENT"),
            ("unknown field", "/v1/queues", HTTP.json(["name": "q2", "colour": "red"]), "application/json", 400, "INVALID_ARGUMENT"),
            ("malformed JSON", "/v1/queues", Data("{\"name\":".utf8), "application/json", 400, "INVALID_ARGUMENT"),
            ("wrong type", "/v1/queues", HTTP.json(["name": 5]), "application/json", 400, "INVALID_ARGUMENT"),
            ("huge number", "/v1/queues", Data("{\"name\":\"n\",\"tombstoneWindowMs\":1e400}".utf8), "application/json", 400, "INVALID_ARGUMENT"),
            ("invalid UTF-8", "/v1/queues", Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), "application/json", 400, "INVALID_ARGUMENT"),
            ("deep nesting", "/v1/queues", Data((String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000)).utf8), "application/json", 400, "INVALID_ARGUMENT"),
            ("wrong content type", "/v1/queues", HTTP.json(["name": "q3"]), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("too large", "/v1/queues/q/tasks", HTTP.json(["kind": "http", "payload": ["blob": String(repeating: "x", count: 100_000)]]), "application/json", 413, "PAYLOAD_TOO_LARGE"),
            ("duplicate", "/v1/queues", HTTP.json(["name": "q"]), "application/json", 409, "ALREADY_EXISTS"),
            ("unknown queue", "/v1/queues/nope/tasks", HTTP.json(["kind": "http"]), "application/json", 404, "NOT_FOUND"),
        ]
        for (name, path, body, contentType, status, code) in cases {
            let reply = try await HTTP.send("POST", base + path, body: body, contentType: contentType)
            #expect(reply.status == status, "\(name): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            #expect(reply.errorCode == code, "\(name)")
        }
        let missing = try await HTTP.send("GET", "\(base)/v1/queues/nope")
        #expect(missing.status == 404 && missing.errorCode == "NOT_FOUND")
        #expect(try await HTTP.send("GET", "\(base)/healthz").status == 200)

        // Without a quorum a node answers 503 with Retry-After, never 500.
        let others = cluster.members.map(\.id).filter { $0 != leader }
        for id in others { cluster.kill9(id) }
        var sawUnavailable = false
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !sawUnavailable {
            let reply = try await HTTP.send("POST", "\(base)/v1/queues", body: HTTP.json(["name": "late"]), timeout: 15)
            #expect(reply.status == 503 || reply.status == 504, "got \(reply.status)")
            if reply.status == 503 {
                sawUnavailable = true
                #expect(reply.headers["retry-after"] != nil)
                #expect(reply.errorCode == "UNAVAILABLE")
            }
        }
        #expect(sawUnavailable)
    }

    @Test func thousandsOfMalformedBodiesGet4xxAndTheNodeStaysHealthy() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: HTTP.json(["name": "fz"])).status == 201)
        var generator = SeededGenerator(seed: 0x7217E)
        let valid = Array(#"{"kind":"http","name":"n","payload":{"url":"http://127.0.0.1:9/","headers":{"a":"b"}},"scheduleTime":"2026-01-01T00:00:00Z"}"#.utf8)
        var statuses: [Int: Int] = [:]
        for i in 0..<2_000 {
            let body = Fuzz.mutate(valid, using: &generator)
            let target = i % 2 == 0 ? leader : follower
            let path = ["/v1/queues", "/v1/queues/fz/tasks", "/v1/jobs"][i % 3]
            let reply = try await HTTP.send("POST", "http://\(cluster.api(target))\(path)", body: Data(body))
            statuses[reply.status, default: 0] += 1
            #expect(reply.status < 500, "body \(String(decoding: body, as: UTF8.self)) got \(reply.status)")
        }
        #expect(statuses.keys.contains { (400..<500).contains($0) })
        for member in cluster.members {
            #expect(cluster.isRunning(member.id), "n\(member.id) died:\n\(cluster.log(member.id).suffix(2000))")
            #expect(try await HTTP.send("GET", "http://\(cluster.api(member.id))/healthz").status == 200)
        }
        let after = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues", body: HTTP.json(["name": "still-works"]))
        #expect(after.status == 201)
    }
}

/// SplitMix64: deterministic fuzzing from a seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fuzz {
    static let tokens: [[UInt8]] = ["{", "}", "[", "]", "\"", ":", ",", "null", "1e309", "-0", "9223372036854775808",
                                    "\\u0000", "\u{FEFF}", "true", "\"kind\"", "\"name\"", "NaN", "\\", "\u{10FFFF}"].map { Array($0.utf8) }

    /// Random edits of a valid body: byte flips, deletions, insertions of JSON tokens, truncation.
    static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(contentsOf: tokens.randomElement(using: &generator) ?? [], at: at)
            case 3: bytes = Array(bytes[..<at])
            default: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: Int.random(in: 1...200, using: &generator)), at: at)
            }
        }
        return bytes
    }
}
