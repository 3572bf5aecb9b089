import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import Scheduler
import ServiceLifecycle
import Store

/// Builds and runs a whole node: core (Raft, storage, transport, the leader's scheduler on the
/// driver thread), command forwarding, the executor and the HTTP API, as one service group that
/// shuts down gracefully on SIGTERM/SIGINT, stopping in reverse order: HTTP first (no request is
/// accepted by a node whose core is gone), then the executor (its attempts stop), then
/// forwarding, then the core.
public enum TriremeServer {
    public static func run(config: NodeConfig) async throws {
        let validated = try config.validated()
        let logContext = LogContext()
        let logger = LogContext.logger(nodeID: config.nodeId, level: validated.logLevel, context: logContext)

        let group = MultiThreadedEventLoopGroup.singleton
        let forwarding = CommandForwarding(config: validated, logger: logger)
        let jobLauncher = NodeJobLauncher(root: validated.dataRoot, splitBytes: config.jobSplitBytes, testDelayAllowed: config.testTaskKinds)
        let executor = NodeExecutor.makeService(config: validated, group: group, proposer: forwarding, jobLauncher: jobLauncher)
        let scheduling = NodeScheduling(
            schedulerConfig: SchedulerConfig(leaseDurationMs: config.leaseDurationMs, executorLivenessMs: config.executorLivenessMs),
            executor: executor, executorID: NodeExecutor.executorID(validated), tickMs: config.tickMs, logger: logger,
            jobs: JobCoordinator(root: validated.dataRoot, logger: logger))
        let core = NodeCore(config: validated, logger: logger, group: group, scheduling: scheduling, logContext: logContext)
        forwarding.attach(to: core)
        jobLauncher.attach(to: core)
        let api = NodeAPI(core: core, forwarder: Forwarder(selfID: config.nodeId, timeout: Double(config.writeTimeoutMs) / 1000,
                                                           tls: validated.tls, apiAddresses: validated.apiAddresses),
                          logger: logger, limits: CommandLimits())
        let http1 = RequestLimitsHandler.channelConfiguration(validated.security.config)
        // HTTP/1 with the create fast path in its pipeline (`CreateFastPath`).
        let http = HTTPServerBuilder { responder in APIChildChannel(http1: HTTP1Channel(responder: responder, configuration: http1), api: api) }
        let app = Application(
            router: api.router(),
            // With TLS configured the API serves HTTPS only (no plaintext listener at all).
            server: try validated.tls.map { try HTTPServerBuilder.tls(http, tlsConfiguration: $0.apiServer) } ?? http,
            configuration: .init(address: .hostname(validated.apiListen.host, port: validated.apiListen.port),
                                 serverName: "trireme"),
            logger: logger)
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: core), .init(service: forwarding), .init(service: NodeExecutor(service: executor)),
                           .init(service: StartAfter(core: core, app: app))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await services.run()
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
