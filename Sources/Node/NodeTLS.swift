import NIOCore
import NIOSSL
import Raft

/// A node's TLS material, loaded once at start from `tlsCertFile`, `tlsKeyFile` and `tlsCAFile`
/// (PEM). With it the node serves its API over HTTPS only, talks to its peers over mutual TLS
/// (both sides present a certificate of the cluster CA and check the other's node identity),
/// and calls other nodes' APIs (forwarding, snapshots) over HTTPS trusting the cluster CA only.
///
/// Identity: a node's certificate names it by the DNS subject alternative name
/// `n<id>.trireme.local` (`PeerIdentity`), also sent as SNI. Both sides check it explicitly
/// after the handshake: the dialling side before it sends anything but its `hello` (peer links)
/// or its request (HTTPS calls), because BoringSSL's hostname check alone also accepts a
/// certificate whose IP names match the connected address, which every node's does on one host;
/// the listening side against the node id the peer claims in its `hello`.
public struct NodeTLS: Sendable {
    /// The API server's configuration (HummingbirdTLS builds its context from it).
    let apiServer: TLSConfiguration
    /// Inbound peer connections: a client certificate of the cluster CA is required.
    let peerServer: NIOSSLContext
    /// Outbound: peer links (presenting this node's certificate) and calls to other nodes' APIs.
    let client: NIOSSLContext

    /// Loads and checks the files: the chain must name this node (`n<id>.trireme.local`), so a
    /// node started with another node's certificate fails at once instead of being refused by
    /// every peer.
    static func load(certFile: String, keyFile: String, caFile: String, nodeID: NodeID) throws(NodeConfigError) -> NodeTLS {
        let chain: [NIOSSLCertificate]
        let authorities: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certFile)
        } catch {
            throw .invalid("tlsCertFile \(certFile): \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw .invalid("tlsKeyFile \(keyFile): \(error)")
        }
        do {
            authorities = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw .invalid("tlsCAFile \(caFile): \(error)")
        }
        guard let leaf = chain.first else { throw .invalid("tlsCertFile \(certFile) holds no certificate") }
        guard !authorities.isEmpty else { throw .invalid("tlsCAFile \(caFile) holds no certificate") }
        guard PeerIdentity.nodeIDs(in: leaf).contains(nodeID) else {
            throw .invalid("tlsCertFile \(certFile) does not name this node: it needs the DNS name \(PeerIdentity.dnsName(nodeID))")
        }
        let certificates = chain.map { NIOSSLCertificateSource.certificate($0) }

        var api = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(key))
        api.minimumTLSVersion = .tlsv12

        var peerServer = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(key))
        peerServer.minimumTLSVersion = .tlsv13
        peerServer.trustRoots = .certificates(authorities)
        // A client certificate names a node, not the host it connects from: the chain is
        // verified here, the name is checked against the claimed node id in `PeerInboundHandler`.
        peerServer.certificateVerification = .noHostnameVerification

        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv12
        client.certificateChain = certificates
        client.privateKey = .privateKey(key)
        // Only the cluster CA: a publicly trusted certificate must not pass for a node.
        client.trustRoots = .certificates(authorities)
        client.certificateVerification = .fullVerification
        do {
            return NodeTLS(apiServer: api, peerServer: try NIOSSLContext(configuration: peerServer),
                           client: try NIOSSLContext(configuration: client))
        } catch {
            throw .invalid("TLS files \(certFile), \(keyFile): \(error)")
        }
    }

    /// The outbound TLS of a call to node `id`'s API: its certificate must name that node.
    func toNode(_ id: NodeID) -> ClientTLS {
        ClientTLS(context: client, serverHostname: PeerIdentity.dnsName(id), node: id)
    }
}

/// TLS for one outbound connection: the context (trust roots, own certificate) and the name the
/// server's certificate must carry (also sent as SNI); nil checks the connected IP address
/// against the certificate's IP names instead.
public struct ClientTLS: Sendable {
    let context: NIOSSLContext
    let serverHostname: String?
    /// The node the server's certificate must name. Checked by the caller once the handshake is
    /// done (`accepts`), before anything but a peer `hello` is sent: BoringSSL's own hostname
    /// check also accepts a certificate whose IP address names match the connected address, and
    /// on one host (127.0.0.1 in development) every node's certificate would.
    var node: NodeID? = nil

    /// A client that trusts the CA certificates in `caFile` (PEM) and no others (the CLI's `--cacert`).
    public static func trusting(caFile: String, serverHostname: String? = nil) throws -> ClientTLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        return ClientTLS(context: try NIOSSLContext(configuration: configuration), serverHostname: serverHostname)
    }

    /// Whether the handshake-complete `channel`'s server certificate names `node` (always true
    /// without a required node). Call on the channel's event loop.
    func accepts(_ channel: any Channel) -> Bool {
        guard let node else { return true }
        guard let certificate = try? channel.pipeline.syncOperations.nioSSL_peerCertificate() else { return false }
        return PeerIdentity.nodeIDs(in: certificate).contains(node)
    }

    /// Adds the client handler as the first handler of a new channel (call on its event loop).
    func addHandler(to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(
            NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
    }
}

/// The node identity a certificate carries: DNS subject alternative names `n<id>.trireme.local`.
enum PeerIdentity {
    static let suffix = ".trireme.local"

    static func dnsName(_ id: NodeID) -> String { "n\(id.rawValue)\(suffix)" }

    /// Every node id the certificate names (normally one). Only canonical decimal ids count
    /// (`n01` is not node 1), so one id has exactly one spelling.
    static func nodeIDs(in certificate: NIOSSLCertificate) -> Set<NodeID> {
        var ids = Set<NodeID>()
        // `_subjectAlternativeNames` is underscored but public in swift-nio-ssl; the alternative
        // (swift-certificates) would be a whole new dependency for one field.
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            if let id = nodeID(named: String(decoding: name.contents, as: UTF8.self)) { ids.insert(id) }
        }
        return ids
    }

    static func nodeID(named name: String) -> NodeID? {
        let lower = name.lowercased()
        guard lower.hasPrefix("n"), lower.hasSuffix(suffix) else { return nil }
        let digits = lower.dropFirst().dropLast(suffix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = UInt64(digits),
              String(value) == digits, value != 0 else { return nil }
        return NodeID(value)
    }
}

extension NodeConfig {
    /// The TLS material, when configured: all three files or none (a half-configured node would
    /// silently fall back to plaintext on the side that was left out).
    func validatedTLS() throws(NodeConfigError) -> NodeTLS? {
        switch (tlsCertFile, tlsKeyFile, tlsCAFile) {
        case (nil, nil, nil):
            return nil
        case (let cert?, let key?, let ca?):
            return try NodeTLS.load(certFile: cert, keyFile: key, caFile: ca, nodeID: NodeID(nodeId))
        default:
            throw .invalid("tlsCertFile, tlsKeyFile and tlsCAFile go together: set all three or none")
        }
    }
}
