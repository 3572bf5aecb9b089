import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON encoding of responses and strict decoding of requests, with every failure mapped to an
/// `APIError` (and so to a 4xx), never to a crash or a 500.
enum HTTPSupport {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if error.code == .unavailable { fields[.retryAfter] = "1" }
        return json(APIErrorBody(error: error), status: .init(code: error.code.httpStatus), headers: fields)
    }

    /// The node's `security.maxJSONDepth`, set per request by `AuthMiddleware`.
    @TaskLocal static var maxDepth = 32

    /// Reads and decodes a JSON object body. Rejects: a non-JSON content type (415), a body
    /// over `maxBytes` (413), invalid UTF-8 or JSON, nesting deeper than `maxDepth`, a
    /// top-level value that is not an object, unknown fields, and wrong types (400).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext,
                                     fields: Set<String>, maxBytes: Int) async throws(APIError) -> T {
        if let contentType = request.headers[.contentType]?.lowercased(),
           !contentType.hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json, not \(contentType)")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw APIError(.payloadTooLarge, "request body exceeds \(maxBytes) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        try checkShape(bytes)
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

    static func rfc3339(_ ms: Int64) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date(timeIntervalSince1970: Double(ms) / 1000))
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

struct UnknownField: Error {
    let name: String
}

struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
