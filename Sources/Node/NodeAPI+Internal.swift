import API
import Hummingbird
import NIOCore
import Store

extension NodeAPI {
    /// `POST /v1/internal/commands`: executor commands forwarded by followers (see
    /// `CommandForwarding`). Signed with the cluster secret (401 otherwise); only executor
    /// commands are accepted; 202 once every command is proposed, 503 when not the leader.
    func addInternalRoutes(to router: Router<BasicRequestContext>) {
        addSnapshotRoutes(to: router)
        router.post("/v1/internal/commands") { request, _ in
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: max(self.maxRequestBytes, 4 << 20))
            } catch {
                throw APIError(.payloadTooLarge, "command batch too large")
            }
            let body = Array(buffer.readableBytesView)
            let signature = request.headers[.triremeSignature]
            guard CommandBatch.verify(body, signature: signature, secret: self.core.config.secret) else {
                return HTTPSupport.json(["error": ["code": "UNAUTHENTICATED", "message": "bad or missing signature"]],
                                        status: .unauthorized)
            }
            guard let driver = self.core.driver, self.core.status?.role == .leader else {
                throw APIError(.unavailable, "not the leader", outcome: .notApplied)
            }
            let commands: [Command]
            do {
                commands = try CommandBatch.decode(body)
            } catch {
                throw APIError(.invalidArgument, "malformed command batch: \(error)")
            }
            for command in commands {
                guard CommandBatch.isExecutorCommand(command) else {
                    throw APIError(.invalidArgument, "only executor commands may be forwarded")
                }
                do {
                    try command.validate(limits: self.limits)
                } catch {
                    throw APIError(.invalidArgument, "invalid command: \(error)")
                }
            }
            for command in commands {
                driver.propose(command.encoded(), onApplied: { _, _, _ in }, onFailed: { _ in })
            }
            return HTTPSupport.json(["accepted": commands.count], status: .accepted)
        }
    }
}
