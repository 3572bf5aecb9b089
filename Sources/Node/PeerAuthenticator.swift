import Crypto
import Raft

/// Mutual authentication of peers with a shared cluster secret: each side proves knowledge of
/// the secret by an HMAC-SHA256 over both fresh nonces and both node ids, so a proof can be
/// neither replayed on another connection nor reflected back at its sender.
struct PeerAuthenticator: Sendable {
    /// Kept as bytes: `SymmetricKey` is not `Sendable`; a key is built per use (cheap).
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    init(secret: [UInt8]) {
        precondition(!secret.isEmpty, "the cluster secret must not be empty")
        self.secret = secret
    }

    static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<PeerFrame.nonceBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The server's proof, sent with its challenge. `version` is the hello's protocol version,
    /// bound into both proofs.
    func serverProof(clientNonce: [UInt8], serverNonce: [UInt8], from: NodeID, to: NodeID,
                     version: UInt8 = PeerFrame.protocolVersion) -> [UInt8] {
        mac(label: 0x53, version, clientNonce, serverNonce, from, to)
    }

    /// The client's proof, sent in `auth`.
    func clientProof(clientNonce: [UInt8], serverNonce: [UInt8], from: NodeID, to: NodeID,
                     version: UInt8 = PeerFrame.protocolVersion) -> [UInt8] {
        mac(label: 0x43, version, clientNonce, serverNonce, from, to)
    }

    /// Constant-time comparison (HMAC's own `isValidAuthenticationCode`).
    func verify(_ proof: [UInt8], label: UInt8, clientNonce: [UInt8], serverNonce: [UInt8], from: NodeID, to: NodeID,
                version: UInt8 = PeerFrame.protocolVersion) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            proof, authenticating: transcript(label: label, version, clientNonce, serverNonce, from, to), using: key)
    }

    static let serverLabel: UInt8 = 0x53
    static let clientLabel: UInt8 = 0x43

    private func mac(label: UInt8, _ version: UInt8, _ clientNonce: [UInt8], _ serverNonce: [UInt8], _ from: NodeID, _ to: NodeID) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: transcript(label: label, version, clientNonce, serverNonce, from, to), using: key))
    }

    private func transcript(label: UInt8, _ version: UInt8, _ clientNonce: [UInt8], _ serverNonce: [UInt8], _ from: NodeID, _ to: NodeID) -> [UInt8] {
        var bytes: [UInt8] = [label, version]
        bytes += clientNonce
        bytes += serverNonce
        for id in [from.rawValue, to.rawValue] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id >> UInt64(shift))) }
        }
        return bytes
    }
}
