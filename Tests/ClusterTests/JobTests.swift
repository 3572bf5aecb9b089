import Foundation
import Testing

/// WordCount jobs run end to end: the leader plans map tasks, executors on every node run them
/// over a shared data root, the leader adds the reducers, and the job ends DONE with shards that
/// equal an independent count.
extension ClusterTests {
    @Test func aWordCountJobRunsOnThreeNodesAndMatchesAReferenceCount() async throws {
        let data = try JobData()
        defer { data.remove() }
        let corpus = JobData.corpus(lines: 24_000, seed: 7)
        try data.write("in/corpus.txt", corpus)
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path, "jobSplitBytes": 128 * 1024])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1

        let request = HTTP.json(["template": "wordcount", "parameters": [
            "inputFile": "in/*.txt", "output": "out/wc/counts", "numShards": "3", "tempLocation": "tmp",
        ]])
        let created = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/jobs", body: request)
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        let id = try #require(created.json?["id"] as? String)
        let job = try await JobClient.waitUntilTerminal(id, cluster: cluster, seconds: 60)
        #expect(job["state"] as? String == "DONE", "\(job)")
        let counters = job["counters"] as? [String: Any] ?? [:]
        let total = counters["tasksTotal"] as? Int ?? -1
        #expect(total >= 3 + 8, "several map tasks plus 3 reducers: \(counters)")
        #expect(counters["tasksDone"] as? Int == total)

        let outDir = data.root.appendingPathComponent("out/wc")
        let names = try FileManager.default.contentsOfDirectory(atPath: outDir.path).sorted()
        #expect(names == ["counts-00000-of-00003", "counts-00001-of-00003", "counts-00002-of-00003"],
                "every shard exactly once, no temp file left: \(names)")
        var counted: [String: Int] = [:]
        for name in names {
            let text = try String(contentsOf: outDir.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let n = Int(parts[1].dropFirst()) else {
                    Issue.record("bad output line \(line)")
                    continue
                }
                #expect(counted[String(parts[0])] == nil, "word \(parts[0]) in two shards")
                counted[String(parts[0])] = n
            }
        }
        let reference = JobData.referenceCount(corpus)
        #expect(counted.count == reference.count)
        #expect(counted == reference)
        if let start = job["startTime"] as? String, let end = job["endTime"] as? String,
           let a = ISO8601DateFormatter.withFraction.date(from: start), let b = ISO8601DateFormatter.withFraction.date(from: end) {
            let seconds = b.timeIntervalSince(a)
            print("wordcount job: \(corpus.utf8.count) bytes, \(total) tasks, \(seconds) s from first assignment to DONE")
        }
    }

    @Test func aWordCountJobWithABadPathIsRefusedBeforeAnythingIsProposed() async throws {
        let data = try JobData()
        defer { data.remove() }
        let cluster = try LocalCluster(extraConfig: ["dataRoot": data.root.path])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        for (input, mention) in [("in/missing.txt", "missing.txt"), ("../../etc/passwd", ".."), ("/etc/passwd", "outside")] {
            let request = HTTP.json(["template": "wordcount", "parameters": ["inputFile": input, "output": "out/x"]])
            let reply = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/jobs", body: request)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(reply.status == 400, "\(input): \(text)")
            #expect(reply.errorCode == "INVALID_ARGUMENT")
            #expect(text.contains(mention), "\(input): the error names the problem: \(text)")
        }
        let missing = try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/jobs",
                                          body: HTTP.json(["template": "wordcount", "parameters": ["output": "out/x"]]))
        #expect(missing.status == 400)
        #expect(String(decoding: missing.body, as: UTF8.self).contains("inputFile"))
        let list = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/jobs")
        #expect((list.json?["jobs"] as? [[String: Any]])?.isEmpty == true, "no job was recorded")
    }
}

/// A data root for one test: a temporary directory, removed by `remove()`.
struct JobData {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// ASCII text from a fixed vocabulary (letters, digits, '_' and apostrophes) with
    /// punctuation between words; deterministic for a seed.
    static func corpus(lines: Int, seed: UInt64) -> String {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'")
        let vocabulary = (0..<2_000).map { _ in String((0..<(1 + next(9))).map { _ in letters[next(letters.count)] }) }
        let separators = [" ", " ", " ", ", ", ". ", " - ", "; ", "\t", " (", ") ", "!"]
        var out = ""
        out.reserveCapacity(lines * 64)
        for _ in 0..<lines {
            for w in 0..<(1 + next(14)) {
                if w > 0 { out += separators[next(separators.count)] }
                // A skewed pick, so some words are frequent.
                out += vocabulary[min(next(vocabulary.count), next(vocabulary.count))]
            }
            out += next(10) == 0 ? "\r\n" : "\n"
        }
        return out
    }

    /// Python's `re.findall(r"[\w']+", line)` for ASCII text.
    static func referenceCount(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        var word: [UInt8] = []
        for byte in text.utf8 {
            let isWord = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x27
            if isWord {
                word.append(byte)
            } else if !word.isEmpty {
                counts[String(decoding: word, as: UTF8.self), default: 0] += 1
                word.removeAll(keepingCapacity: true)
            }
        }
        if !word.isEmpty { counts[String(decoding: word, as: UTF8.self), default: 0] += 1 }
        return counts
    }
}

enum JobClient {
    /// Polls the job (bounded) until it is DONE, FAILED or CANCELLED; returns its JSON.
    static func waitUntilTerminal(_ id: String, cluster: LocalCluster, seconds: Double) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            for member in cluster.members where cluster.isRunning(member.id) {
                guard let reply = try? await HTTP.send("GET", "http://\(cluster.api(member.id))/v1/jobs/\(id)", timeout: 5),
                      reply.status == 200, let job = reply.json else { continue }
                last = job
                if ["DONE", "FAILED", "CANCELLED"].contains(job["state"] as? String ?? "") { return job }
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError.timeout("job \(id) not finished within \(seconds) s: \(last)\n\(cluster.log(1).suffix(2_000))")
    }
}

extension ISO8601DateFormatter {
    static var withFraction: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
