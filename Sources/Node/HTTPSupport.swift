import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON encoding of responses and strict decoding of requests, with every failure mapped to an
/// `APIError` (and so to a 4xx), never to a crash or a 500.
enum HTTPSupport {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(bytes: jsonBytes(value), status: status, headers: headers)
    }

    /// The JSON every answer writes for `value`: sorted keys, slashes unescaped.
    static func jsonBytes<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// A JSON answer already encoded (see `JSONOutput`).
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if error.code == .unavailable { fields[.retryAfter] = "1" }
        return json(APIErrorBody(error: error), status: .init(code: error.code.httpStatus), headers: fields)
    }

    /// Any error a handler throws, as the `APIError` it is answered with; nil for an unexpected
    /// one (answered 500 "internal error" without details, and logged).
    static func apiError(for error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            let code: APIError.Code = switch error.status.code {
            case 404: .notFound
            case 405: .methodNotAllowed
            case 413: .payloadTooLarge
            case 400..<500: .invalidArgument
            default: .internalError
            }
            return APIError(code, error.body ?? error.status.reasonPhrase)
        case let error as DriverError:
            // One no handler converted: a write may be behind it, so never a definite failure.
            return APIError(.unavailable, "the node could not finish the request (\(error)); retry shortly "
                                + "with the same Idempotency-Key", outcome: .unknown)
        default:
            return nil
        }
    }

    /// The node's `security.maxJSONDepth`, set per request by `AuthMiddleware`.
    @TaskLocal static var maxDepth = 32

    /// Reads and decodes a JSON object body. Rejects: a non-JSON content type (415), a body
    /// over `maxBytes` (413), invalid UTF-8 or JSON, nesting deeper than `maxDepth`, a
    /// top-level value that is not an object, unknown fields, and wrong types (400).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext,
                                     fields: Set<String>, maxBytes: Int) async throws(APIError) -> T {
        let bytes = try await body(of: request, maxBytes: maxBytes)
        try checkShape(bytes)
        return try decode(type, bytes: bytes, fields: fields)
    }

    /// The `Codable` decode of a body that passed `checkShape`, with every failure worded.
    private static func decode<T: Decodable>(_ type: T.Type, bytes: [UInt8], fields: Set<String>) throws(APIError) -> T {
        // One parse: the wrapper checks the field names on the same decoder before `T` decodes.
        let decoder = JSONDecoder()
        decoder.userInfo[StrictObject<T>.fieldsKey] = fields
        do {
            return try decoder.decode(StrictObject<T>.self, from: Data(bytes)).value
        } catch let error as UnknownField {
            throw APIError(.invalidArgument, "unknown field \"\(error.name)\"", field: error.name)
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw APIError(.invalidArgument, "request body does not match the schema")
        }
    }

    /// `decode` with a fast path: the body is read with `JSONReader` and mapped by hand, and only
    /// a body that the fast path declines (anything unusual, every error) goes through
    /// `JSONDecoder`, which words the error. Both give the same value for any body the fast
    /// path accepts (`FastJSONPathTests`).
    static func decode<T: FastJSONDecodable>(_ type: T.Type, from request: Request, context: some RequestContext,
                                             fields: Set<String>, maxBytes: Int) async throws(APIError) -> T {
        let bytes = try await body(of: request, maxBytes: maxBytes)
        try checkShape(bytes)
        if let value = fastValue(type, bytes: bytes, fields: fields) { return value }
        return try decode(type, bytes: bytes, fields: fields)
    }

    /// The fast path of `decode` alone, for a body that passed `checkShape`: nil for any body it
    /// declines (`decode` then words the error).
    static func fastValue<T: FastJSONDecodable>(_ type: T.Type, bytes: [UInt8], fields: Set<String>) -> T? {
        guard case .object(let object)? = JSONReader.parse(bytes, maxDepth: maxDepth), object.keys.allSatisfy(fields.contains) else {
            return nil
        }
        return T(fastJSON: object)
    }

    /// An IMF-fixdate (`Date` header, RFC 9110): "Tue, 01 Dec 2026 09:30:00 GMT".
    static func httpDate(epochSeconds: Int64) -> String {
        let text = Array(rfc3339(epochSeconds * 1000).utf8)
        guard text.count >= 19 else { return "" }
        let days = epochSeconds / 86_400
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        let month = Int(text[5] - 48) * 10 + Int(text[6] - 48)
        let name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][max(0, min(11, month - 1))]
        func part(_ range: Range<Int>) -> String { String(decoding: text[range], as: UTF8.self) }
        return "\(weekday), \(part(8..<10)) \(name) \(part(0..<4)) \(part(11..<19)) GMT"
    }

    /// Reads a request body, refusing a non-JSON content type (415) or one over `maxBytes` (413).
    private static func body(of request: Request, maxBytes: Int) async throws(APIError) -> [UInt8] {
        if let contentType = request.headers[.contentType]?.lowercased(),
           !contentType.hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json, not \(contentType)")
        }
        var request = request
        do {
            return Array(try await request.collectBody(upTo: maxBytes).readableBytesView)
        } catch {
            throw APIError(.payloadTooLarge, "request body exceeds \(maxBytes) bytes")
        }
    }

    /// Cheap pre-checks before any parser sees the bytes: valid UTF-8 and bounded nesting, so a
    /// 10⁶-deep array cannot exhaust a parser's stack.
    static func checkShape(_ bytes: [UInt8]) throws(APIError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError(.invalidArgument, "request body is not valid UTF-8")
        }
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > maxDepth { throw APIError(.invalidArgument, "JSON nesting deeper than \(maxDepth)") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return APIError(.invalidArgument, "request body must be a JSON object")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return APIError(.invalidArgument, "field \"\(field)\" has the wrong type or is out of range", field: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError(.invalidArgument, "missing required field \"\(field)\"", field: field)
        case .dataCorrupted(let context) where context.codingPath.isEmpty && context.underlyingError != nil:
            return APIError(.invalidArgument, "request body is not valid JSON")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return APIError(.invalidArgument, "field \"\(field)\" is invalid", field: field.isEmpty ? nil : field)
        @unknown default:
            return APIError(.invalidArgument, "request body does not match the schema")
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, exact to the millisecond. Computed from the integer
    /// (days from civil, Howard Hinnant's algorithm): Foundation's `ISO8601FormatStyle` went
    /// through a `Double` of seconds and printed 999 ms as `.998`, and cost ~5 µs a call.
    static func rfc3339(_ ms: Int64) -> String {
        guard (0..<253_402_300_800_000).contains(ms) else {
            return Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date(timeIntervalSince1970: Double(ms) / 1000))
        }
        let days = ms / 86_400_000
        var rest = ms % 86_400_000
        let milli = rest % 1000
        rest /= 1000
        let (hour, minute, second) = (rest / 3600, rest / 60 % 60, rest % 60)
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, width: Int, at offset: Int) {
                var value = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, width: 4, at: 0)
            put(month, width: 2, at: 5)
            put(day, width: 2, at: 8)
            put(hour, width: 2, at: 11)
            put(minute, width: 2, at: 14)
            put(second, width: 2, at: 17)
            put(milli, width: 3, at: 20)
            buffer[4] = UInt8(ascii: "-")
            buffer[7] = UInt8(ascii: "-")
            buffer[10] = UInt8(ascii: "T")
            buffer[13] = UInt8(ascii: ":")
            buffer[16] = UInt8(ascii: ":")
            buffer[19] = UInt8(ascii: ".")
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    static func parseTime(_ text: String, field: String) throws(APIError) -> Int64 {
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        guard isCalendarDate(text), let date = (try? withFraction.parse(text)) ?? (try? plain.parse(text)) else {
            throw APIError(.invalidArgument, "\(field) must be an RFC 3339 time like 2026-11-29T12:00:00Z", field: field)
        }
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite, ms >= 0, ms < 253_402_300_800_000 else {
            throw APIError(.invalidArgument, "\(field) is out of range", field: field)
        }
        return Int64(ms)
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

extension HTTPField.Name {
    static let raftIndex = constant(APIHeader.raftIndex)
    static let raftTerm = constant(APIHeader.raftTerm)
    static let idempotencyKey = constant(APIHeader.idempotencyKey)
    static let forwardedBy = constant(APIHeader.forwardedBy)
    static let triremeSignature = constant(CommandBatch.signatureHeader)
    static let triremeIndex = constant(APIHeader.index)
    static let requestID = constant(APIHeader.requestID)

    /// Our own header-name constants; an invalid one is a bug in this file, never input.
    private static func constant(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("invalid header name constant \(name)") }
        return field
    }
}


/// Decodes `T` from a JSON object whose keys must all be in the decoder's
/// `userInfo[fieldsKey]` set: strict request bodies in one parse.
struct StrictObject<T: Decodable>: Decodable {
    static var fieldsKey: CodingUserInfoKey {
        guard let key = CodingUserInfoKey(rawValue: "trireme.allowedFields") else { preconditionFailure("invalid userInfo key") }
        return key
    }

    let value: T

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: AnyKey.self)
        if let fields = decoder.userInfo[Self.fieldsKey] as? Set<String>,
           let unknown = object.allKeys.map(\.stringValue).sorted().first(where: { !fields.contains($0) }) {
            throw UnknownField(name: unknown)
        }
        value = try T(from: decoder)
    }
}

/// A request type with a hand-written mapping from an already parsed JSON object: nil for
/// anything the `Codable` path might treat differently (a null, a missing or mistyped field),
/// which then decodes it and words the error.
protocol FastJSONDecodable: Decodable {
    init?(fastJSON object: [String: JSONValue])
}

extension TaskRequest: FastJSONDecodable {
    init?(fastJSON object: [String: JSONValue]) {
        guard case .string(let kind)? = object["kind"] else { return nil }
        self.init(kind: kind)
        for (key, value) in object {
            switch (key, value) {
            case ("kind", _): continue
            case ("name", .string(let text)): name = text
            case ("scheduleTime", .string(let text)): scheduleTime = text
            case ("payload", .null): return nil
            case ("payload", _): payload = value
            case ("dispatchDeadlineMs", .number(let number)):
                // JSONReader gives integers of at most 15 digits only: exact in both types.
                guard let whole = Int64(exactly: number) else { return nil }
                dispatchDeadlineMs = whole
            default: return nil
            }
        }
    }
}

struct UnknownField: Error {
    let name: String
}

struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
