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
        let provider = context.provider
        var logger = Logger(label: "trireme") { label in
            DeferredMetadataLogHandler(base: StreamLogHandler.standardError(label: label, metadataProvider: provider))
        }
        logger.logLevel = level
        logger[metadataKey: "node"] = "n\(nodeID)"
        return logger
    }
}

/// `StreamLogHandler`'s output, with metadata rendered only when a line is written.
/// `StreamLogHandler` re-renders (sorts and joins) its metadata on every set, and Hummingbird
/// sets a request id on a copy of the logger for every request: 4-6% of the request path,
/// for lines that are almost never written (and that, with our metadata provider, render the
/// metadata again anyway).
struct DeferredMetadataLogHandler: LogHandler {
    var base: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var handler = base
        handler.metadata = metadata
        handler.log(event: event)
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
