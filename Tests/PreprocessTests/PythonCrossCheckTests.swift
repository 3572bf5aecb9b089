import Foundation
import Testing
@testable import Preprocess
import TestSupport

/// Beam's Python WordCount is the contract: compare with CPython's own `re` when it is here.
enum Python {
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = String(dir) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Runs `re.findall(r"[\w']+", line)` per line (the Beam example) and returns the counts.
    static func wordCount(file: String) throws -> [[UInt8]: Int] {
        let script = """
            import collections, json, re, sys
            c = collections.Counter()
            with open(sys.argv[1], encoding="utf-8", newline="") as f:
                for line in f:
                    c.update(re.findall(r"[\\w']+", line))
            json.dump(sorted([list(k.encode("utf-8")), v] for k, v in c.items()), sys.stdout)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable ?? "/usr/bin/python3")
        p.arguments = ["-c", script, file]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0,
              let pairs = try JSONSerialization.jsonObject(with: data) as? [[Any]] else { return [:] }
        var counts: [[UInt8]: Int] = [:]
        for pair in pairs {
            guard pair.count == 2, let word = pair[0] as? [Int], let n = pair[1] as? Int else { continue }
            counts[word.map { UInt8(truncatingIfNeeded: $0) }] = n
        }
        return counts
    }
}

@Suite(.ownThreads) struct PythonCrossCheckTests {
    @Test(.enabled(if: Python.executable != nil, "python3 is not on PATH"))
    func pipelineEqualsPythonRegex() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bytes = Corpus.generate(bytes: 400_000, seed: 2026)
        let path = try dir.write("corpus.txt", bytes)
        let python = try Python.wordCount(file: path)
        #expect(python.count > 40)  // the script ran and saw most of the vocabulary
        var options = MapOptions()
        options.chunkBytes = 32 << 10
        let (_, reduces) = try await runWordCount(files: [path], splitBytes: 90_000, numShards: 3, dir: dir, options: options)
        let ours = try readCounts(reduces)
        let onlyOurs = ours.filter { python[$0.key] != $0.value }.map { String(decoding: $0.key, as: UTF8.self) }
        let onlyPython = python.filter { ours[$0.key] != $0.value }.map { String(decoding: $0.key, as: UTF8.self) }
        #expect(onlyOurs.isEmpty && onlyPython.isEmpty, "ours: \(onlyOurs.sorted()) python: \(onlyPython.sorted())")
    }

    @Test(.enabled(if: Python.executable != nil, "python3 is not on PATH"))
    func everyBMPScalarClassifiedLikePython() throws {
        // One line per 64 scalars of the BMP (Unicode 14 or older only: assigned in Swift's
        // tables with age <= 14), each scalar between two spaces; Python must find exactly the
        // scalars we call \w.
        let dir = try TempDir()
        defer { dir.remove() }
        var text = ""
        var expected: [[UInt8]: Int] = [:]
        var column = 0
        for v in 0x80..<0x10000 {
            guard let s = Unicode.Scalar(v), let age = s.properties.age, age.major <= 14,
                  s.properties.generalCategory != .lineSeparator, s.properties.generalCategory != .paragraphSeparator,
                  ![0x85, 0x1C, 0x1D, 0x1E].contains(v) else { continue }
            text.unicodeScalars.append(s)
            text += " "
            if PythonWord.isWord(s) { expected[Array(String(s).utf8), default: 0] += 1 }
            column += 1
            if column == 64 { text += "\n"; column = 0 }
        }
        let path = try dir.write("bmp.txt", text)
        let python = try Python.wordCount(file: path)
        let disagree = Set(python.keys).symmetricDifference(expected.keys)
            .map { String(decoding: $0, as: UTF8.self).unicodeScalars.map { String($0.value, radix: 16) } }
        #expect(disagree.isEmpty, "scalars classified differently: \(disagree.prefix(40))")
    }
}
