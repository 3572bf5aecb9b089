import Foundation
import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct WordCountPipelineTests {
    func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func smallJobMatchesHandCount() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", "the cat's hat\r\n\r\nThe cat\nthe end")
        let (maps, reduces) = try await runWordCount(files: [path], splitBytes: 5, numShards: 3, dir: dir)
        let counts = try readCounts(reduces)
        #expect(counts == [key("the"): 2, key("The"): 1, key("cat's"): 1, key("cat"): 1, key("hat"): 1, key("end"): 1])
        #expect(maps.reduce(0) { $0 + $1.counters.recordsIn } == 4)  // every line read once
        #expect(reduces.map { ($0.file.path as NSString).lastPathComponent }
            == ["counts-00000-of-00003", "counts-00001-of-00003", "counts-00002-of-00003"])
    }

    /// A token cut by every possible split edge is still counted once, whole.
    @Test(arguments: 1...12)
    func tokenStraddlingSplitEdge(splitBytes: Int) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", "straddling\nwords here\r\n")
        let (_, reduces) = try await runWordCount(files: [path], splitBytes: Int64(splitBytes), numShards: 2, dir: dir)
        #expect(try readCounts(reduces) == [key("straddling"): 1, key("words"): 1, key("here"): 1])
    }

    @Test func shardsAreSortedByBytesAndFormattedLikeBeam() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", "b a \u{E9} B a _ 9 \u{3B1}\n")
        let (_, reduces) = try await runWordCount(files: [path], splitBytes: 1 << 20, numShards: 1, dir: dir)
        let text = try String(contentsOfFile: reduces[0].file.path, encoding: .utf8)
        #expect(text == "9: 1\nB: 1\n_: 1\na: 2\nb: 1\n\u{E9}: 1\n\u{3B1}: 1\n")
        #expect(reduces[0].file.crc32 == CRC32.checksum(Array(text.utf8)))
        #expect(reduces[0].file.bytes == Int64(text.utf8.count))
    }

    @Test func rerunIsByteIdentical() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", Corpus.generate(bytes: 300_000, seed: 7))
        var options = MapOptions()
        options.chunkBytes = 16 << 10
        let first = try await runWordCount(files: [path], splitBytes: 70_000, numShards: 3, dir: dir, options: options)
        options.parallelism = 1
        let second = try await runWordCount(files: [path], splitBytes: 70_000, numShards: 3, dir: dir, options: options)
        #expect(first.reduces.map(\.file) == second.reduces.map(\.file))
        #expect(first.maps.map { $0.spills.map(\.crc32) } == second.maps.map { $0.spills.map(\.crc32) })
    }

    @Test func invalidUTF8LinesAreCountedMalformed() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bytes = Array("good line\n".utf8) + [0x62, 0x61, 0x64, 0xFF, 0x6F, 0x6E, 0x65, 0x0A]
        let path = try dir.write("in.txt", bytes)
        let (maps, reduces) = try await runWordCount(files: [path], splitBytes: 100, numShards: 1, dir: dir)
        #expect(maps[0].counters.malformedRecords == 1)
        #expect(try readCounts(reduces) == [key("good"): 1, key("line"): 1, key("bad"): 1, key("one"): 1])
    }

    @Test func templateRule() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", "don't snake_case x2 caf\u{E9}\n")
        let (_, reduces) = try await runWordCount(files: [path], splitBytes: 100, numShards: 2, dir: dir,
                                                  tokenizer: WordTokenizer(rule: .template))
        #expect(try readCounts(reduces) == [key("don't"): 1, key("snake"): 1, key("case"): 1, key("x"): 1, key("caf"): 1])
    }

    @Test func badParametersAndCorruptSpills() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", "a\n")
        await #expect(throws: PreprocessError.invalidParameter(field: "numShards", reason: "must be positive, got 0")) {
            _ = try await WordCountMapper.run(split: InputSplit(path: path, start: 0, end: 2), numShards: 0,
                                              tempDir: dir.path, taskID: 0)
        }
        let bad = try dir.write("spill", [0xFF, 0xFF, 0xFF, 0x7F, 1])
        #expect(throws: PreprocessError.corruptSpill(path: bad, offset: 0)) {
            _ = try WordCountReducer.run(shard: 0, of: 1, inputs: [SpillInput(mapTaskIndex: 0, path: bad)],
                                         outputPrefix: dir.path + "/o")
        }
        let truncated = try dir.write("spill2", [9, 0, 0, 0, 1, 2])
        #expect(throws: PreprocessError.corruptSpill(path: truncated, offset: 0)) {
            _ = try WordCountReducer.run(shard: 0, of: 1, inputs: [SpillInput(mapTaskIndex: 0, path: truncated)],
                                         outputPrefix: dir.path + "/o")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/o-00000-of-00001"))
    }

    /// Independent check: a differently written counter over a multi-megabyte corpus equals
    /// the full pipeline (several splits, parallel chunks, several shards).
    @Test func multiMegabyteCorpusMatchesReferenceCounter() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bytes = Corpus.generate(bytes: 3 << 20, seed: 42)
        let path = try dir.write("big.txt", bytes)
        var options = MapOptions()
        options.chunkBytes = 128 << 10
        options.parallelism = 3
        let (maps, reduces) = try await runWordCount(files: [path], splitBytes: 700_000, numShards: 4, dir: dir,
                                                     options: options)
        #expect(maps.count == 5)
        #expect(maps.reduce(Int64(0)) { $0 + $1.counters.bytesIn } == Int64(bytes.count))
        let ours = try readCounts(reduces)
        let reference = referenceWordCount(bytes)
        #expect(ours.count == reference.count)
        #expect(ours == reference)
    }
}

@Suite(.ownThreads) struct WordCountFilesTests {
    /// Committed outputs only: no temporary names are left behind by maps or reduces.
    @Test func noTemporaryFilesRemain() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("in.txt", Corpus.generate(bytes: 50_000, seed: 3))
        _ = try await runWordCount(files: [path], splitBytes: 10_000, numShards: 2, dir: dir)
        let all = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
        #expect(!all.contains { $0.contains(".tmp-") }, "\(all.filter { $0.contains(".tmp-") })")
        #expect(all.filter { $0.hasPrefix("out/counts-") }.sorted() == ["out/counts-00000-of-00002", "out/counts-00001-of-00002"])
    }

    /// Readers given a data root open through it: a split naming a file outside is refused.
    @Test func mapperChecksTheDataRootAtOpen() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let inside = try dir.mkdir("root")
        let outside = try dir.write("secret.txt", "secret words\n")
        let root = try DataRoot(inside)
        await #expect(throws: PreprocessError.path(.outsideRoot(path: outside, resolved: outside))) {
            _ = try await WordCountMapper.run(split: InputSplit(path: outside, start: 0, end: 13), numShards: 1,
                                              tempDir: inside, taskID: 0, root: root)
        }
        let ok = try dir.write("root/in.txt", "fine words\n")
        let out = try await WordCountMapper.run(split: InputSplit(path: ok, start: 0, end: 11), numShards: 1,
                                                tempDir: inside, taskID: 0, root: root)
        #expect(out.counters.recordsIn == 1 && out.counters.recordsOut == 2)
    }
}
