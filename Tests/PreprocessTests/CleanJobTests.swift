import Foundation
import Testing
@testable import Preprocess
import TestSupport

/// Runs a whole cleaning job in-process: plan, statistics pass (if normalising), map, reduce.
func runClean(path: String, input: CleanInput, spec: CSVCleanSpec, splitBytes: Int64, numShards: Int,
              dir: TempDir, options: MapOptions = MapOptions()) async throws -> (maps: [MapOutput], reduces: [ReduceOutput]) {
    let splits: [InputSplit]
    switch input {
    case .csv: splits = try SplitPlanner.planCSV(path: path, targetBytes: splitBytes)
    case .jsonl:
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        splits = try SplitPlanner.plan(files: [.init(path: path, bytes: size)], targetBytes: splitBytes)
    }
    var stats = CleanStats()
    if !spec.normalize.isEmpty {
        for s in splits.reversed() { stats.merge(try await CleanMapper.stats(split: s, input: input, spec: spec, options: options)) }
    }
    let temp = try dir.mkdir("tmp-\(UUID().uuidString)")
    let out = try dir.mkdir("out")
    var maps: [MapOutput] = []
    for (i, s) in splits.enumerated() {
        maps.append(try await CleanMapper.run(split: s, input: input, spec: spec, stats: stats, numShards: numShards,
                                              tempDir: temp, taskID: i, options: options))
    }
    let transform = try CleanTransform(spec: spec, header: input.header)
    let format = spec.output ?? (input == .jsonl ? .jsonl : .csv)
    let reduces = try (0..<numShards).map { r in
        try CleanReducer.run(shard: r, of: numShards, inputs: maps.map { SpillInput(mapTaskIndex: $0.taskIndex, path: $0.spills[r].path) },
                             outputPrefix: out + "/clean", format: format,
                             csvHeader: transform.outputColumns(header: input.header), dedupe: spec.dedupe)
    }
    return (maps, reduces)
}

/// Output records of all shards (CSV headers dropped), each serialised again, sorted. CSV
/// shards are read back with our CSV reader, since records may hold newlines.
func outputLines(_ reduces: [ReduceOutput], csvHeader: Bool) throws -> [String] {
    try reduces.flatMap { r -> [String] in
        guard csvHeader else {
            return try String(contentsOfFile: r.file.path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let reader = try CSVRecordReader(split: InputSplit(path: r.file.path, start: 0, end: r.file.bytes), root: nil)
        var rows: [String] = []
        try reader.forEachRecord { rec in
            rows.append(String(decoding: CleanTransform.csvLine(rec.fields), as: UTF8.self))
            return true
        }
        return Array(rows.dropFirst())
    }.sorted()
}

@Suite(.ownThreads) struct CleanJobTests {
    let csv = """
        id,name,price,city
        1,  Apple ,1.50,Oslo
        2,"Banana, ripe",0.25,"Ber
        gen"
        3,Cherry,,Oslo
        4,Date,abc,Oslo
        5,Elder,2.00
        6,  Apple ,1.50,Oslo
        7,Fig,3.25,Oslo,extra
        8,Grape,4.00,"Tromsø"

        """

    @Test func csvCleanEndToEnd() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.csv", csv)
        var spec = CSVCleanSpec()
        spec.select = ["name", "price", "city"]
        spec.trim = true
        spec.lowercase = ["name"]
        spec.casts = ["price": .double]
        spec.missing = .init(action: .drop, columns: ["price"])
        spec.filter = [.init(column: "price", op: .lt, value: "4")]
        spec.dedupe = true
        spec.rename = ["price": "usd"]
        let header = try CSVRecordReader.readHeader(path: path, root: nil).fields
        let (maps, reduces) = try await runClean(path: path, input: .csv(header: header), spec: spec, splitBytes: 20, numShards: 2, dir: dir)
        #expect(maps.count > 2)
        #expect(try outputLines(reduces, csvHeader: true) == ["\"banana, ripe\",0.25,\"Ber\ngen\"", "apple,1.5,Oslo"])
        for r in reduces {
            #expect(try String(contentsOfFile: r.file.path, encoding: .utf8).hasPrefix("name,usd,city\n"))
        }
        #expect(maps.reduce(0) { $0 + $1.counters.recordsIn } == 8)
        #expect(maps.reduce(0) { $0 + $1.counters.malformedRecords } == 3)  // abc, ragged short, ragged long
        let rejects = try maps.compactMap(\.rejects).map { try String(contentsOfFile: $0.path, encoding: .utf8) }.joined()
        #expect(rejects.contains("\"reason\":\"column price: cannot cast \\\"abc\\\" to double\""))
        #expect(rejects.contains("\"reason\":\"expected 4 fields, got 3\",\"record\":\"5,Elder,2.00\\n\""))
        #expect(rejects.contains("expected 4 fields, got 5"))
        #expect(reduces.reduce(0) { $0 + $1.counters.recordsOut } == 2)
        #expect(reduces.reduce(0) { $0 + $1.counters.recordsIn } == 3)  // the duplicate apple row reached one reducer
    }

    @Test func failPolicyStopsAtTheFirstMalformedRecord() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.csv", csv)
        var spec = CSVCleanSpec()
        spec.malformed = .fail
        let header = try CSVRecordReader.readHeader(path: path, root: nil).fields
        await #expect(throws: PreprocessError.malformedRecord(path: path, offset: 103, reason: "expected 4 fields, got 3")) {
            _ = try await runClean(path: path, input: .csv(header: header), spec: spec, splitBytes: 1 << 20, numShards: 1, dir: dir)
        }
    }

    @Test func normalisationUsesStatisticsOfTheWholeInput() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var text = "k,v\n"
        for i in 0..<50 { text += "k\(i),\(i * 2)\n" }
        let path = try dir.write("in.csv", text)
        var spec = CSVCleanSpec()
        spec.normalize = ["v": .minmax]
        spec.output = .jsonl
        let (_, reduces) = try await runClean(path: path, input: .csv(header: ["k", "v"]), spec: spec, splitBytes: 64, numShards: 3, dir: dir)
        let lines = try outputLines(reduces, csvHeader: false)
        #expect(lines.count == 50)
        #expect(lines.contains("{\"k\":\"k0\",\"v\":0.0}"))
        #expect(lines.contains("{\"k\":\"k49\",\"v\":1.0}"))
        #expect(lines.contains("{\"k\":\"k7\",\"v\":\(CleanValue.format(14.0 / 98.0))}"))
    }

    @Test func jsonlTransformEndToEnd() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let lines = [
            "{\"b\":2,\"a\":\"  Hi \",\"n\":{\"z\":1,\"y\":[true,null]}}",
            "{\"a\":\"x\",\"b\":\"7\",\"n\":null}\r",
            "",
            "not json",
            "[1,2]",
            "{\"a\":\"deep\",\"b\":1,\"n\":\(deep)}",
            "{\"a\":\"" + String(repeating: "L", count: 300) + "\",\"b\":1}",
            "{\"b\":2,\"a\":\"  Hi \",\"n\":{\"y\":[true,null],\"z\":1}}",
            "{\"a\":\"f\",\"b\":2.5,\"c\":true}",
        ]
        let path = try dir.write("in.jsonl", lines.joined(separator: "\n") + "\n")
        var spec = CSVCleanSpec()
        spec.trim = true
        spec.casts = ["b": .int]
        spec.dedupe = true
        spec.maxRecordBytes = 200
        let (maps, reduces) = try await runClean(path: path, input: .jsonl, spec: spec, splitBytes: 30, numShards: 2, dir: dir)
        #expect(try outputLines(reduces, csvHeader: false) == [
            "{\"a\":\"Hi\",\"b\":2,\"n\":{\"y\":[true,null],\"z\":1}}",
            "{\"a\":\"x\",\"b\":7,\"n\":null}",
        ])
        let reasons = try maps.compactMap(\.rejects).map { try String(contentsOfFile: $0.path, encoding: .utf8) }.joined()
        for reason in ["invalid JSON", "not a JSON object", "nesting deeper than 64", "line longer than 200 bytes",
                       "column b: cannot cast \\\"2.5\\\" to int"] {
            #expect(reasons.contains(reason), "\(reason)")
        }
        #expect(maps.reduce(0) { $0 + $1.counters.malformedRecords } == 5)
    }

    /// Small chunks make many batches per task; parallel and sequential runs write the same bytes.
    @Test(arguments: [CleanInput.csv(header: ["id", "name", "price", "city"]), .jsonl])
    func rerunIsByteIdentical(input: CleanInput) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var text = input == .jsonl ? "" : "id,name,price,city\n"
        for i in 0..<400 {
            text += input == .jsonl ? "{\"id\":\(i % 50),\"name\":\"n\(i % 7)\"}\n" : "\(i % 50),\"n\n\(i % 7)\",\(i),x\n"
            if i % 97 == 0 { text += "ragged\n" }
        }
        let path = try dir.write("in.txt", text)
        var spec = CSVCleanSpec()
        spec.dedupe = true
        spec.normalize = ["id": .zscore]
        var options = MapOptions()
        options.chunkBytes = 256
        options.parallelism = 3
        let a = try await runClean(path: path, input: input, spec: spec, splitBytes: 2000, numShards: 3, dir: dir, options: options)
        options.parallelism = 1
        let b = try await runClean(path: path, input: input, spec: spec, splitBytes: 2000, numShards: 3, dir: dir, options: options)
        #expect(a.maps.count > 2)
        #expect(a.reduces.map(\.file) == b.reduces.map(\.file))
        #expect(a.maps.map { $0.spills.map(\.crc32) } == b.maps.map { $0.spills.map(\.crc32) })
        #expect(a.maps.map { $0.rejects?.crc32 } == b.maps.map { $0.rejects?.crc32 })
        #expect(a.maps.reduce(0) { $0 + $1.counters.malformedRecords } == 5)
        #expect(a.reduces.reduce(0) { $0 + $1.counters.recordsOut } == (input == .jsonl ? 350 : 400))  // lcm(50, 7) distinct JSON rows
    }
}
