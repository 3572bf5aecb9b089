import Logging
import Synchronization
import Store

/// Metadata every log line of a node carries, through a swift-log metadata provider: the Raft
/// term as of the driver's last status, and inside an HTTP request its id (`RequestScope`).
/// The node id is plain logger metadata (`node`), set once.
final class LogContext: Sendable {
    let term = Atomic<UInt64>(0)

    var provider: Logger.MetadataProvider {
        Logger.MetadataProvider { [self] in
            var metadata: Logger.Metadata = ["term": "\(term.load(ordering: .relaxed))"]
            if let scope = RequestScope.current { metadata["request"] = "\(scope.id)" }
            return metadata
        }
    }

    /// The node's logger: level from the config (validated), node id, term and request id.
    static func logger(nodeID: UInt64, level: Logger.Level, context: LogContext) -> Logger {
        var logger = Logger(label: "trireme", metadataProvider: context.provider)
        logger.logLevel = level
        logger[metadataKey: "node"] = "n\(nodeID)"
        return logger
    }
}

extension Command {
    /// One line about an executor's report for the log: ids, fence and outcome, never the
    /// payload, result or error text (they may hold user data); nil for other commands.
    var executorReportSummary: (message: Logger.Message, metadata: Logger.Metadata)? {
        switch self {
        case .startTask(let id, let fence, _):
            return ("attempt started", ["task": "\(id)", "fence": "\(fence)"])
        case .completeTask(let id, let fence, _, _, _):
            return ("attempt succeeded", ["task": "\(id)", "fence": "\(fence)"])
        case .failTask(let id, let fence, let error, _):
            return ("attempt failed", ["task": "\(id)", "fence": "\(fence)", "errorBytes": "\(error.utf8.count)"])
        default:
            return nil
        }
    }
}
