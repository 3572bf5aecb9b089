import Hummingbird
import NIOCore

/// The dashboard (`/`, `/dashboard.js`, `/dashboard.css`) and the OpenAPI document
/// (`/openapi.json`), served from `WebAssets`: string literals generated from
/// `Sources/Node/Web/` by `Sources/Node/Web/embed.py`. Embedded rather than a SwiftPM resource
/// bundle, whose `Bundle.module` calls fatalError on Linux when the bundle directory is not next
/// to a copied binary; a node must keep running wherever its binary goes.
extension NodeAPI {
    /// Only our own script, style and API: no inline code, no other origin, no framing.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func addWebRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.asset(WebAssets.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in Self.asset(WebAssets.dashboardJS, type: "text/javascript; charset=utf-8") }
        router.get("/dashboard.css") { _, _ in Self.asset(WebAssets.dashboardCSS, type: "text/css; charset=utf-8") }
        router.get("/openapi.json") { _, _ in Self.asset(WebAssets.openAPIJSON, type: "application/json; charset=utf-8") }
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        // Small and versioned with the binary: revalidating costs little and never shows a
        // dashboard older than the node.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
