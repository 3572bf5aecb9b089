import Foundation
@testable import Preprocess

/// A unique temporary directory; call `remove()` in a `defer`.
struct TempDir {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        let p = base + "/preprocess-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        // Resolve symlinks in the temp location itself so DataRoot comparisons are exact.
        path = (p as NSString).resolvingSymlinksInPath
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func read(_ p: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: p)))
    }

    func mkdir(_ name: String) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// A small deterministic generator (SplitMix64), so failures replay from the printed seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs the whole WordCount job in-process: plan, map every split, reduce every shard.
func runWordCount(files: [String], splitBytes: Int64, numShards: Int, dir: TempDir,
                  tokenizer: WordTokenizer = WordTokenizer(), options: MapOptions = MapOptions())
    async throws -> (maps: [MapOutput], reduces: [ReduceOutput]) {
    let sizes = try files.map { p in
        SplitPlanner.FileSize(path: p, bytes: (try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
    }
    let splits = try SplitPlanner.plan(files: sizes, targetBytes: splitBytes)
    let temp = try dir.mkdir("tmp-\(UUID().uuidString)")
    let out = try dir.mkdir("out")
    var maps: [MapOutput] = []
    for (i, s) in splits.enumerated() {
        maps.append(try await WordCountMapper.run(split: s, numShards: numShards, tempDir: temp, taskID: i,
                                                  tokenizer: tokenizer, options: options))
    }
    var reduces: [ReduceOutput] = []
    for r in 0..<numShards {
        let inputs = maps.map { SpillInput(mapTaskIndex: $0.taskIndex, path: $0.spills[r].path) }
        reduces.append(try WordCountReducer.run(shard: r, of: numShards, inputs: inputs, outputPrefix: out + "/counts"))
    }
    return (maps, reduces)
}

/// Parses `word: count` lines of all output shards into a dictionary.
func readCounts(_ reduces: [ReduceOutput]) throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for r in reduces {
        let text = try String(contentsOfFile: r.file.path, encoding: .utf8)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let sep = line.range(of: ": ", options: .backwards), let n = Int(line[sep.upperBound...]) else {
                continue
            }
            counts[String(line[..<sep.lowerBound]), default: 0] += n
        }
    }
    return counts
}
