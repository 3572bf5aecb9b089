import API
import HTTPTypes
import Hummingbird

/// Answers 405 (JSON error, `Allow` header) for a known path asked with a method it does not
/// serve. Hummingbird 2's router answers 404 for both an unknown path and an unknown method,
/// so the table is kept here (`NodeAPI.routeMethods`); `OpenAPITests` checks it against the
/// router's own list (`Router.routes`) and against the OpenAPI document.
///
/// Added to the router AFTER every route: a Hummingbird middleware only wraps the endpoints
/// added after it, plus the not-found responder, so this one only sees requests no route
/// took. A stale table can only make a 404 of a new path or a wrong `Allow` list, never
/// shadow a route.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path templates (`:name` matches one segment) and the methods each serves.
    let routes: [(template: [Substring], methods: [HTTPRequest.Method])]

    init(routes: [String: [HTTPRequest.Method]]) {
        self.routes = routes.sorted { $0.key < $1.key }.map { (Self.segments($0.key), $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = allowedMethods(path: request.uri.path), !allowed.contains(request.method) else { throw error }
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            var headers = HTTPFields()
            headers[.allow] = list
            return HTTPSupport.error(APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed here; allowed: \(list)"),
                                     headers: headers)
        }
    }

    /// The methods of the first template matching `path`, nil when none does.
    func allowedMethods(path: String) -> [HTTPRequest.Method]? {
        let parts = Self.segments(path)
        for route in routes where route.template.count == parts.count {
            let matches = zip(route.template, parts).allSatisfy { template, part in
                template.hasPrefix(":") ? !part.isEmpty : template == part
            }
            if matches { return route.methods }
        }
        return nil
    }

    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}

extension NodeAPI {
    /// Every route and its methods, for 405 answers. Keep in step with the `add…Routes`.
    static let routeMethods: [String: [HTTPRequest.Method]] = [
        "/": [.get],
        "/dashboard.js": [.get],
        "/dashboard.css": [.get],
        "/openapi.json": [.get],
        "/healthz": [.get],
        "/readyz": [.get],
        "/metrics": [.get],
        "/v1/cluster": [.get],
        "/v1/cluster/members": [.post],
        "/v1/cluster/members/:member": [.post, .delete],
        "/v1/cluster/transfer": [.post],
        "/v1/queues": [.get, .post],
        "/v1/queues/:queue": [.get, .post, .patch, .delete],
        "/v1/queues/:queue/tasks": [.get, .post],
        "/v1/queues/:queue/tasks/:task": [.get, .post, .delete],
        "/v1/queues/:queue/tasks/:task/attempts": [.get],
        "/v1/jobs": [.get, .post],
        "/v1/jobs/:job": [.get, .post],
        "/v1/jobPresets": [.get],
        "/v1/jobPresets/:preset": [.get, .put, .delete],
        "/v1/schedules": [.get, .post],
        "/v1/schedules/:schedule": [.get, .post, .patch, .delete],
        "/v1/internal/commands": [.post],
        "/v1/internal/snapshots/:name": [.get],
        "/v1/internal/snapshots/:name/data": [.get],
    ]
}
