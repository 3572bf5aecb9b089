/// Writes JSON straight into bytes, for the answers the API sends most (a task, a created task).
///
/// Foundation's `JSONEncoder` goes through `Codable`: boxes, coding paths and a dictionary per
/// object. This writer appends to one byte array. Its output is byte for byte what
/// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes for the same value
/// (`JSONOutputTests` compare the two), so clients see no difference. Keys of a hand-written
/// object must be written in sorted (byte) order by the caller; `JSONValue` objects are sorted here.
public struct JSONOutput: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    // MARK: objects

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `"key":`; the value must follow.
    public mutating func key(_ key: String) {
        separate()
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        Self.appendString(value, to: &bytes)
        needsComma = true
    }

    public mutating func field(_ name: String, _ value: String?) {
        if let value { field(name, value) }
    }

    public mutating func field<I: BinaryInteger>(_ name: String, _ value: I) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func field<I: BinaryInteger>(_ name: String, _ value: I?) {
        if let value { field(name, value) }
    }

    /// Writes `"name":` and then `json`, which the caller vouches is one valid JSON value.
    public mutating func field(_ name: String, rawJSON json: some Sequence<UInt8>) {
        key(name)
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Writes `"name":` and `value` as `JSONEncoder` would; false (and nothing written) when the
    /// value holds a number this writer does not render exactly like `JSONEncoder`.
    @discardableResult
    public mutating func field(_ name: String, _ value: JSONValue) -> Bool {
        var rendered: [UInt8] = []
        guard Self.appendCanonical(value, to: &rendered) else { return false }
        field(name, rawJSON: rendered)
        return true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    // MARK: values

    /// `value` in canonical form: sorted keys, no insignificant space, strings escaped as
    /// `JSONEncoder` escapes them. Numbers are written only when they are integers of at most
    /// 15 digits (printed the same by any writer); for any other number this returns false.
    public static func appendCanonical(_ value: JSONValue, to bytes: inout [UInt8]) -> Bool {
        switch value {
        case .null:
            bytes.append(contentsOf: "null".utf8)
        case .bool(let flag):
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            guard number.rounded() == number, abs(number) < 1e15, !(number == 0 && number.sign == .minus) else { return false }
            bytes.append(contentsOf: String(Int64(number)).utf8)
        case .string(let text):
            appendString(text, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                guard appendCanonical(item, to: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (offset, key) in keys.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                guard let item = fields[key], appendCanonical(item, to: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return true
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string literal: `"` and `\` escaped, control characters as `\b \t \n \f \r` or
    /// `\u00xx`, everything else (slashes, non-ASCII) as is, like `JSONEncoder`.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
