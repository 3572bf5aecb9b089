import API
import Executor
import Foundation

extension NodeAPI {
    /// An `http` task whose target can never pass the allow-list is refused at creation (400)
    /// rather than failing every attempt: a malformed URL, a scheme other than http(s), user
    /// info, or an address literal the list refuses. Host names are resolved, and checked
    /// again, only when an attempt runs (DNS answers change).
    static func checkHTTPTarget(_ payload: JSONValue?, allowList: OutboundAllowList) throws(APIError) {
        // No url: left to the attempt, which fails it (as before this check existed).
        guard case .object(let fields)? = payload, case .string(let text)? = fields["url"] else { return }
        do throws(OutboundRejection) {
            let url = try OutboundURL.parse(text)
            try allowList.checkShape(url)
            if let literal = url.literalAddress, let why = allowList.refusal(for: literal) {
                throw OutboundRejection.addressNotAllowed("\(literal): \(why)")
            }
        } catch {
            throw APIError(.invalidArgument, "payload.url refused: \(error)", field: "payload.url")
        }
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
