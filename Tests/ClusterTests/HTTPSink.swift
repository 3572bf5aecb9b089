import Foundation

/// A tiny HTTP target for task tests: a Python `http.server` on 127.0.0.1:<free port>, started
/// by the test and killed when the value is released. It records every request it receives
/// (time, method, path, body and the `X-Trireme-*` headers) as one JSON line; paths under
/// `/fail` answer 500, everything else 200.
final class HTTPSink: Sendable {
    struct Delivery: Decodable {
        var timeMs: Double
        var method: String
        var path: String
        var body: String
        var taskId: String?
        var queue: String?
        var attempt: String?
        var node: String?
    }

    private let server: PythonServer

    static let script = #"""
    import json, sys, threading, time
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
    port, log_path = int(sys.argv[1]), sys.argv[2]
    lock = threading.Lock()
    log = open(log_path, "a")
    class Handler(BaseHTTPRequestHandler):
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            if self.path != "/healthz":
                record = {"timeMs": time.time() * 1000, "method": self.command, "path": self.path, "body": body,
                          "taskId": self.headers.get("X-Trireme-Task-ID"), "queue": self.headers.get("X-Trireme-Queue"),
                          "attempt": self.headers.get("X-Trireme-Attempt"),
                          "node": self.headers.get("X-Trireme-Node")}
                with lock:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
            status = 500 if self.path.startswith("/fail") else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        do_GET = do_POST = do_PUT = do_DELETE = handle_any
        def log_message(self, *args):
            pass
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """#

    init() async throws {
        server = try await PythonServer(name: "sink", script: Self.script) { root in
            let log = root.appendingPathComponent("deliveries.jsonl")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            return [log.path]
        }
    }

    var port: Int { server.port }
    var root: URL { server.root }
    var url: String { server.url }

    func deliveries() -> [Delivery] {
        guard let text = try? String(contentsOf: root.appendingPathComponent("deliveries.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Delivery.self, from: Data($0.utf8)) }
    }
}
