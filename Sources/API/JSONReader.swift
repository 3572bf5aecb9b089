/// A strict, single-pass JSON reader over raw bytes: the fast path in front of `JSONDecoder`.
///
/// `parse` accepts only a conservative subset of JSON on which its result equals
/// `JSONDecoder().decode(JSONValue.self, from: Data(bytes))` exactly; on anything else it returns
/// nil and the caller falls back to `JSONDecoder`, which also produces the precise error messages.
/// The subset: integers `-?(0|[1-9][0-9]{0,14})` other than `-0` (exact in a Double), no duplicate
/// keys, strings with any RFC 8259 escape but no lone surrogates, raw control characters or
/// invalid UTF-8, and only space, tab, LF and CR as whitespace.
public enum JSONReader {
    /// Foundation's `JSONDecoder` rejects deeper nesting, so `parse` never accepts more than this.
    static let foundationMaxDepth = 512

    /// Parses one complete JSON document into a `JSONValue`, or returns nil when the bytes are
    /// invalid or outside the fast subset. Containers nest at most `min(maxDepth, 512)` deep
    /// (a scalar document has depth 0, `[]` depth 1). Never traps; work is O(n).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) -> JSONValue? {
        var reader = Reader(bytes: bytes, subset: true)
        return reader.document(maxDepth: min(maxDepth, foundationMaxDepth))
    }

    /// Convenience for `parse(_:maxDepth:)` on an array.
    public static func parse(_ bytes: [UInt8], maxDepth: Int) -> JSONValue? {
        bytes.withUnsafeBytes { parse($0, maxDepth: maxDepth) }
    }

    /// Whether the bytes are one RFC 8259 JSON text: any number syntax, any valid escape (but no
    /// lone surrogate escapes), valid UTF-8, containers nested at most `maxDepth` deep, and only
    /// whitespace around the value. Builds no values. Recursion goes `maxDepth` deep, so keep it to
    /// what a thread's stack takes (a few thousand at most).
    public static func isValid(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) -> Bool {
        var reader = Reader(bytes: bytes, subset: false)
        return reader.document(maxDepth: maxDepth) != nil
    }

    /// Convenience for `isValid(_:maxDepth:)` on an array.
    public static func isValid(_ bytes: [UInt8], maxDepth: Int) -> Bool {
        bytes.withUnsafeBytes { isValid($0, maxDepth: maxDepth) }
    }
}

/// The cursor. With `subset` it builds values and refuses anything outside the fast subset;
/// without it, it only validates (full number grammar, duplicate keys allowed) and returns `.null`
/// placeholders. Recursion depth is bounded by the depth budget passed down.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    let subset: Bool
    var index = 0
    /// Decoded bytes of the current string, used only when it contains escapes.
    var scratch: [UInt8] = []
    /// Fields of the objects being read, innermost last.
    var pending: [(String, JSONValue)] = []

    /// The byte at `index + offset`, or 0 past the end (0 is invalid wherever a byte is expected).
    @inline(__always) func peek(_ offset: Int = 0) -> UInt8 {
        index + offset < bytes.count ? bytes[index + offset] : 0
    }

    mutating func document(maxDepth: Int) -> JSONValue? {
        skipWhitespace()
        guard let result = value(depth: maxDepth) else { return nil }
        skipWhitespace()
        return index == bytes.count ? result : nil
    }

    @inline(__always) mutating func skipWhitespace() {
        while true {
            switch peek() {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// One value; `depth` is how many more containers may be opened.
    mutating func value(depth: Int) -> JSONValue? {
        switch peek() {
        case UInt8(ascii: "{"): return depth > 0 ? object(depth: depth - 1) : nil
        case UInt8(ascii: "["): return depth > 0 ? array(depth: depth - 1) : nil
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return nil
        }
    }

    /// Collects the fields on the `pending` stack and builds the dictionary once at the end, sized
    /// exactly, so it never rehashes while growing.
    mutating func object(depth: Int) -> JSONValue? {
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return .object([:]) }
        let first = pending.count
        defer { pending.removeLast(pending.count - first) }
        while true {
            guard peek() == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            guard let field = value(depth: depth) else { return nil }
            if subset { pending.append((key, field)) }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "}"): index += 1; return subset ? dictionary(from: first) : .null
            default: return nil
            }
        }
    }

    /// The object of the pending fields from `first` on; nil on a duplicate key, because which of
    /// the duplicates Foundation keeps is its own business.
    func dictionary(from first: Int) -> JSONValue? {
        var fields = [String: JSONValue](minimumCapacity: pending.count - first)
        for (key, field) in pending[first..<pending.count] where fields.updateValue(field, forKey: key) != nil {
            return nil
        }
        return .object(fields)
    }

    mutating func array(depth: Int) -> JSONValue? {
        index += 1
        skipWhitespace()
        var elements: [JSONValue] = []
        if peek() == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            guard let element = value(depth: depth) else { return nil }
            if subset { elements.append(element) }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "]"): index += 1; return subset ? .array(elements) : .null
            default: return nil
            }
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// With `subset`: `-?(0|[1-9][0-9]{0,14})` but not `-0`; a following `.`, `e` or `E` is left
    /// for the caller, which rejects it. Without: the full RFC 8259 number grammar.
    mutating func number() -> JSONValue? {
        let negative = peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude: Int64 = 0
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else {
            guard isDigit(peek()) else { return nil }
            while isDigit(peek()) {
                magnitude = magnitude &* 10 &+ Int64(peek() &- UInt8(ascii: "0"))
                index += 1
            }
        }
        if subset {
            let digits = index - start
            guard digits <= 15, !(negative && magnitude == 0) else { return nil }
            return .number(Double(negative ? -magnitude : magnitude))
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard isDigit(peek()) else { return nil }
            while isDigit(peek()) { index += 1 }
        }
        if peek() | 0x20 == UInt8(ascii: "e") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard isDigit(peek()) else { return nil }
            while isDigit(peek()) { index += 1 }
        }
        return .null
    }

    @inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// A string starting at the opening quote. Unescaped runs are validated as UTF-8 in place and
    /// decoded in one go; only strings with escapes go through `scratch`.
    mutating func string() -> String? {
        index += 1
        var runStart = index
        var escaped = false
        while true {
            let byte = peek()
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                if subset {
                    if !escaped { scratch.removeAll(keepingCapacity: true) }
                    scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                }
                escaped = true
                guard escape() else { return nil }
                runStart = index
            } else if byte < 0x20 {
                return nil  // raw control character, or end of input
            } else if byte < 0x80 {
                index += 1
            } else {
                guard utf8Sequence(byte) else { return nil }
            }
        }
        let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])
        index += 1
        guard subset else { return "" }
        guard escaped else { return String(decoding: run, as: UTF8.self) }
        scratch.append(contentsOf: run)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Skips one well-formed multi-byte UTF-8 sequence (Unicode Table 3-7: no overlongs, no
    /// surrogates, nothing above U+10FFFF) starting with `lead`.
    mutating func utf8Sequence(_ lead: UInt8) -> Bool {
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard low...high ~= peek(1) else { return false }
        for offset in 2..<length where peek(offset) & 0xC0 != 0x80 { return false }
        index += length
        return true
    }

    /// One escape starting at the backslash; appends its UTF-8 to `scratch` when building.
    mutating func escape() -> Bool {
        let kind = peek(1)
        index += 2
        var scalar: UInt32
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalar = UInt32(kind)
        case UInt8(ascii: "b"): scalar = 0x08
        case UInt8(ascii: "f"): scalar = 0x0C
        case UInt8(ascii: "n"): scalar = 0x0A
        case UInt8(ascii: "r"): scalar = 0x0D
        case UInt8(ascii: "t"): scalar = 0x09
        case UInt8(ascii: "u"):
            guard let unit = hex4() else { return false }
            scalar = unit
            if 0xD800...0xDBFF ~= unit {
                guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else { return false }
                index += 2
                guard let trail = hex4(), 0xDC00...0xDFFF ~= trail else { return false }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (trail - 0xDC00)
            } else if 0xDC00...0xDFFF ~= unit {
                return false
            }
        default: return false
        }
        guard subset else { return true }
        guard let decoded = Unicode.Scalar(scalar) else { return false }  // unreachable: surrogates are out
        UTF8.encode(decoded) { scratch.append($0) }
        return true
    }

    /// Four hex digits as a UTF-16 code unit.
    mutating func hex4() -> UInt32? {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let byte = peek()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt32(digit)
            index += 1
        }
        return unit
    }
}
