import Foundation
import Testing
@testable import Preprocess
import TestSupport

/// The demo corpus in `cluster/sample/`: our WordCount must reproduce, byte for byte, the
/// `expected-wordcount.txt` that `make-corpus.py` computed with Python's `re` (Beam's rule).
enum Sample {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("cluster/sample").path
    static var present: Bool { FileManager.default.fileExists(atPath: dir + "/corpus.txt") }
}

@Suite(.ownThreads) struct SampleCorpusTests {
    @Test(.enabled(if: Sample.present, "cluster/sample/corpus.txt not found"), arguments: [1, 3])
    func wordCountEqualsBeamExpectation(numShards: Int) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (_, reduces) = try await runWordCount(files: [Sample.dir + "/corpus.txt"], splitBytes: 48 << 10,
                                                  numShards: numShards, dir: dir)
        let expected = try String(contentsOfFile: Sample.dir + "/expected-wordcount.txt", encoding: .utf8)
        if numShards == 1 {
            #expect(try dir.read(reduces[0].file.path) == Array(expected.utf8))
        } else {
            let lines = try reduces.flatMap { try String(contentsOfFile: $0.file.path, encoding: .utf8).split(separator: "\n") }
            // Compare as sorted byte strings (each shard is sorted by word; their union is not).
            let ours = lines.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            let theirs = expected.split(separator: "\n").map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(ours.count == theirs.count)
            #expect(ours == theirs, "shard union differs from expected-wordcount.txt")
        }
    }

    @Test(.enabled(if: Sample.present, "cluster/sample/products.csv not found"))
    func sampleCleanSpecIsValidForTheSampleCSV() throws {
        let spec = try CSVCleanSpec.decode(json: Array(try Data(contentsOf: URL(fileURLWithPath: Sample.dir + "/products.clean.json"))))
        let header = try CSVRecordReader.readHeader(path: Sample.dir + "/products.csv", root: nil).fields
        try spec.validate(header: header)
        #expect(spec.output == .jsonl)
    }

    /// A throughput figure, not an assertion (speed belongs to benchmarks): run with
    /// `PREPROCESS_THROUGHPUT=1 swift test -c release --filter mapperThroughput`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PREPROCESS_THROUGHPUT"] != nil && Sample.present,
                   "set PREPROCESS_THROUGHPUT=1 to measure"))
    func mapperThroughput() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let corpus = try dir.read(Sample.dir + "/corpus.txt")
        var big: [UInt8] = []
        while big.count < 64 << 20 { big += corpus }
        let path = try dir.write("big.txt", big)
        let temp = try dir.mkdir("tmp")
        for parallelism in [1, 2] {
            var options = MapOptions()
            options.parallelism = parallelism
            let start = ContinuousClock.now
            let cpuStart = clock()
            let out = try await WordCountMapper.run(split: InputSplit(path: path, start: 0, end: Int64(big.count)),
                                                    numShards: 3, tempDir: temp, taskID: parallelism, options: options)
            let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
            let mib = Double(big.count) / 1_048_576
            print("mapper parallelism \(parallelism): \(Int(mib)) MiB, wall \(String(format: "%.2f", seconds)) s = "
                  + "\(String(format: "%.0f", mib / seconds)) MiB/s, CPU \(String(format: "%.2f", cpu)) s = "
                  + "\(String(format: "%.0f", mib / cpu)) MiB per CPU-second")
            #expect(out.counters.bytesIn == Int64(big.count))
        }
    }
}
