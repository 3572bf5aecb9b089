import Foundation
import Testing
import TestSupport

/// Regression tests for what schemathesis found (cluster/api-fuzz.sh): each was a 5xx on bad
/// input. One cluster, one request per finding.
@Suite(.ownThreads) struct APIFuzzFindingsTests {
    @Test func badInputIsA4xxNeverA5xx() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? leader
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: HTTP.json(["name": "q"])).status == 201)
        let cases: [(String, String, String, Int)] = [
            // A pageToken that is not base64 of a key: was 500 (the store's refusal was unmapped).
            ("GET", "/v1/queues?pageToken=%5BFiltered%5D", "pageToken", 400),
            ("GET", "/v1/jobs?pageToken=!!", "pageToken", 400),
            ("GET", "/v1/schedules?pageToken=!!&consistency=stale", "pageToken", 400),
            ("GET", "/v1/queues/q/tasks?pageToken=!!", "pageToken", 400),
            // An unknown consistency was silently a linearizable read.
            ("GET", "/v1/queues?consistency=AAA", "consistency", 400),
            // POST without a custom verb was a 405 without the Allow header RFC 9110 requires.
            ("POST", "/v1/queues/q", "", 404),
            ("POST", "/v1/jobs/j", "", 404),
        ]
        for (method, path, field, status) in cases {
            for id in [leader, follower] {
                let reply = try await HTTP.send(method, "http://\(cluster.api(id))\(path)")
                #expect(reply.status == status, "\(method) \(path) on n\(id): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
                #expect(((reply.json?["error"] as? [String: Any])?["field"] as? String ?? "") == field, "\(path)")
            }
        }
    }
}
