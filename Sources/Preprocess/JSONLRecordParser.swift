import Foundation

/// Parses one JSON Lines record (a JSON object on one line) into a `CleanRow`, keys sorted by
/// their UTF-8 bytes (JSON objects are unordered; sorting makes the output deterministic).
/// Nesting deeper than `maxDepth` is refused before Foundation sees the line, so a hostile
/// line cannot exhaust the stack.
enum JSONLRecordParser {
    static func parse(_ line: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<CleanRow, ParseFailure> {
        if depth(of: line) > maxDepth { return .failure(ParseFailure(reason: "nesting deeper than \(maxDepth)")) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(buffer: line))
        } catch {
            return .failure(ParseFailure(reason: "invalid JSON"))
        }
        guard let dict = object as? [String: Any] else { return .failure(ParseFailure(reason: "not a JSON object")) }
        let keys = dict.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var values: [CleanValue] = []
        values.reserveCapacity(keys.count)
        for k in keys {
            guard let v = dict[k], let cv = value(v) else { return .failure(ParseFailure(reason: "unsupported value for \(k)")) }
            values.append(cv)
        }
        return .success(CleanRow(names: keys, values: values))
    }

    struct ParseFailure: Error, Equatable { var reason: String }

    private static func value(_ v: Any) -> CleanValue? {
        switch v {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" { return .bool(n.boolValue) }
            if type == "d" || type == "f" { return .double(n.doubleValue) }
            if type == "Q" {  // unsigned: only numbers above Int64.max come this way
                let u = n.uint64Value
                return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(n.doubleValue)
            }
            return .int(n.int64Value)
        case is [Any], is [String: Any]:
            guard let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]) else {
                return nil
            }
            return .raw(String(decoding: data, as: UTF8.self))
        default: return nil
        }
    }

    /// Maximum bracket depth outside strings.
    static func depth(of line: UnsafeBufferPointer<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in line {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B: depth += 1; deepest = max(deepest, depth)
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return deepest
    }
}
