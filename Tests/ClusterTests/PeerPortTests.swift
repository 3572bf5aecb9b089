import Foundation
@testable import Node
import Raft
import Testing
import TestSupport

/// B11 on the default transport (plain TCP, HMAC handshake with the cluster secret): nothing
/// an unauthenticated connection sends reaches Raft, and the node stays healthy.
@Suite(.serialized, .ownThreads) struct PeerPortTests {
    @Test("B11 without TLS: garbage, oversized and unauthenticated frames are dropped; forged terms never land")
    func unauthenticatedPeersAreDropped() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let port = try #require(PeerAddress(parsing: cluster.members[0].peer)?.port)

        // Garbage bytes.
        let garbage = try await PeerProbe.connect(port: port)
        await garbage.send((0..<64).map { _ in UInt8.random(in: 0...255) })
        #expect(await garbage.ended(), "garbage was not dropped")

        // A frame claiming 4 GiB (the handshake limit is 256 bytes).
        let huge = try await PeerProbe.connect(port: port)
        await huge.send([0xFF, 0xFF, 0xFF, 0xFF, PeerFrame.Kind.hello.rawValue])
        #expect(await huge.ended(), "an oversized frame was not dropped")

        // A forged batch (huge term) as the first frame, with no handshake at all.
        let bare = try await PeerProbe.connect(port: port)
        await bare.send(Forged.batch(from: 2, to: 1))
        #expect(await bare.ended(), "a batch without a handshake was not dropped")

        // A hello from node 1's own id.
        let mirror = try await PeerProbe.connect(port: port)
        await mirror.send(Forged.hello(from: 1, to: 1))
        #expect(await mirror.ended(), "a hello from the node's own id was not dropped")

        // Control: a valid hello gets a challenge (the probe speaks the protocol). Then a forged
        // batch instead of the proof is dropped.
        let skipped = try await PeerProbe.connect(port: port)
        await skipped.send(Forged.hello(from: 2, to: 1))
        let challenge = await skipped.firstFrame()
        #expect(Forged.isChallenge(challenge), "control: a valid hello got no challenge")
        await skipped.send(Forged.batch(from: 2, to: 1))
        #expect(await skipped.ended(), "a batch before the proof was not dropped")

        // A proof made with the wrong secret, then a forged batch.
        let nonce = PeerAuthenticator.nonce()
        let wrong = try await PeerProbe.connect(port: port)
        await wrong.send(.hello(version: PeerFrame.protocolVersion, from: NodeID(2), to: NodeID(1), nonce: nonce))
        if case .challenge(let serverNonce, _) = await wrong.firstFrame() {
            let proof = PeerAuthenticator(secret: Array("not-the-cluster-secret-0123456789".utf8))
                .clientProof(clientNonce: nonce, serverNonce: serverNonce, from: NodeID(2), to: NodeID(1))
            await wrong.send(.auth(proof: proof))
        }
        await wrong.send(Forged.batch(from: 2, to: 1))
        #expect(await wrong.ended(), "a proof made with the wrong secret was not refused")

        // No forged term landed, and the cluster still agrees on a leader.
        for member in cluster.members {
            let status = try #require(await cluster.status(member.id), "n\(member.id) stopped answering")
            #expect(status.term < Forged.term, "n\(member.id) took the forged term")
        }
        _ = try await cluster.waitForLeader()
    }
}
