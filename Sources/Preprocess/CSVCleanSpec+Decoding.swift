import Foundation

extension CSVCleanSpec {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        select = try c.decodeIfPresent([String].self, forKey: .select)
        rename = try c.decodeIfPresent([String: String].self, forKey: .rename) ?? [:]
        casts = try c.decodeIfPresent([String: ColumnType].self, forKey: .casts) ?? [:]
        missing = try c.decodeIfPresent(MissingPolicy.self, forKey: .missing) ?? MissingPolicy()
        trim = try c.decodeIfPresent(Bool.self, forKey: .trim) ?? false
        lowercase = try c.decodeIfPresent([String].self, forKey: .lowercase) ?? []
        filter = try c.decodeIfPresent([Predicate].self, forKey: .filter) ?? []
        dedupe = try c.decodeIfPresent(Bool.self, forKey: .dedupe) ?? false
        normalize = try c.decodeIfPresent([String: Normalization].self, forKey: .normalize) ?? [:]
        output = try c.decodeIfPresent(OutputFormat.self, forKey: .output)
        malformed = try c.decodeIfPresent(MalformedPolicy.self, forKey: .malformed) ?? .rejectFile
        maxRecordBytes = try c.decodeIfPresent(Int.self, forKey: .maxRecordBytes) ?? (1 << 20)
        maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth) ?? 64
    }

    /// Decodes a spec from JSON, turning every decoding failure (and any unknown top-level
    /// key, which Codable would silently ignore) into an error naming the field.
    public static func decode(json: [UInt8]) throws(PreprocessError) -> CSVCleanSpec {
        let data = Data(json)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw .invalidParameter(field: unknown, reason: "unknown field")
            }
        }
        do {
            return try JSONDecoder().decode(CSVCleanSpec.self, from: data)
        } catch let DecodingError.dataCorrupted(ctx) {
            throw .invalidParameter(field: path(ctx.codingPath), reason: ctx.debugDescription)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw .invalidParameter(field: path(ctx.codingPath + [key]), reason: "missing")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw .invalidParameter(field: path(ctx.codingPath), reason: ctx.debugDescription)
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw .invalidParameter(field: path(ctx.codingPath), reason: "null")
        } catch {
            throw .invalidParameter(field: "spec", reason: "\(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s.isEmpty ? "spec" : s
    }
}
