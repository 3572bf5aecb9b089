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

/// Parses `word: count` lines of all output shards. Keys are UTF-8 bytes, not `String`s:
/// Swift compares strings by canonical equivalence, which would merge distinct tokens such as
/// a precomposed and a decomposed Hangul syllable.
func readCounts(_ reduces: [ReduceOutput]) throws -> [[UInt8]: Int] {
    var counts: [[UInt8]: Int] = [:]
    for r in reduces {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: r.file.path)))
        for line in bytes.split(separator: 0x0A) {
            let text = Array(line)
            guard let sep = lastIndex(of: Array(": ".utf8), in: text),
                  let n = Int(String(decoding: text[(sep + 2)...], as: UTF8.self)) else {
                counts[Array("<unparsable>".utf8), default: 0] += 1
                continue
            }
            counts[Array(text[..<sep]), default: 0] += n
        }
    }
    return counts
}

private func lastIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
    guard hay.count >= needle.count else { return nil }
    for i in stride(from: hay.count - needle.count, through: 0, by: -1) where Array(hay[i..<i + needle.count]) == needle {
        return i
    }
    return nil
}

/// A different word counter, written independently of `WordTokenizer`, for cross-checks: it
/// decodes each line as a `String` and splits its Unicode scalars with a predicate spelled
/// out from Python's definition of `\w`.
func referenceWordCount(_ bytes: [UInt8]) -> [[UInt8]: Int] {
    func isPythonWordChar(_ u: Unicode.Scalar) -> Bool {
        if u == "_" || u == "'" { return true }
        let letters: Set<Unicode.GeneralCategory> = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter,
                                                     .modifierLetter, .otherLetter]
        if letters.contains(u.properties.generalCategory) { return true }
        if let t = u.properties.numericType { return [.decimal, .digit, .numeric].contains(t) }
        return false
    }
    var counts: [[UInt8]: Int] = [:]
    let text = String(decoding: bytes, as: UTF8.self)
    for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: true) {
        for token in line.split(whereSeparator: { !isPythonWordChar($0) }) {
            var s = ""
            s.unicodeScalars.append(contentsOf: token)
            counts[Array(s.utf8), default: 0] += 1
        }
    }
    return counts
}
