import API
import Foundation
import Testing

@Suite struct JSONValueTests {
    static func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func everyKindDecodesAsItself() throws {
        let value = try Self.decode(#"""
            {"s": "x", "n": 1.5, "i": 3, "t": true, "f": false, "z": null, "a": [1, "two", false, null, [], {}],
             "o": {"deep": {"er": ["ok"]}}, "e": {}, "ea": []}
            """#)
        #expect(value == .object([
            "s": .string("x"), "n": .number(1.5), "i": .number(3), "t": .bool(true), "f": .bool(false), "z": .null,
            "a": .array([.number(1), .string("two"), .bool(false), .null, .array([]), .object([:])]),
            "o": .object(["deep": .object(["er": .array([.string("ok")])])]), "e": .object([:]), "ea": .array([]),
        ]))
        #expect(try Self.decode("true") == .bool(true))
        #expect(try Self.decode("0") == .number(0))
        #expect(try Self.decode(#""1""#) == .string("1"))
        #expect(try Self.decode("null") == .null)
        #expect(try Self.decode("[true, 1]") == .array([.bool(true), .number(1)]))
    }

    @Test func aRoundTripThroughTheEncoderIsExact() throws {
        let value = try Self.decode(#"{"k": [1, {"b": true, "s": "é\n"}, null], "n": -2e-3}"#)
        let again = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(again == value)
    }

    @Test func malformedInputStillThrows() {
        #expect(throws: (any Error).self) { try Self.decode("{") }
        #expect(throws: (any Error).self) { try Self.decode("[1 2]") }
        #expect(throws: (any Error).self) { try Self.decode("tru") }
    }
}
