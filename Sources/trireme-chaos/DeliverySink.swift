import Chaos
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The `http` tasks' target: a Hummingbird server on 127.0.0.1 that records every request an
/// executor makes (task id, `X-Trireme-Attempt` — the attempt number, which is what executors
/// send in place of a fencing token — and node) and answers with a unique delivery id, which the
/// store keeps in the task's result. So the final state names the one delivery whose completion
/// the store accepted.
final class DeliverySink: Sendable {
    private let log = Mutex<(next: Int64, deliveries: [Delivery])>((1, []))
    let port: Int

    init(port: Int) {
        self.port = port
    }

    var deliveries: [Delivery] { log.withLock { $0.deliveries } }

    func record(taskID: String, attempt: Int, node: String?) -> Int64 {
        let time = nowNs()
        return log.withLock { state in
            let id = state.next
            state.next += 1
            state.deliveries.append(Delivery(id: id, taskID: taskID, attempt: attempt, node: node, timeNs: time))
            return id
        }
    }

    /// Serves until the calling task is cancelled.
    func run() async throws {
        guard let taskHeader = HTTPField.Name("X-Trireme-Task-ID"), let attemptHeader = HTTPField.Name("X-Trireme-Attempt"),
              let nodeHeader = HTTPField.Name("X-Trireme-Node") else {
            throw ChaosError.setup("header names")
        }
        let router = Router()
        router.get("/healthz") { _, _ in "ok" }
        router.post("/hook/:key") { request, _ -> Response in
            guard let task = request.headers[taskHeader], let attempt = request.headers[attemptHeader].flatMap({ Int($0) }) else {
                return Response(status: .badRequest)
            }
            let id = self.record(taskID: task, attempt: attempt, node: request.headers[nodeHeader])
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: String(id))))
        }
        var logger = Logger(label: "chaos-sink")
        logger.logLevel = .critical  // cancellation at the end logs an error
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.run()
    }
}
