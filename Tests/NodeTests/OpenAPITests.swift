import Foundation
import Hummingbird
import Logging
import Testing
@testable import Node
import Store

/// The route table, the router and the OpenAPI document must agree: a route missing from the
/// document is untested by schemathesis and invisible to clients; one missing from
/// `routeMethods` answers 404 instead of 405 to a wrong method.
@Suite struct OpenAPITests {
    /// "METHOD /path/:param" for every entry of `NodeAPI.routeMethods`.
    static var table: Set<String> {
        Set(NodeAPI.routeMethods.flatMap { path, methods in methods.map { "\($0.rawValue) \(path)" } })
    }

    static func liveRouter() throws -> Router<BasicRequestContext> {
        let config = NodeConfig(nodeId: 1, dataDir: "/nonexistent/trireme-openapi-test",
                                members: [.init(id: 1, api: "127.0.0.1:1", peer: "127.0.0.1:2")],
                                clusterSecret: "0123456789abcdef0123")
        let core = NodeCore(config: try config.validated(), logger: Logger(label: "test"))
        let api = NodeAPI(core: core, forwarder: Forwarder(selfID: 1, timeout: 1), logger: Logger(label: "test"),
                          limits: CommandLimits())
        return api.router()
    }

    @Test func routeTableListsExactlyTheRoutesTheRouterServes() throws {
        // Hummingbird prints a capture as {name}; the table writes :name.
        let served = Set(try Self.liveRouter().routes.map { route in
            let path = route.path.description.replacing(/\{([^}]+)\}/) { ":" + $0.output.1 }
            return "\(route.method.rawValue) \(path)"
        })
        #expect(served.count > 20)
        #expect(served.subtracting(Self.table).sorted() == [], "served but not in NodeAPI.routeMethods")
        #expect(Self.table.subtracting(served).sorted() == [], "in NodeAPI.routeMethods but not served")
    }

    @Test func documentDescribesEveryClientRouteAndNoOther() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(WebAssets.openAPIJSON.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, item) in paths {
            // A custom verb is a suffix of the last segment ("/v1/queues/{queue}:pause"); the
            // router sees one capture, so it maps to the verb-less template.
            let template = path.replacing(/\}:[a-z]+$/, with: "}")
                .replacing(/\{([^}]+)\}/) { ":" + $0.output.1 }
            for method in item.keys where ["get", "put", "post", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(template)")
            }
        }
        let client = Self.table.filter { !$0.contains(" /v1/internal/") }
        #expect(client.subtracting(documented).sorted() == [], "served but not in openapi.json")
        #expect(documented.subtracting(client).sorted() == [], "in openapi.json but not served")
    }

    @Test func everyReferenceInTheDocumentResolves() throws {
        let text = WebAssets.openAPIJSON
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [String: [String: Any]])
        let references = text.matches(of: /"\$ref": "#\/components\/([a-zA-Z]+)\/([a-zA-Z]+)"/)
        #expect(references.count > 50)
        for reference in references {
            let (kind, name) = (String(reference.output.1), String(reference.output.2))
            #expect(components[kind]?[name] != nil, "unresolved $ref \(kind)/\(name)")
        }
    }

    /// Web/embed.py must have been run after the last edit of a file in Sources/Node/Web/.
    @Test func embeddedAssetsEqualTheirSourceFiles() throws {
        let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Node/Web").standardizedFileURL
        let embedded = ["index.html": WebAssets.indexHTML, "dashboard.js": WebAssets.dashboardJS,
                        "dashboard.css": WebAssets.dashboardCSS, "openapi.json": WebAssets.openAPIJSON]
        let files = try FileManager.default.contentsOfDirectory(atPath: web.path).filter { !$0.hasPrefix(".") && $0 != "embed.py" }
        #expect(Set(files) == Set(embedded.keys), "every file in Sources/Node/Web/ is embedded")
        for (name, value) in embedded {
            let source = try String(contentsOf: web.appendingPathComponent(name), encoding: .utf8)
            #expect(source == value, "\(name) changed: run python3 Sources/Node/Web/embed.py")
        }
    }
}
