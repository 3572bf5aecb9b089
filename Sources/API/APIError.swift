/// The JSON error body: `{"error": {"code": "...", "message": "...", "field": "..."}}`.
/// Codes are stable strings (Google API style); each has one HTTP status.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var error: APIError
    public init(error: APIError) { self.error = error }
}

public struct APIError: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var code: Code
    public var message: String
    /// The request field at fault, for validation errors.
    public var field: String?
    /// For `unavailable` and `deadlineExceeded`: did the write happen? `unknown` means it may
    /// still commit; retry with the same Idempotency-Key to find out.
    public var outcome: Outcome?
    /// The node a client should talk to instead, when known (e.g. the leader's API address).
    public var leader: String?

    public enum Code: String, Codable, Sendable {
        case invalidArgument = "INVALID_ARGUMENT"
        case notFound = "NOT_FOUND"
        case alreadyExists = "ALREADY_EXISTS"
        case failedPrecondition = "FAILED_PRECONDITION"
        case aborted = "ABORTED"
        case payloadTooLarge = "PAYLOAD_TOO_LARGE"
        case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
        case methodNotAllowed = "METHOD_NOT_ALLOWED"
        case unavailable = "UNAVAILABLE"
        case deadlineExceeded = "DEADLINE_EXCEEDED"
        case internalError = "INTERNAL"
        /// No valid bearer token (401, with `WWW-Authenticate: Bearer`).
        case unauthenticated = "UNAUTHENTICATED"
        /// A valid token whose role does not allow the request (403).
        case permissionDenied = "PERMISSION_DENIED"
        /// Too many connections or requests from one client (429).
        case resourceExhausted = "RESOURCE_EXHAUSTED"
        case requestTimeout = "REQUEST_TIMEOUT"
        case uriTooLong = "URI_TOO_LONG"
        case headersTooLarge = "HEADERS_TOO_LARGE"

        public var httpStatus: Int {
            switch self {
            case .invalidArgument: 400
            case .notFound: 404
            case .alreadyExists, .failedPrecondition, .aborted: 409
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .methodNotAllowed: 405
            case .unavailable: 503
            case .deadlineExceeded: 504
            case .internalError: 500
            case .unauthenticated: 401
            case .permissionDenied: 403
            case .resourceExhausted: 429
            case .requestTimeout: 408
            case .uriTooLong: 414
            case .headersTooLarge: 431
            }
        }
    }

    public enum Outcome: String, Codable, Sendable {
        case notApplied = "not_applied"
        case unknown
    }

    public init(_ code: Code, _ message: String, field: String? = nil, outcome: Outcome? = nil, leader: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.outcome = outcome
        self.leader = leader
    }

    public var description: String {
        "\(code.rawValue): \(message)" + (field.map { " (field \($0))" } ?? "")
    }
}
