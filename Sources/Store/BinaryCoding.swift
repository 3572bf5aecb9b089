import Foundation

/// A small binary format for log entries: little-endian fixed-width integers, varint
/// lengths, UTF-8 strings. Decoding checks every length against the bytes left, so hostile
/// or corrupt input yields `DecodeError`, never a crash or a huge allocation.
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func varint(_ value: Int) {
        precondition(value >= 0, "varint of a negative length")
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func uint64(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    mutating func int64(_ value: Int64) { uint64(UInt64(bitPattern: value)) }
    mutating func int(_ value: Int) { int64(Int64(value)) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func double(_ value: Double) { uint64(value.bitPattern) }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func data(_ value: Data) {
        varint(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func optional<T>(_ value: T?, _ write: (inout BinaryWriter, T) -> Void) {
        guard let value else { return byte(0) }
        byte(1)
        write(&self, value)
    }

    mutating func counters(_ value: [String: Int64]) {
        varint(value.count)
        for (key, count) in value.sorted(by: { $0.key < $1.key }) {
            string(key)
            int64(count)
        }
    }
}

struct DecodeError: Error {
    let reason: String
}

struct BinaryReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(DecodeError) -> UInt8 {
        guard offset < bytes.count else { throw DecodeError(reason: "truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(DecodeError) -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift < 63 else { throw DecodeError(reason: "varint too long at byte \(offset)") }
        }
        guard result <= UInt64(bytes.count - offset) else { throw DecodeError(reason: "length \(result) beyond the entry at byte \(offset)") }
        return Int(result)
    }

    mutating func uint64() throws(DecodeError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw DecodeError(reason: "truncated integer at byte \(offset)") }
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    mutating func int64() throws(DecodeError) -> Int64 { Int64(bitPattern: try uint64()) }

    mutating func int() throws(DecodeError) -> Int {
        let value = try int64()
        guard let int = Int(exactly: value) else { throw DecodeError(reason: "integer out of range") }
        return int
    }

    mutating func bool() throws(DecodeError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        case let other: throw DecodeError(reason: "bad bool \(other)")
        }
    }

    mutating func double() throws(DecodeError) -> Double { Double(bitPattern: try uint64()) }

    mutating func string() throws(DecodeError) -> String {
        let count = try varint()
        let slice = bytes[offset..<(offset + count)]
        offset += count
        guard let text = String(validating: slice, as: UTF8.self) else { throw DecodeError(reason: "invalid UTF-8") }
        return text
    }

    mutating func data() throws(DecodeError) -> Data {
        let count = try varint()
        defer { offset += count }
        return Data(bytes[offset..<(offset + count)])
    }

    mutating func optional<T>(_ read: (inout BinaryReader) throws(DecodeError) -> T) throws(DecodeError) -> T? {
        try bool() ? try read(&self) : nil
    }

    mutating func counters() throws(DecodeError) -> [String: Int64] {
        let count = try varint()
        var result: [String: Int64] = [:]
        for _ in 0..<count {
            let key = try string()
            guard result.updateValue(try int64(), forKey: key) == nil else { throw DecodeError(reason: "duplicate counter \(key)") }
        }
        return result
    }
}
