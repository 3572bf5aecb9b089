import Foundation

/// A tiny HTTP target for task tests: a Python `http.server` on 127.0.0.1:<free port>, started
/// by the test and killed when the value is released. It records every request it receives
/// (time, method, path, body and the `X-Trireme-*` headers) as one JSON line; paths under
/// `/fail` answer 500, everything else 200.
final class HTTPSink: @unchecked Sendable {
    // @unchecked: `process` is set in init and only read afterwards.
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

    let port: Int
    let root: URL
    private let process: Process

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
        root = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        port = try FreePorts.take(1)[0]
        let scriptURL = root.appendingPathComponent("sink.py")
        try Data(Self.script.utf8).write(to: scriptURL)
        _ = FileManager.default.createFile(atPath: root.appendingPathComponent("deliveries.jsonl").path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, String(port), root.appendingPathComponent("deliveries.jsonl").path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Ready once it answers (bounded).
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let reply = try? await HTTP.send("GET", "\(url)/healthz", timeout: 1), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClusterError.setup("HTTP sink did not start on port \(port)")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func deliveries() -> [Delivery] {
        guard let text = try? String(contentsOf: root.appendingPathComponent("deliveries.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Delivery.self, from: Data($0.utf8)) }
    }
}
