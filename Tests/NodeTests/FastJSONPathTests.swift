import API
import Foundation
import NIOCore
import NIOPosix
import Raft
@testable import Store
import Testing
@testable import Node

/// The hand-written JSON paths of the create/get request (`JSONOutput`, `JSONReader`,
/// `NodeAPI.taskJSON`, `TaskRequest(fastJSON:)`, `HTTPSupport.rfc3339`) must give exactly what
/// the `Codable`/Foundation paths they replace give. Each test compares the two on a fixed list
/// of edge cases and on a seeded random corpus.
@Suite struct FastJSONPathTests {
    typealias Random = SplitMix64

    static let pieces: [String] = ["a", "B", "z", "_", "-", "/", "0", "9", " ", "\"", "\\", "\n", "\t", "\r", "\u{08}", "\u{0C}",
                                   "\u{00}", "\u{01}", "\u{1F}", "\u{7F}", "é", "e\u{301}", "ß", "\u{2028}", "😀", "中", "url", "key"]

    static func string(_ random: inout Random) -> String {
        (0..<random.below(8)).map { _ in pieces[random.below(pieces.count)] }.joined()
    }

    static func value(_ random: inout Random, depth: Int) -> JSONValue {
        switch random.below(depth > 3 ? 4 : 7) {
        case 0: return .null
        case 1: return .bool(random.below(2) == 0)
        case 2:
            let magnitude = Double(random.next() % 999_999_999_999_999)
            return .number(random.below(2) == 0 ? magnitude : -magnitude - 1)
        case 3: return .string(string(&random))
        case 4: return .array((0..<random.below(4)).map { _ in value(&random, depth: depth + 1) })
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<random.below(5) { fields[string(&random)] = value(&random, depth: depth + 1) }
            return .object(fields)
        }
    }

    static func encoded(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    @Test func canonicalOutputIsWhatJSONEncoderWrites() throws {
        var random = Random(seed: 42)
        for _ in 0..<2_000 {
            let value = Self.value(&random, depth: 0)
            var bytes: [UInt8] = []
            #expect(JSONOutput.appendCanonical(value, to: &bytes))
            let expected = try Self.encoded(value)
            #expect(bytes == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
        var all = ""
        for scalar in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        var bytes: [UInt8] = []
        #expect(JSONOutput.appendCanonical(.array([.string(all)]), to: &bytes))
        #expect(bytes == (try Self.encoded([all])))
    }

    @Test func numbersTheWriterCannotPrintExactlyAreDeclined() {
        for number in [1.5, 1e15, -1e15, 1e300, -0.0, .nan, .infinity] {
            var bytes: [UInt8] = []
            #expect(!JSONOutput.appendCanonical(.array([.number(number)]), to: &bytes), "\(number)")
        }
        var bytes: [UInt8] = []
        #expect(JSONOutput.appendCanonical(.number(999_999_999_999_999), to: &bytes))
        #expect(String(decoding: bytes, as: UTF8.self) == "999999999999999")
    }

    @Test func readerAgreesWithJSONDecoderOnTheCorpus() throws {
        var random = Random(seed: 7)
        for _ in 0..<1_000 {
            let text = try Self.encoded(Self.value(&random, depth: 0))
            let fast = JSONReader.parse(text, maxDepth: 64)
            #expect(fast == (try JSONDecoder().decode(JSONValue.self, from: Data(text))))
        }
    }

    static func task(_ random: inout Random, payload: Data, result: Data?) -> TaskRecord {
        func maybe<T>(_ value: T) -> T? { random.below(2) == 0 ? nil : value }
        let created = Int64(random.next() % 4_000_000_000_000)
        return TaskRecord(
            id: TimeOrderedID.make(nowMs: created), queue: "q-\(random.below(100))", name: maybe(Self.string(&random)),
            jobID: maybe("job-1"), kind: random.below(2) == 0 ? "http" : "preprocess", payload: payload,
            scheduleTimeMs: created + Int64(random.below(100_000)) - 50_000, dispatchDeadlineMs: Int64(random.below(86_400_000)),
            createTimeMs: created, state: TaskState.allCases[random.below(TaskState.allCases.count)], attempts: random.below(10),
            firstAttemptMs: maybe(created + 1), lastAttemptMs: maybe(created + 999), lastOutcome: maybe("FAILED"),
            leaseExecutor: maybe("n1-e1"), leaseUntilMs: maybe(created + 60_001), fence: maybe(UInt64(random.below(1_000))),
            result: result, lastError: maybe(Self.string(&random)), endTimeMs: nil)
    }

    @Test func taskJSONIsWhatTheCodablePathWrites() throws {
        var random = Random(seed: 99)
        var fastCount = 0
        for round in 0..<600 {
            let payload: Data
            switch round % 4 {
            case 0: payload = Data(try Self.encoded(Self.value(&random, depth: 0)))
            case 1: payload = Data(#"{ "url" : "http://x/" , "n": 1.5 }"#.utf8)   // a fraction: declined
            case 2: payload = Data("not json {".utf8)                                 // stored text: declined
            default: payload = Data()
            }
            let result: Data? = random.below(3) == 0 ? Data(try Self.encoded(Self.value(&random, depth: 0))) : nil
            let task = Self.task(&random, payload: payload, result: result)
            let expected = try Self.encoded(NodeAPI.body(task))
            if let fast = NodeAPI.taskJSON(task) {
                fastCount += 1
                #expect(fast == expected, "\(String(decoding: expected, as: UTF8.self))")
            } else {
                #expect(round % 4 == 1 || round % 4 == 2)
            }
        }
        #expect(fastCount >= 300)
        // Spaces and key order in a stored payload do not survive: it is re-encoded canonically.
        let spaced = Self.task(&random, payload: Data(#"{ "b" : [1, 2], "a" : "x" }"#.utf8), result: nil)
        #expect(NodeAPI.taskJSON(spaced) == (try Self.encoded(NodeAPI.body(spaced))))
    }

    /// A create's answer copies the payload bytes the writer made for it instead of reading and
    /// writing them again; that must be the very same answer, which holds only because written
    /// bytes are a fixed point of the read-and-write `taskJSON` does with a stored payload.
    @Test func aWrittenPayloadIsCopiedVerbatimWithTheSameBytes() throws {
        var random = Random(seed: 7)
        var copied = 0
        for _ in 0..<400 {
            let (data, written) = NodeAPI.canonicalPayload(Self.value(&random, depth: 0))
            #expect(written, "integers only: the writer takes every such value")
            let task = Self.task(&random, payload: data, result: nil)
            let parsed = try #require(NodeAPI.taskJSON(task))
            #expect(NodeAPI.taskJSON(task, verbatimPayload: data) == parsed, "\(String(decoding: data, as: UTF8.self))")
            if !data.isEmpty { copied += 1 }
            // Bytes that are not the task's payload (an idempotent replay answers the first task) are ignored.
            #expect(NodeAPI.taskJSON(task, verbatimPayload: Data("{}".utf8)) == parsed)
        }
        #expect(copied >= 300)
        #expect(NodeAPI.canonicalPayload(nil) == (Data(), true))
        let fraction = NodeAPI.canonicalPayload(.object(["n": .number(1.5)]))
        #expect(!fraction.written && String(decoding: fraction.data, as: UTF8.self) == #"{"n":1.5}"#)
    }

    @Test func rfc3339IsExactToTheMillisecond() throws {
        var random = Random(seed: 3)
        let whole = Date.ISO8601FormatStyle()
        var samples: [Int64] = [0, 1, 999, 1000, 951_782_400_000, 4_107_542_400_000, 253_402_300_799_999]
        for _ in 0..<3_000 { samples.append(Int64(random.next() % 253_402_300_800_000)) }
        for ms in samples {
            let text = HTTPSupport.rfc3339(ms)
            // Foundation for the whole seconds (exact), the milliseconds by hand.
            let seconds = whole.format(Date(timeIntervalSince1970: Double(ms / 1000)))
            let expected = seconds.dropLast() + "." + String(1000 + ms % 1000).dropFirst() + "Z"
            #expect(text == expected)
            #expect(try HTTPSupport.parseTime(text, field: "t") == ms)
        }
    }

    @Test func fastRequestDecodingMatchesCodable() throws {
        let bodies = [
            #"{"kind": "http", "payload": {"url": "http://127.0.0.1:9/", "body": "x"}}"#,
            #"{"kind": "http", "name": "n-1", "scheduleTime": "2026-11-30T10:00:00Z", "dispatchDeadlineMs": 5000}"#,
            #"{"kind": "noop", "payload": [1, "two", {"三": null}], "dispatchDeadlineMs": -3}"#,
            #"{"kind": "noop", "payload": "text"}"#,
            #"{"kind": "noop", "payload": false}"#,
        ]
        for body in bodies {
            guard case .object(let object)? = JSONReader.parse(Array(body.utf8), maxDepth: 32) else {
                Issue.record("reader refused \(body)")
                continue
            }
            let fast = TaskRequest(fastJSON: object)
            #expect(fast != nil)
            #expect(fast == (try JSONDecoder().decode(TaskRequest.self, from: Data(body.utf8))))
        }
        // Whatever Codable would treat differently is left to it (it words the error).
        let declined = [
            #"{"payload": {}}"#, #"{"kind": 1}"#, #"{"kind": "x", "name": null}"#, #"{"kind": "x", "payload": null}"#,
            #"{"kind": "x", "dispatchDeadlineMs": "5"}"#, #"{"kind": "x", "scheduleTime": 5}"#, #"{"kind": "x", "extra": 1}"#,
        ]
        for body in declined {
            guard case .object(let object)? = JSONReader.parse(Array(body.utf8), maxDepth: 32) else {
                Issue.record("reader refused \(body)")
                continue
            }
            #expect(TaskRequest(fastJSON: object) == nil, "\(body)")
        }
    }

    @Test func sweeperTimesOutOnlyWhatNobodyAnswered() async throws {
        let sweeper = DeadlineSweeper(eventLoop: MultiThreadedEventLoopGroup.singleton.next(), interval: .milliseconds(5))
        let answered = await OneShot<Int>.wait(timeout: .seconds(5), sweeper: sweeper, timedOut: -1) { resume in resume(7) }
        #expect(answered == 7)
        #expect(sweeper.waiting == 0)
        let started = ContinuousClock.now
        let silent = await OneShot<Int>.wait(timeout: .milliseconds(30), sweeper: sweeper, timedOut: -1) { _ in }
        #expect(silent == -1)
        #expect(ContinuousClock.now - started >= .milliseconds(30))
        #expect(sweeper.waiting == 0)
        // Late answers after a timeout are ignored (first resume wins).
        let late = await OneShot<Int>.wait(timeout: .milliseconds(10), sweeper: sweeper, timedOut: -1) { resume in
            MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .milliseconds(60)) { resume(9) }
        }
        #expect(late == -1)
    }
}
