import Foundation

extension CleanTransform {
    /// One output record without its line terminator. Deterministic, so equal rows give equal
    /// bytes: dedupe and shard assignment both work on these bytes.
    public static func serialize(_ row: CleanRow, as format: CSVCleanSpec.OutputFormat) -> [UInt8] {
        switch format {
        case .csv: return csvLine(row.values.map(\.text))
        case .jsonl: return jsonObject(row)
        }
    }

    /// RFC 4180: quote a field holding `,`, `"`, CR or LF, doubling inner quotes. A record of
    /// one empty field is written `""`, so it does not read back as an empty (skipped) line.
    static func csvLine(_ fields: [String]) -> [UInt8] {
        if fields.count == 1 && fields[0].isEmpty { return Array("\"\"".utf8) }
        var out: [UInt8] = []
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(0x2C) }
            let bytes = Array(f.utf8)
            if bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                out.append(0x22)
                for b in bytes {
                    if b == 0x22 { out.append(0x22) }
                    out.append(b)
                }
                out.append(0x22)
            } else {
                out += bytes
            }
        }
        return out
    }

    static func jsonObject(_ row: CleanRow) -> [UInt8] {
        var out: [UInt8] = [0x7B]
        for (i, name) in row.names.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendJSONString(name, to: &out)
            out.append(0x3A)
            switch row.values[i] {
            case .null: out += Array("null".utf8)
            case .string(let s): appendJSONString(s, to: &out)
            case .int(let n): out += Array(String(n).utf8)
            case .double(let d): out += Array((d.isFinite ? CleanValue.format(d) : "null").utf8)
            case .bool(let b): out += Array((b ? "true" : "false").utf8)
            case .raw(let json): out += Array(json.utf8)
            }
        }
        out.append(0x7D)
        return out
    }

    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
