import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct CleanTransformTests {
    let header = ["name", "age", "city", "score"]

    func row(_ values: [String]) -> CleanRow {
        CleanRow(names: header, values: values.map(CleanValue.string))
    }

    func transform(_ configure: (inout CSVCleanSpec) -> Void) throws -> CleanTransform {
        var spec = CSVCleanSpec()
        configure(&spec)
        return try CleanTransform(spec: spec, header: header)
    }

    @Test func selectTrimLowercaseCast() throws {
        let t = try transform {
            $0.select = ["city", "age"]
            $0.trim = true
            $0.lowercase = ["city"]
            $0.casts = ["age": .int]
        }
        #expect(t.prepare(row(["Bob", " 42 ", "  New York ", "1"]))
            == .keep(CleanRow(names: ["city", "age"], values: [.string("new york"), .int(42)])))
        #expect(t.prepare(row(["Bob", "4x", "Oslo", "1"])) == .malformed("column age: cannot cast \"4x\" to int"))
    }

    @Test func missingValues() throws {
        let drop = try transform { $0.missing = .init(action: .drop, columns: ["age"]) }
        #expect(drop.prepare(row(["a", "", "c", "1"])) == .dropped)
        #expect(drop.prepare(row(["a", "3", "", "1"])) == .keep(CleanRow(names: header,
            values: [.string("a"), .string("3"), .null, .string("1")])))
        let fill = try transform {
            $0.missing = .init(action: .fill, fill: ["age": "0"])
            $0.casts = ["age": .int]
        }
        #expect(fill.prepare(row(["a", "", "", "1"])) == .keep(CleanRow(names: header,
            values: [.string("a"), .int(0), .null, .string("1")])))
    }

    @Test(arguments: [
        (CSVCleanSpec.Predicate(column: "age", op: .ge, value: "18"), ["30", "18"]),
        (.init(column: "age", op: .lt, value: "18"), ["9"]),
        (.init(column: "age", op: .eq, value: "9.0"), ["9"]),     // numbers compare as numbers
        (.init(column: "city", op: .eq, value: "Oslo"), ["30"]),
        (.init(column: "city", op: .ne, value: "Oslo"), ["18"]),   // missing city fails every op
        (.init(column: "city", op: .contains, value: "er"), ["18"]),
        (.init(column: "city", op: .gt, value: "B"), ["30", "18"]),      // text: UTF-8 byte order
    ])
    func filters(predicate: CSVCleanSpec.Predicate, keptAges: [String]) throws {
        let t = try transform {
            $0.filter = [predicate]
            $0.casts = ["age": .int]
        }
        let rows = [row(["a", "30", "Oslo", "1"]), row(["b", "18", "Bergen", "2"]), row(["c", "9", "", "3"])]
        var kept: [String] = []
        for r in rows {
            if case .keep(let k) = t.prepare(r) { kept.append(k.value("age").text) }
        }
        #expect(kept == keptAges)
    }

    @Test(arguments: [
        ("12", CSVCleanSpec.ColumnType.int, CleanValue?.some(.int(12))), ("-3", .int, .int(-3)), ("1.5", .int, nil),
        ("99999999999999999999", .int, nil), ("1.5", .double, .double(1.5)), ("1e3", .double, .double(1000)),
        ("nan", .double, nil), ("inf", .double, nil), ("Yes", .bool, .bool(true)), ("0", .bool, .bool(false)),
        ("maybe", .bool, nil), ("x", .string, .string("x")), ("", .int, .null),
    ])
    func casts(text: String, type: CSVCleanSpec.ColumnType, expected: CleanValue?) {
        #expect(CleanValue.string(text).cast(to: type) == expected)
    }

    @Test func statsMergeEqualsOnePass() {
        var rng = SeededRandom(seed: 99)
        let xs = (0..<1000).map { _ in Double.random(in: -50...150, using: &rng) }
        var whole = ColumnStats()
        xs.forEach { whole.add($0) }
        var merged = ColumnStats()
        var start = 0
        while start < xs.count {
            let end = min(xs.count, start + Int.random(in: 0...120, using: &rng))
            var part = ColumnStats()
            xs[start..<end].forEach { part.add($0) }
            merged.merge(part)
            start = end
        }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(merged.count == 1000 && merged.min == xs.min() && merged.max == xs.max())
        #expect(abs(merged.mean - mean) < 1e-9 && abs(whole.mean - mean) < 1e-9)
        #expect(abs(merged.variance - variance) < 1e-7 && abs(whole.variance - variance) < 1e-7)
    }

    @Test func normalisation() throws {
        var s = ColumnStats()
        [2.0, 4, 6].forEach { s.add($0) }
        #expect(s.normalize(4, .minmax) == 0.5)
        #expect(s.normalize(2, .minmax) == 0)
        #expect(abs(s.normalize(6, .zscore) - 2 / (8.0 / 3).squareRoot()) < 1e-12)
        var flat = ColumnStats()
        flat.add(5)
        #expect(flat.normalize(5, .minmax) == 0 && flat.normalize(5, .zscore) == 0)
        let t = try transform { $0.normalize = ["score": .minmax]; $0.rename = ["score": "s"] }
        guard case .keep(let r) = t.prepare(row(["a", "1", "x", "4"])) else {
            Issue.record("row not kept")
            return
        }
        #expect(t.finish(r, stats: ["score": s]).values.last == .double(0.5))
        #expect(t.finish(r, stats: ["score": s]).names.last == "s")
    }

    @Test func serialisation() {
        let r = CleanRow(names: ["a", "b\"q", "c", "d", "e", "f"],
                         values: [.string("x,y"), .string("say \"hi\"\nnow"), .int(-4), .double(0.25), .null, .bool(true)])
        #expect(String(decoding: CleanTransform.serialize(r, as: .csv), as: UTF8.self)
            == "\"x,y\",\"say \"\"hi\"\"\nnow\",-4,0.25,,true")
        #expect(String(decoding: CleanTransform.serialize(r, as: .jsonl), as: UTF8.self)
            == "{\"a\":\"x,y\",\"b\\\"q\":\"say \\\"hi\\\"\\nnow\",\"c\":-4,\"d\":0.25,\"e\":null,\"f\":true}")
        #expect(CleanTransform.csvLine([""]) == Array("\"\"".utf8))
        var out: [UInt8] = []
        CleanTransform.appendJSONString("\u{1}\t\u{E9}", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"\\u0001\\t\u{E9}\"")
    }
}
