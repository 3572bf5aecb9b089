import API
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Bearer-token authentication, role checks and the audit log of admin actions.
///
/// Added to the router before every route, so it sees every request (and the not-found
/// responder). `/v1/internal/*` is exempt: node-to-node calls are signed with the cluster
/// secret and checked by their handlers. Paths in `openPaths` (probes) need no token.
///
/// Forwarding: a follower authenticates and authorises the client BEFORE forwarding a write,
/// and passes the client's `Authorization` header on, so the leader checks it again with its
/// own token list (defence in depth; the token lists must match across nodes, like the cluster
/// secret). A request refused here never reaches the leader.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let security: ValidatedSecurity
    /// Label `trireme.audit`: who (token name, never the token) did what, when, with what result.
    let audit: Logger

    enum Permission: Equatable {
        /// Node-to-node, signed with the cluster secret (checked by the handler).
        case `internal`
        case read
        /// Tasks of one queue (create, run, cancel, redrive, delete), or jobs (queue nil).
        case submit(queue: String?)
        case admin
    }

    /// What a request needs, from its method and path alone (before any route runs).
    static func permission(method: HTTPRequest.Method, path: String) -> Permission {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.count >= 2, segments[0] == "v1", segments[1] == "internal" { return .internal }
        if method == .get || method == .head { return .read }
        if segments.count >= 4, segments[0] == "v1", segments[1] == "queues", segments[3] == "tasks" {
            return .submit(queue: String(segments[2]))
        }
        if segments.count >= 2, segments[0] == "v1", segments[1] == "jobs" { return .submit(queue: nil) }
        return .admin
    }

    static func allows(_ token: ValidatedSecurity.Token, _ permission: Permission) -> Bool {
        switch (token.role, permission) {
        case (_, .internal), (_, .read), (.admin, _): true
        case (.submitter, .submit(let queue)): queue.map { token.queues?.contains($0) ?? true } ?? true
        default: false
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The node's JSON depth limit for every body decoded below (HTTPSupport.checkShape).
        try await HTTPSupport.$maxDepth.withValue(security.config.maxJSONDepth) {
            try await authorise(request, context: context, next: next)
        }
    }

    private func authorise(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let permission = Self.permission(method: request.method, path: path)
        if permission == .internal { return try await next(request, context) }
        var who = "anonymous"
        if security.enabled && !security.openPaths.contains(path) {
            let presented = Self.bearer(request.headers[.authorization])
            guard let presented, let token = APITokens.match(presented, in: security.tokens) else {
                let why = presented == nil ? "missing bearer token" : "unknown token"
                record("denied", who: "-", request, status: 401, why: why)
                var headers = HTTPFields()
                headers[.wwwAuthenticate] = presented == nil ? #"Bearer realm="trireme""# : #"Bearer realm="trireme", error="invalid_token""#
                return HTTPSupport.error(APIError(.unauthenticated, "\(why): send Authorization: Bearer <token>"), headers: headers)
            }
            guard Self.allows(token, permission) else {
                record("denied", who: token.name, request, status: 403, why: "role \(token.role.rawValue)")
                return HTTPSupport.error(APIError(.permissionDenied, "token \(token.name) (\(token.role.rawValue)) may not \(request.method.rawValue) \(path)"))
            }
            who = token.name
        }
        guard permission == .admin else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            record("admin", who: who, request, status: Int(response.status.code), why: nil)
            return response
        } catch let error as APIError {
            record("admin", who: who, request, status: error.code.httpStatus, why: error.code.rawValue)
            throw error
        } catch {
            record("admin", who: who, request, status: 500, why: nil)
            throw error
        }
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive), nil otherwise.
    static func bearer(_ header: String?) -> String? {
        guard let header, header.utf8.count <= 600 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// One audit line, at notice, so a node at the default `info` level always writes it.
    private func record(_ kind: String, who: String, _ request: Request, status: Int, why: String?) {
        var metadata: Logger.Metadata = [
            "who": "\(who)", "method": "\(request.method.rawValue)", "path": "\(request.uri.path.prefix(300))",
            "status": "\(status)", "time": "\(HTTPSupport.rfc3339(HTTPSupport.nowMs()))",
        ]
        if let why { metadata["reason"] = "\(why)" }
        if let by = request.headers[.forwardedBy] { metadata["forwardedBy"] = "n\(by.prefix(20))" }
        audit.notice("\(kind)", metadata: metadata)
    }
}
