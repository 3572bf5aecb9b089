import Hummingbird
import NIOCore

/// The dashboard (`/`, `/dashboard.js`, `/dashboard.css`) and the OpenAPI document
/// (`/openapi.json`), served from `WebAssets`: string literals generated from
/// `Sources/Node/Web/` by `Sources/Node/Web/embed.py`. Embedded rather than a SwiftPM resource
/// bundle, whose `Bundle.module` calls fatalError on Linux when the bundle directory is not next
/// to a copied binary; a node must keep running wherever its binary goes.
extension NodeAPI {
    /// Only our own script and style, no inline code, no framing; the API of this node and of
    /// the other members (the dashboard reads each member's `/v1/cluster`, which answers any origin).
    /// `scheme`: https on a TLS cluster (the API then serves nothing else).
    static func contentSecurityPolicy(memberAPIs: [String], scheme: String = "http") -> String {
        let members = memberAPIs.map { "\(scheme)://\($0)" }.joined(separator: " ")
        return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' \(members); "
            + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    func addWebRoutes(to router: Router<BasicRequestContext>) {
        let csp = Self.contentSecurityPolicy(memberAPIs: core.config.config.members.map(\.api),
                                             scheme: core.config.tls == nil ? "http" : "https")
        router.get("/") { _, _ in Self.asset(WebAssets.indexHTML, type: "text/html; charset=utf-8", csp: csp) }
        router.get("/dashboard.js") { _, _ in Self.asset(WebAssets.dashboardJS, type: "text/javascript; charset=utf-8", csp: csp) }
        router.get("/dashboard.css") { _, _ in Self.asset(WebAssets.dashboardCSS, type: "text/css; charset=utf-8", csp: csp) }
        router.get("/openapi.json") { _, _ in Self.asset(WebAssets.openAPIJSON, type: "application/json; charset=utf-8", csp: csp) }
    }

    static func asset(_ text: String, type: String, csp: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = csp
        headers[.xContentTypeOptions] = "nosniff"
        // Small and versioned with the binary: revalidating costs little and never shows a
        // dashboard older than the node.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
