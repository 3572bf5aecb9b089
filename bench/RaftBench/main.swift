import Foundation

// Raft benchmarks: the core alone, then the SQLite log storage. Run with
//   swift run -c release RaftBench
// Prints one table; keep its columns stable so figures compare across changes.

struct BenchRow {
    var name: String
    var value: Double
    var unit: String
    var note: String = ""
}

var rows: [BenchRow] = []
rows += runCoreBench()
rows += runStorageBench()

print(String(repeating: "-", count: 78))
print(pad("benchmark", 44) + padLeft("value", 14) + "  " + pad("unit", 10) + " note")
print(String(repeating: "-", count: 78))
for row in rows {
    print(pad(row.name, 44) + padLeft(format(row.value), 14) + "  " + pad(row.unit, 10) + " " + row.note)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func format(_ v: Double) -> String {
    v >= 100 ? String(Int(v.rounded())) : String((v * 100).rounded() / 100)
}
