import API
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Raft
import Store

/// The client API: routes, the write path (propose → commit → apply → answer) and the read
/// path (ReadIndex by default, `?consistency=stale` for the local replica).
struct NodeAPI: Sendable {
    let core: NodeCore
    let forwarder: Forwarder
    let logger: Logger
    let limits: CommandLimits

    var maxRequestBytes: Int { core.config.config.maxRequestBytes }
    var writeTimeout: TimeAmount { .milliseconds(Int64(core.config.config.writeTimeoutMs)) }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        // First: it sees every answer, errors included (request id, index header, HTTP metrics).
        router.add(middleware: RequestObservationMiddleware(metrics: core.metrics, changes: core.changes, logger: logger))
        router.add(middleware: APIErrorMiddleware(logger: logger))
        router.add(middleware: AuthMiddleware(security: core.config.security, audit: auditLogger))
        router.get("/healthz") { _, _ in HTTPSupport.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in try self.readiness() }
        router.get("/v1/cluster") { request, _ in try await self.clusterStatus(request) }
        addQueueRoutes(to: router)
        addTaskRoutes(to: router)
        addJobRoutes(to: router)
        addInternalRoutes(to: router)
        addScheduleRoutes(to: router)
        addMembershipRoutes(to: router)
        addWebRoutes(to: router)
        addMetricsRoute(to: router)
        addJobPresetRoutes(to: router)
        // Last: it must see only the requests no route took (see its comment).
        router.add(middleware: MethodNotAllowedMiddleware(routes: Self.routeMethods))
        return router
    }

    /// Label `trireme.audit`, never quieter than notice (audit lines are notices).
    var auditLogger: Logger {
        var audit = Logger(label: "trireme.audit")
        audit.logLevel = min(logger.logLevel, .notice)
        audit[metadataKey: "node"] = "n\(core.config.id.rawValue)"
        return audit
    }

    // MARK: cluster

    /// Ready when this node knows a leader and has applied everything it knows is committed.
    func readiness() throws -> Response {
        guard let status = core.status, let leader = status.leader else {
            throw APIError(.unavailable, "no leader known")
        }
        guard status.applied >= status.commit else {
            throw APIError(.unavailable, "catching up: applied \(status.applied.rawValue) of \(status.commit.rawValue)")
        }
        return HTTPSupport.json(["status": "ready", "leader": "n\(leader.rawValue)"])
    }

    func clusterStatus(_ request: Request) async throws -> Response {
        guard let status = core.status else { throw APIError(.unavailable, "node is starting") }
        let members = core.config.config.members.map { member in
            MemberBody(id: member.id, apiAddress: member.api, peerAddress: member.peer,
                       matchIndex: status.matchIndex[NodeID(member.id)]?.rawValue,
                       role: status.configuration.voters.contains(NodeID(member.id)) ? "voter"
                           : status.configuration.learners.contains(NodeID(member.id)) ? "learner" : "none")
        }
        let body = ClusterStatusBody(
            nodeId: status.id.rawValue, role: status.role.rawValue, term: status.term.rawValue,
            leader: status.leader?.rawValue, leaderApiAddress: status.leader.flatMap { core.config.apiAddresses[$0] },
            commitIndex: status.commit.rawValue, appliedIndex: status.applied.rawValue,
            lastIndex: status.lastIndex.rawValue, members: members,
            executors: try await clusterExecutors(), snapshotIndex: status.snapshotIndex.rawValue,
            latestSnapshot: core.snapshotFiles.list().first?.name)
        // Read-only and no secret: any origin may read it, so each node's dashboard shows every
        // member's own view (role, term, indexes).
        return HTTPSupport.json(body, headers: [.accessControlAllowOrigin: "*"])
    }

    /// From this node's applied state (a stale read: the status is this node's view anyway).
    func clusterExecutors() async throws -> [ExecutorBody]? {
        guard let driver = core.driver else { return nil }
        let records = try await driver.read(linearizable: false) { machine in try machine.store.executors() }
        return records.map { record in
            ExecutorBody(id: record.id, node: record.node, slots: record.slots,
                         registerTime: HTTPSupport.rfc3339(record.registerTimeMs),
                         lastHeartbeatTime: HTTPSupport.rfc3339(record.lastHeartbeatMs))
        }
    }

    // MARK: the write path

    /// Runs a write: on the leader, decode + stamp + validate + propose + wait for apply;
    /// on a follower, forward to the leader and answer once applied here too. `fetch` runs on
    /// the driver thread right after apply (it reads what the answer needs, cheaply); `render`
    /// builds the response off that thread.
    func write<T: Sendable>(
        _ request: Request, context: BasicRequestContext,
        build: @Sendable (Request, BasicRequestContext) async throws(APIError) -> Command,
        fetch: @escaping @Sendable (StateStore, ApplyOutcome) throws -> T,
        render: @Sendable (T, ApplyOutcome) throws -> Response
    ) async throws -> Response {
        try await write(request, context: context, build: build, fetchCommand: { store, outcome, _ in try fetch(store, outcome) },
                        render: render)
    }

    /// `write` whose `fetch` also gets the command that was applied (a create can answer from it).
    func write<T: Sendable>(
        _ request: Request, context: BasicRequestContext,
        build: @Sendable (Request, BasicRequestContext) async throws(APIError) -> Command,
        fetchCommand fetch: @escaping @Sendable (StateStore, ApplyOutcome, Command) throws -> T,
        render: @Sendable (T, ApplyOutcome) throws -> Response
    ) async throws -> Response {
        guard let driver = core.driver, let role = core.roleAndTerm?.role else { throw APIError(.unavailable, "node is starting") }
        if role != .leader {
            guard let status = core.status else { throw APIError(.unavailable, "node is starting") }
            return try await forward(request, status: status, driver: driver)
        }
        let command = try await build(request, context)
        do {
            try command.validate(limits: limits)
        } catch {
            throw NodeAPI.apiError(error)
        }
        let applied = try await propose(command, driver: driver, fetch: fetch)
        var response = try render(try Self.appliedValue(applied), applied.outcome)
        response.headers[.raftIndex] = String(applied.index)
        response.headers[.raftTerm] = String(core.roleAndTerm?.term.rawValue ?? 0)
        return response
    }

    /// A write whose answer is a fixed body (deletes).
    func write(_ request: Request, context: BasicRequestContext,
               build: @Sendable (Request, BasicRequestContext) async throws(APIError) -> Command) async throws -> Response {
        try await write(request, context: context, build: build, fetch: { _, _ in true },
                        render: { _, _ in HTTPSupport.json([String: String]()) })
    }

    /// What one proposed write came to: its log index, the store's outcome, and what `fetch`
    /// read right after apply (nil when the store rejected the command).
    typealias Applied<T> = (index: UInt64, outcome: ApplyOutcome, fetched: Result<T, any Error>?)

    private func propose<T: Sendable>(
        _ command: Command, driver: RaftDriver<StoreMachine>,
        fetch: @escaping @Sendable (StateStore, ApplyOutcome, Command) throws -> T
    ) async throws(APIError) -> Applied<T> {
        let result = await withCheckedContinuation { continuation in
            propose(command, driver: driver, fetch: fetch) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Proposes `command` and calls `done` once: with what was applied (on the driver thread),
    /// or with the error to answer (not the leader, leadership lost, not committed within the
    /// write timeout: on whichever thread learnt it). `fetch` runs on the driver thread right
    /// after apply. The create fast path (`CreateFastPath`) calls this from an event loop.
    func propose<T: Sendable>(
        _ command: Command, driver: RaftDriver<StoreMachine>,
        fetch: @escaping @Sendable (StateStore, ApplyOutcome, Command) throws -> T,
        done: @escaping @Sendable (Result<Applied<T>, APIError>) -> Void
    ) {
        let bytes = command.encoded()
        let timeoutMs = core.config.config.writeTimeoutMs
        OneShot<Result<Applied<T>, DriverError>?>.first(timeout: writeTimeout, sweeper: core.writeDeadlines, timedOut: nil, then: { result in
            switch result {
            case .none:
                done(.failure(APIError(.deadlineExceeded, "not committed within \(timeoutMs) ms; it may still commit", outcome: .unknown)))
            case .success(let applied)?:
                done(.success(applied))
            case .failure(let error)?:
                done(.failure(self.apiError(error)))
            }
        }) { resume in
            driver.propose(bytes, onApplied: { machine, index, outcome in
                if case .rejected = outcome {
                    resume(.success((index, outcome, nil)))
                } else {
                    resume(.success((index, outcome, Result { try fetch(machine.store, outcome, command) })))
                }
            }, onFailed: { resume(.failure($0)) })
        }
    }

    /// The value an applied write answers with, or the error it answers: the store's rejection,
    /// or whatever `fetch` threw.
    static func appliedValue<T>(_ applied: Applied<T>) throws -> T {
        if case .rejected(let rejection) = applied.outcome { throw NodeAPI.apiError(rejection) }
        guard let fetched = applied.fetched else { throw APIError(.internalError, "no result for an applied write") }
        return try fetched.get()
    }

    func forward(_ request: Request, status: RaftStatus, driver: RaftDriver<StoreMachine>) async throws -> Response {
        guard request.headers[.forwardedBy] == nil else {
            throw APIError(.unavailable, "not the leader (leadership moved while forwarding); retry", outcome: .notApplied)
        }
        guard let leader = status.leader, let address = core.config.apiAddresses[leader] else {
            throw APIError(.unavailable, "no leader known; retry shortly", outcome: .notApplied)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxRequestBytes)
        } catch {
            throw APIError(.payloadTooLarge, "request body exceeds \(maxRequestBytes) bytes")
        }
        let path = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        let answer = try await forwarder.forward(method: request.method, path: path, body: body,
                                                 contentType: request.headers[.contentType], idempotencyKey: request.headers[.idempotencyKey],
                                                 authorization: request.headers[.authorization], to: address)
        // Read-your-writes: answer only once this node has applied the write too.
        if let index = answer.raftIndex {
            do {
                try await driver.waitApplied(index)
            } catch {
                // The leader committed the write, but this node cannot answer for it yet (it is
                // partitioned or far behind): never a definite failure. A retry with the same
                // Idempotency-Key, or a read from the leader, shows the outcome.
                throw APIError(.deadlineExceeded,
                               "the leader committed this write at index \(index), but this node has not applied it in time; "
                               + "retry with the same Idempotency-Key or ask another node", outcome: .unknown)
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType ?? "application/json"
        if let index = answer.raftIndex { headers[.raftIndex] = String(index) }
        if let term = answer.raftTerm { headers[.raftTerm] = term }
        return Response(status: .init(code: answer.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    // MARK: the read path

    /// Runs `body` against the store: linearizable (ReadIndex) unless `?consistency=stale`.
    func read<T: Sendable>(_ request: Request, _ body: @escaping @Sendable (StateStore) throws -> T) async throws -> T {
        guard let driver = core.driver else { throw APIError(.unavailable, "node is starting") }
        let consistency = request.uri.queryParameters["consistency"].map { String($0) }
        // A typo must not silently buy the other guarantee (found by schemathesis).
        guard consistency == nil || consistency == "stale" || consistency == "linearizable" else {
            throw APIError(.invalidArgument, "consistency must be stale or linearizable", field: "consistency")
        }
        let stale = consistency == "stale"
        let scope = RequestScope.current
        do {
            return try await driver.read(linearizable: !stale) { machine in
                scope?.noteRead(at: machine.appliedIndex)
                return try body(machine.store)
            }
        } catch let error as DriverError {
            throw apiError(error)
        } catch StoreError.invalidCommand(let error) {
            // A query refusing its input (a malformed pageToken): the client's fault, 400 not 500
            // (found by schemathesis, cluster/api-fuzz.sh).
            throw NodeAPI.apiError(error)
        }
    }

    func apiError(_ error: DriverError) -> APIError {
        switch error {
        case .notLeader(let leader):
            return APIError(.unavailable, "no leader known; retry shortly", outcome: .notApplied,
                            leader: leader.flatMap { core.config.apiAddresses[$0] })
        case .busy(let why): return APIError(.unavailable, why, outcome: .notApplied)
        case .dropped: return APIError(.unavailable, "leadership changed before the write committed; retry", outcome: .notApplied)
        case .leadershipLost:
            return APIError(.unavailable, "this node stopped leading before the write committed; it may still commit: retry with the same Idempotency-Key",
                            outcome: .unknown)
        case .stopped: return APIError(.unavailable, "node is stopping", outcome: .unknown)
        }
    }
}

/// Turns every error a handler throws into a JSON error response; unexpected errors are
/// logged and answered 500 without details.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let known = HTTPSupport.apiError(for: error) else {
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                return HTTPSupport.error(APIError(.internalError, "internal error"))
            }
            return HTTPSupport.error(known)
        }
    }
}
