import API
import Executor
import Foundation
import Synchronization

extension NodeAPI {
    /// An `http` task whose target can never pass the allow-list is refused at creation (400)
    /// rather than failing every attempt: a malformed URL, a scheme other than http(s), user
    /// info, or an address literal the list refuses. Host names are resolved, and checked
    /// again, only when an attempt runs (DNS answers change).
    static func checkHTTPTarget(_ payload: JSONValue?, allowList: OutboundAllowList,
                                accepted: AcceptedTargets? = nil) throws(APIError) {
        // No url: left to the attempt, which fails it (as before this check existed).
        guard case .object(let fields)? = payload, case .string(let text)? = fields["url"] else { return }
        if let accepted, accepted.contains(text) { return }
        do throws(OutboundRejection) {
            let url = try OutboundURL.parse(text)
            try allowList.checkShape(url)
            if let literal = url.literalAddress, let why = allowList.refusal(for: literal) {
                throw OutboundRejection.addressNotAllowed("\(literal): \(why)")
            }
        } catch {
            throw APIError(.invalidArgument, "payload.url refused: \(error)", field: "payload.url")
        }
        accepted?.insert(text)
    }

    /// One command may create at most `limit` tasks (a job's first tasks are one Raft entry): a
    /// glob over a million files must not become a single huge log entry.
    static func checkBatch(_ count: Int, limit: Int) throws(APIError) {
        guard count <= limit else {
            throw APIError(.invalidArgument, "this would create \(count) tasks in one request; at most \(limit) "
                           + "(security.maxTasksPerBatch): use fewer or larger inputs, or a larger jobSplitBytes")
        }
    }
}

/// URLs this node's allow-list already passed at creation. The verdict is a function of the
/// URL text and the node's allow-list (fixed for the node's life), so a repeat skips the strict
/// parse (8% of a create). Refusals are not kept (they are rare and carry their reason).
/// Bounded: cleared when full.
final class AcceptedTargets: Sendable {
    static let capacity = 4_096
    private let urls = Mutex<Set<String>>([])

    func contains(_ url: String) -> Bool { urls.withLock { $0.contains(url) } }

    func insert(_ url: String) {
        urls.withLock { urls in
            if urls.count >= Self.capacity { urls.removeAll(keepingCapacity: true) }
            urls.insert(url)
        }
    }

    var count: Int { urls.withLock { $0.count } }
}
