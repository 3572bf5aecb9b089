import Foundation
@testable import Node
import Testing
import TestSupport

/// A three-node cluster with TLS on (issue 10): HTTPS API, mutual TLS between peers, with
/// certificates made by `cluster/certs.sh`. Every process is killed when the cluster value is
/// released, also when a test fails half-way.
@Suite(.serialized, .ownThreads) struct TLSClusterTests {
    /// Starts a TLS cluster; returns it, its CA file and the agreed leader.
    private func startTLSCluster(extraConfig: [String: Any] = [:]) async throws -> (LocalCluster, String, Int) {
        let cluster = try LocalCluster(extraConfig: extraConfig)
        let certs = cluster.root.appendingPathComponent("certs")
        try TestCerts.make(certs, ids: cluster.members.map(\.id))
        cluster.nodeConfig = { id in TestCerts.config(certs, id: id) }
        try cluster.startAll()
        let caFile = certs.appendingPathComponent("ca.pem").path
        return (cluster, caFile, try await cluster.waitForTLSLeader(caFile: caFile))
    }

    @Test("TLS: elects a leader over mutual TLS and takes writes over HTTPS through a follower (CLI --cacert)")
    func electsAndWritesThroughAFollower() async throws {
        let (cluster, caFile, leader) = try await startTLSCluster()
        let follower = leader % 3 + 1

        // HTTPS only: a plaintext request gets no answer.
        let plain = try? await HTTP.send("GET", "http://\(cluster.api(follower))/v1/cluster?consistency=stale", timeout: 2)
        #expect(plain == nil)

        // The CLI trusts the cluster CA through --cacert; the follower forwards to the leader over HTTPS.
        let (created, createOutput) = try cluster.cli(["queue", "create", "tls-queue", "--server", cluster.api(follower),
                                                       "--cacert", caFile])
        #expect(created == 0, "queue create through n\(follower): \(createOutput)")
        let (listed, listOutput) = try cluster.cli(["queue", "list", "--server", cluster.api(follower)],
                                                   environment: ["TRIREME_CACERT": caFile])
        #expect(listed == 0 && listOutput.contains("tls-queue"), "\(listOutput)")

        // A task written through the follower is readable on the leader (read over HTTPS too).
        let body = HTTP.json(["name": "tls-task", "kind": "http", "payload": ["url": "http://127.0.0.1:9/"]])
        let write = try await HTTPSExchange.send(method: "POST", server: cluster.api(follower), path: "/v1/queues/tls-queue/tasks",
                                                 body: body, headers: ["Content-Type": "application/json"], caFile: caFile, timeout: 15)
        #expect((200..<300).contains(write.status), "\(String(decoding: write.body, as: UTF8.self))")
        let task = (try? JSONSerialization.jsonObject(with: write.body)) as? [String: Any]
        let id = try #require(task?["id"] as? String)
        let read = try await HTTPSExchange.send(method: "GET", server: cluster.api(leader), path: "/v1/queues/tls-queue/tasks/\(id)",
                                                body: nil, headers: [:], caFile: caFile, timeout: 15)
        #expect(read.status == 200)

        // A body far larger than the head limit, in few TLS reads: the head guard counts the
        // decrypted head only (it sits behind TLS, in front of the HTTP decoder).
        let big = HTTP.json(["name": "tls-big", "kind": "http", "payload": ["url": "http://127.0.0.1:9/", "pad": String(repeating: "p", count: 60_000)]])
        let bigWrite = try await HTTPSExchange.send(method: "POST", server: cluster.api(leader), path: "/v1/queues/tls-queue/tasks",
                                                    body: big, headers: ["Content-Type": "application/json"], caFile: caFile, timeout: 15)
        #expect(bigWrite.status == 201, "\(String(decoding: bigWrite.body.prefix(300), as: UTF8.self))")

        // The dashboard may reach the other members over HTTPS only.
        let page = try await HTTPSExchange.send(method: "GET", server: cluster.api(follower), path: "/", body: nil,
                                                headers: [:], caFile: caFile, timeout: 15)
        #expect(page.headers["content-security-policy"]?.contains("https://\(cluster.api(leader))") == true)

        // Without the CA the CLI refuses the cluster's certificate.
        let (untrusted, _) = try cluster.cli(["queue", "list", "--server", cluster.api(follower), "--cacert",
                                              try otherCA(cluster)])
        #expect(untrusted != 0)
    }

    /// A CA that did not sign the cluster's certificates.
    private func otherCA(_ cluster: LocalCluster) throws -> String {
        let other = cluster.root.appendingPathComponent("other-ca")
        try TestCerts.run(other, ["init"])
        return other.appendingPathComponent("ca.pem").path
    }

    @Test("B11 with TLS: no certificate, a foreign CA's, or another node's certificate is refused; forged terms never land")
    func peerPortRefusesWithoutTheRightCertificate() async throws {
        let (cluster, caFile, _) = try await startTLSCluster()
        let certs = cluster.root.appendingPathComponent("certs")
        let target = 1
        let port = try #require(PeerAddress(parsing: cluster.members[target - 1].peer)?.port)
        let claimed: UInt64 = 2

        // (a) Plain TCP on the TLS port: garbage, then well-formed but forged frames.
        let plain = try await PeerProbe.connect(port: port)
        await plain.send((0..<64).map { _ in UInt8.random(in: 0...255) })
        #expect(await plain.ended(), "(a) plaintext garbage was not dropped")
        let plainFrames = try await PeerProbe.connect(port: port)
        await plainFrames.send(Forged.hello(from: claimed, to: 1))
        await plainFrames.send(Forged.batch(from: claimed, to: 1))
        #expect(await plainFrames.ended(), "(a) plaintext frames were not dropped")

        // (b) A certificate for node 2 from another CA.
        let foreign = cluster.root.appendingPathComponent("foreign")
        try TestCerts.make(foreign, ids: [2])
        let stranger = try await PeerProbe.connect(port: port, tls: try TestCerts.client(foreign, id: 2))
        await stranger.send(Forged.hello(from: claimed, to: 1))
        await stranger.send(Forged.batch(from: claimed, to: 1))
        #expect(await stranger.firstFrame() == nil, "(b) a foreign CA's certificate got a challenge")
        #expect(await stranger.ended(), "(b) a foreign CA's certificate was not refused")

        // (c) The cluster CA's certificate for node 9, claiming to be node 2.
        try TestCerts.run(certs, ["issue", "9"])
        let impostor = try await PeerProbe.connect(port: port, tls: try TestCerts.client(certs, id: 9))
        await impostor.send(Forged.hello(from: claimed, to: 1))
        #expect(await impostor.firstFrame() == nil, "(c) node 9's certificate got a challenge as node 2")
        #expect(await impostor.ended(), "(c) node 9's certificate claiming node 2 was not refused")

        // Control: node 2's own certificate passes TLS and gets a challenge (so the refusals
        // above are the certificate checks, not a broken probe). (d) Without the cluster secret
        // it cannot authenticate: a forged batch after the hello, or after a wrong proof, is dropped.
        let unproven = try await PeerProbe.connect(port: port, tls: try TestCerts.client(certs, id: 2))
        await unproven.send(Forged.hello(from: claimed, to: 1))
        let challenge = await unproven.firstFrame()
        #expect(Forged.isChallenge(challenge), "control: no challenge for node 2's certificate")
        await unproven.send(Forged.batch(from: claimed, to: 1))
        #expect(await unproven.ended(), "(d) a batch before authentication was not dropped")
        let wrongProof = try await PeerProbe.connect(port: port, tls: try TestCerts.client(certs, id: 2))
        await wrongProof.send(Forged.hello(from: claimed, to: 1))
        _ = await wrongProof.firstFrame()
        await wrongProof.send(.auth(proof: (0..<PeerFrame.proofBytes).map { _ in UInt8.random(in: 0...255) }))
        await wrongProof.send(Forged.batch(from: claimed, to: 1))
        #expect(await wrongProof.ended(), "(d) a wrong proof was not refused")

        // No forged term landed, and every node still agrees on a leader over mutual TLS.
        for member in cluster.members {
            let status = try #require(await cluster.tlsStatus(member.id, caFile: caFile), "n\(member.id) stopped answering")
            #expect(status.term < Forged.term, "n\(member.id) took the forged term")
        }
        _ = try await cluster.waitForTLSLeader(caFile: caFile)
    }

    @Test("TLS: a follower that missed compacted entries downloads the snapshot over HTTPS")
    func snapshotOverHTTPS() async throws {
        let (cluster, caFile, leader) = try await startTLSCluster(extraConfig: ["snapshotEntries": 40, "snapshotGrowth": 0])
        let follower = leader % 3 + 1
        func post(_ path: String, _ body: [String: Any]) async throws -> Int {
            try await HTTPSExchange.send(method: "POST", server: cluster.api(leader), path: path, body: HTTP.json(body),
                                         headers: ["Content-Type": "application/json"], caFile: caFile, timeout: 15).status
        }
        #expect(try await post("/v1/queues", ["name": "snap"]) == 201)
        cluster.kill9(follower)
        for i in 0..<120 {
            let status = try await post("/v1/queues/snap/tasks", ["name": "t-\(i)", "kind": "http", "payload": ["url": "http://127.0.0.1:9/x"],
                                                                 "scheduleTime": "2099-01-01T00:00:00Z"])
            try #require(status == 201, "task \(i): \(status)")
        }
        // The leader has compacted past what the stopped follower has (its log starts later).
        // Its first compaction (at its second snapshot) goes up to its first snapshot: entry 40,
        // 50 or 60 (staggered by node id).
        let deadline = Date().addingTimeInterval(30)
        var compacted: UInt64 = 0
        while compacted < 40 && Date() < deadline {
            let reply = try? await HTTPSExchange.send(method: "GET", server: cluster.api(leader), path: "/v1/cluster?consistency=stale",
                                                      body: nil, headers: [:], caFile: caFile, timeout: 2)
            let json = reply.flatMap { (try? JSONSerialization.jsonObject(with: $0.body)) as? [String: Any] }
            compacted = (json?["snapshotIndex"] as? NSNumber)?.uint64Value ?? 0
            if compacted < 40 { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(compacted >= 40, "the leader did not compact its log")

        // Info logs on the restarted follower, to see where its state came from.
        let certs = cluster.root.appendingPathComponent("certs")
        cluster.nodeConfig = { id in TestCerts.config(certs, id: id).merging(["logLevel": "info"]) { _, new in new } }
        try cluster.start(follower)
        let commit = try #require(await cluster.tlsStatus(leader, caFile: caFile)).commitIndex
        let caughtUp = Date().addingTimeInterval(60)
        var applied: UInt64 = 0
        while applied < commit && Date() < caughtUp {
            applied = await cluster.tlsStatus(follower, caFile: caFile)?.appliedIndex ?? 0
            if applied < commit { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(applied >= commit, "n\(follower) applied \(applied) of \(commit):\n\(cluster.log(follower).suffix(2000))")
        #expect(cluster.log(follower).contains("snapshot downloaded"), "the follower did not download a snapshot")
    }
}
