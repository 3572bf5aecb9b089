import Foundation

/// Test data for the cleaning jobs, and a second, deliberately simple implementation of the two
/// specs the cluster tests use (whole input in memory, Foundation's JSON parser, `SimpleCSV`).
enum CleanReference {
    struct CSVResult {
        /// Output rows as CSV lines (distinct: the spec dedupes).
        var rows: Set<String>
        var malformed: Int
        var recordsIn: Int
    }

    struct JSONLResult {
        var rows: [(String, Double?)]
        var malformed: Int
        var recordsIn: Int
    }

    /// `id,name,price,city,qty`: quoted names with commas, quotes and newlines, padded and
    /// mixed-case cities, missing prices and quantities, many duplicates once `id` is dropped,
    /// and three malformed rows (a ragged one, a price and a quantity that do not cast).
    static func table(rows: Int, seed: UInt64) -> String {
        var random = TestRandom(state: seed)
        let names = (0..<40).map { "name\($0)" } + ["Smith, Jr", "say \"hi\"", "two\nlines", "  padded  ", "Ünïcode, ok"]
        let cities = ["Oslo", " oslo ", "BERGEN", "Tromsø ", "Stavanger", " Bodø"]
        var out = "id,name,price,city,qty\n"
        out.reserveCapacity(rows * 40)
        for i in 0..<rows {
            var fields = [String(i), random.pick(names), random.next(30) == 0 ? "" : String(Double(random.next(40)) * 2.5 + 0.25),
                          random.pick(cities), random.next(30) == 0 ? "" : String(random.next(10))]
            switch i {
            case 1_000: fields.append("extra")
            case 2_000: fields[2] = "abc"
            case 3_000: (fields[2], fields[4]) = ("1.5", "many")
            default: break
            }
            out += SimpleCSV.line(fields) + (i % 7 == 0 ? "\r\n" : "\n")
        }
        return out
    }

    /// The csv-clean spec of the cluster test: select name, price, city, qty; trim; lowercase
    /// city; drop rows missing price; cast price to double and qty to int; keep qty >= 2;
    /// min-max normalise price; rename price to price_mm; dedupe.
    static func csvClean(_ text: String) -> CSVResult {
        var records = SimpleCSV.parse(text)
        records.removeFirst()
        var malformed = 0
        var kept: [(name: String, price: Double, city: String, qty: Int64)] = []
        for r in records {
            guard r.count == 5 else { malformed += 1; continue }
            let trimmed = r.map { $0.trimmingCharacters(in: .whitespaces) }
            if trimmed[2].isEmpty { continue }
            guard let price = Double(trimmed[2]), price.isFinite else { malformed += 1; continue }
            var qty: Int64?
            if !trimmed[4].isEmpty {
                guard let q = Int64(trimmed[4]) else { malformed += 1; continue }
                qty = q
            }
            guard let qty, qty >= 2 else { continue }
            kept.append((trimmed[1], price, trimmed[3].lowercased(), qty))
        }
        let low = kept.map(\.price).min() ?? 0
        let high = kept.map(\.price).max() ?? 0
        var rows = Set<String>()
        for k in kept {
            let scaled = high > low ? (k.price - low) / (high - low) : 0
            rows.insert(SimpleCSV.line([k.name, scaled == 0 ? "0.0" : String(scaled), k.city, String(k.qty)]))
        }
        return CSVResult(rows: rows, malformed: malformed, recordsIn: records.count)
    }

    /// JSON lines `{"id","tag","score","user"}`: tags padded, mixed-case, empty, null, absent or
    /// "skip"; scores as integers, decimals, numeric strings or null; three malformed lines
    /// (invalid JSON, an array, a score that does not cast).
    static func jsonl(records: Int, seed: UInt64) -> String {
        var random = TestRandom(state: seed)
        let tags = ["\"Alpha\"", "\" beta \"", "\"GAMMA\"", "\"delta\"", "\"\"", "\"skip\"", "null", ""]
        var out = ""
        for i in 0..<records {
            switch i {
            case 500: out += "{\"tag\": \"a\", \"score\": \n"; continue
            case 1_500: out += "[1,2,3]\n"; continue
            case 2_500: out += "{\"tag\":\"x\",\"score\":\"abc\"}\n"; continue
            default: break
            }
            let scores = [String(random.next(100)), String(Double(random.next(1_000)) / 8), "\"\(Double(random.next(80)) / 4)\"", "null"]
            let score = random.next(20) == 0 ? scores[2 + random.next(2)] : scores[random.next(2)]
            let tag = random.pick(tags)
            out += "{\"id\":\(i)" + (tag.isEmpty ? "" : ",\"tag\":\(tag)") + ",\"score\":\(score),\"user\":{\"n\":\(i % 7)}}\n"
        }
        return out
    }

    /// The jsonl-transform spec of the cluster test: select tag, score; trim; lowercase tag;
    /// fill a missing tag with "none"; cast score to double; drop tag "skip"; z-score score
    /// (population variance).
    static func jsonlTransform(_ text: String) -> JSONLResult {
        let lines = text.split(separator: "\n")
        var malformed = 0
        var kept: [(String, Double?)] = []
        for line in lines {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                malformed += 1
                continue
            }
            var tag = ((object["tag"] as? String) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            if tag.isEmpty { tag = "none" }
            var score: Double?
            switch object["score"] {
            case let n as NSNumber: score = n.doubleValue
            case let s as String:
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else { malformed += 1; continue }
                score = d
            default: score = nil
            }
            if tag == "skip" { continue }
            kept.append((tag, score))
        }
        let values = kept.compactMap(\.1)
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
        let sd = variance.squareRoot()
        let rows = kept.map { ($0.0, $0.1.map { sd > 0 ? ($0 - mean) / sd : 0 }) }
        return JSONLResult(rows: rows, malformed: malformed, recordsIn: lines.count)
    }

    static func order(_ a: (String, Double?), _ b: (String, Double?)) -> Bool {
        if a.0 != b.0 { return a.0 < b.0 }
        return (a.1 ?? -.infinity) < (b.1 ?? -.infinity)
    }
}
