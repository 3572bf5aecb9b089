import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Store

/// Builds and runs a whole node: core (Raft, storage, transport) and the HTTP API, as one
/// service group that shuts down gracefully on SIGTERM/SIGINT, stopping in reverse order (HTTP
/// first, so no request is accepted by a node whose core is gone).
public enum TriremeServer {
    public static func run(config: NodeConfig) async throws {
        let validated: ValidatedNodeConfig
        do {
            validated = try config.validated()
        } catch {
            throw error
        }
        var logger = Logger(label: "trireme")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        logger[metadataKey: "node"] = "n\(config.nodeId)"

        let core = NodeCore(config: validated, logger: logger)
        let api = NodeAPI(core: core, forwarder: Forwarder(selfID: config.nodeId, timeout: Double(config.writeTimeoutMs) / 1000),
                          logger: logger, limits: CommandLimits())
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(validated.apiListen.host, port: validated.apiListen.port),
                                 serverName: "trireme"),
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: core), .init(service: StartAfter(core: core, app: app))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// Starts the HTTP server only once the core has opened its storage, so the API never serves a
/// node without a store.
struct StartAfter: Service {
    let core: NodeCore
    let app: Application<RouterResponder<BasicRequestContext>>

    func run() async throws {
        try await core.waitUntilStarted()
        try await app.run()
    }
}
