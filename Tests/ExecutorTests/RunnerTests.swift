import Foundation
@testable import Executor
import Preprocess
@testable import Store
import Synchronization
import Testing

/// An HTTP caller made of closures; the defaults fail the test if reached.
struct FakeHTTPCaller: HTTPCaller {
    var resolveBody: @Sendable (String) throws(HTTPCallError) -> [IPAddress] = { host throws(HTTPCallError) in
        Issue.record("unexpected DNS lookup of \(host)")
        throw .transport("no DNS in tests")
    }
    var sendBody: @Sendable (OutboundHTTPRequest) throws(HTTPCallError) -> OutboundHTTPResponse = { _ throws(HTTPCallError) in
        Issue.record("unexpected request")
        throw .transport("no network in tests")
    }

    func resolve(host: String) async throws(HTTPCallError) -> [IPAddress] { try resolveBody(host) }
    func send(_ request: OutboundHTTPRequest) async throws(HTTPCallError) -> OutboundHTTPResponse { try sendBody(request) }
}

func httpTask(_ payload: String, deadline: Milliseconds = 60_000) -> TaskRecord {
    leasedTask("h", fence: 7, kind: "http", payload: payload, deadline: deadline, attempts: 2)
}

@Suite struct HTTPRunnerTests {
    @Test func success2xxReportsStatusAndBodySnippet() async throws {
        let seen = Mutex<[OutboundHTTPRequest]>([])
        var caller = FakeHTTPCaller()
        caller.sendBody = { request in
            seen.withLock { $0.append(request) }
            return OutboundHTTPResponse(status: 204, bodyPrefix: Data(String(repeating: "x", count: 5_000).utf8))
        }
        let runner = HTTPTaskRunner(caller: caller)
        let payload = #"{"url": "http://127.0.0.1:8080/hook?a=1", "method": "put", "headers": {"X-Key": "v", "Host": "evil", "X-Trireme-Task-ID": "spoof"}, "body": "hi", "timeoutMs": 5000}"#
        let outcome = await runner.run(httpTask(payload))
        guard case .succeeded(let result, _) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        let summary = try JSONDecoder().decode([String: AnyCodableValue].self, from: result)
        #expect(summary["status"] == .int(204))
        #expect(summary["body"] == .string(String(repeating: "x", count: 1_024)))
        let request = try #require(seen.withLock { $0.first })
        #expect(request.method == "PUT" && request.body == Data("hi".utf8) && request.timeoutMs == 5_000)
        #expect(request.target.address == .v4(0x7F00_0001) && request.target.url.port == 8080 && request.target.url.pathAndQuery == "/hook?a=1")
        #expect(request.headers.map(\.name) == ["X-Key", "X-Trireme-Task-ID", "X-Trireme-Queue", "X-Trireme-Attempt"])
        #expect(request.headers.map(\.value) == ["v", "h", "q", "2"], "no Host override, no spoofed task id")
    }

    @Test(arguments: [404, 429, 500, 503])
    func non2xxFails(status: Int) async {
        var caller = FakeHTTPCaller()
        caller.sendBody = { _ in OutboundHTTPResponse(status: status, bodyPrefix: Data("nope".utf8)) }
        let outcome = await HTTPTaskRunner(caller: caller).run(httpTask(#"{"url": "http://[::1]/"}"#))
        #expect(outcome == .failed("HTTP \(status): nope"))
    }

    @Test(arguments: [300, 301, 302, 307, 308])
    func redirectsFailAndAreNotFollowed(status: Int) async {
        var caller = FakeHTTPCaller()
        caller.sendBody = { _ in OutboundHTTPResponse(status: status, bodyPrefix: Data(), headers: ["location": "http://169.254.169.254/"]) }
        let outcome = await HTTPTaskRunner(caller: caller).run(httpTask(#"{"url": "http://[::1]/"}"#))
        #expect(outcome == .failed("HTTP \(status): redirect to http://169.254.169.254/ not followed"))
    }

    @Test func timeoutAndTransportErrorsFail() async {
        var caller = FakeHTTPCaller()
        caller.sendBody = { request throws(HTTPCallError) in
            #expect(request.timeoutMs == 1_500, "capped by the dispatch deadline")
            throw .timeout
        }
        let timedOut = await HTTPTaskRunner(caller: caller).run(httpTask(#"{"url": "http://127.0.0.1/", "timeoutMs": 99999}"#, deadline: 1_500))
        #expect(timedOut == .failed("HTTP timeout after 1500 ms"))
        caller.sendBody = { _ throws(HTTPCallError) in throw .transport("connection refused") }
        let refused = await HTTPTaskRunner(caller: caller).run(httpTask(#"{"url": "http://127.0.0.1/"}"#))
        #expect(refused == .failed("HTTP transport error: connection refused"))
    }

    @Test func refusedTargetsNeverReachTheNetwork() async {
        // The default caller records an issue on any lookup or request.
        let runner = HTTPTaskRunner(caller: FakeHTTPCaller())
        for payload in [#"{"url": "http://169.254.169.254/"}"#, #"{"url": "ftp://127.0.0.1/"}"#, #"{"url": "http://u@localhost/"}"#,
                        #"{"nourl": 1}"#, "not json", #"{"url": "http://127.0.0.1/", "method": "TRACE"}"#,
                        #"{"url": "http://127.0.0.1/", "headers": {"X-A": "1\r\nInjected: yes"}}"#,
                        #"{"url": "http://127.0.0.1/", "headers": {"Bad Name": "1"}}"#] {
            let outcome = await runner.run(httpTask(payload))
            guard case .failed(let message) = outcome else {
                Issue.record("\(payload) was not refused")
                continue
            }
            #expect(message.hasPrefix("http target refused"), "\(payload): \(message)")
        }
    }

    @Test func namesAreResolvedByTheCallerAndPinned() async {
        let hosts = Mutex<[String]>([])
        var caller = FakeHTTPCaller()
        caller.resolveBody = { host in
            hosts.withLock { $0.append(host) }
            return host == "localhost" ? [.v6(high: 0, low: 1)] : [.v4(0x0A00_0001)]
        }
        caller.sendBody = { request in OutboundHTTPResponse(status: request.target.address == .v6(high: 0, low: 1) ? 200 : 500, bodyPrefix: Data()) }
        let runner = HTTPTaskRunner(caller: caller)
        #expect(await runner.run(httpTask(#"{"url": "http://LOCALHOST:1/"}"#)) == .succeeded(result: Data(#"{"body":"","status":200}"#.utf8), counters: [:]))
        let rebound = await runner.run(httpTask(#"{"url": "http://internal.test/"}"#))
        #expect(rebound == .failed("http target refused: addressNotAllowed(\"internal.test → 10.0.0.1: private address not in the allow-list\")"))
        #expect(hosts.withLock { $0 } == ["localhost", "internal.test"])
    }
}

/// Just enough JSON to read the result summary back.
enum AnyCodableValue: Decodable, Equatable {
    case int(Int), string(String)
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }
}

@Suite struct KindRunnerTests {
    @Test func unknownKindFails() async {
        let router = KindRouter([:])
        #expect(await router.run(leasedTask("t", fence: 1, kind: "mystery")) == .failed("unsupported task kind 'mystery'"))
    }

    @Test func testKindsOnlyWhenEnabled() async {
        struct NoShards: PreprocessRunner {
            func runShard(_ task: TaskRecord) async throws -> PreprocessShardReport { PreprocessShardReport(result: Data(), counters: TaskCounters()) }
        }
        let http = HTTPTaskRunner(caller: FakeHTTPCaller())
        let off = KindRouter.standard(http: http, preprocess: PreprocessTaskRunner(shards: NoShards()), testKindsEnabled: false)
        #expect(off.runners.keys.sorted() == ["http", "preprocess"])
        #expect(await off.run(leasedTask("t", fence: 1, kind: "sleep")) == .failed("unsupported task kind 'sleep'"))
        let on = KindRouter.standard(http: http, preprocess: PreprocessTaskRunner(shards: NoShards()), testKindsEnabled: true)
        #expect(on.runners.keys.sorted() == ["fail", "http", "preprocess", "sleep"])
    }

    @Test func sleepSleepsThenSucceedsAndStopsOnCancellation() async {
        let slept = Mutex<[Duration]>([])
        let sleep = TestKindRunner(kind: .sleep) { duration in slept.withLock { $0.append(duration) } }
        #expect(await sleep.run(leasedTask("t", fence: 1, payload: #"{"ms": 250}"#)) == .succeeded(result: Data("slept 250 ms".utf8), counters: [:]))
        #expect(slept.withLock { $0 } == [.milliseconds(250)])
        let cancelled = TestKindRunner(kind: .sleep) { _ in throw CancellationError() }
        #expect(await cancelled.run(leasedTask("t", fence: 1, payload: #"{"ms": 250}"#)) == .failed("cancelled"))
        #expect(await sleep.run(leasedTask("t", fence: 1, payload: #"{"ms": -1}"#)) == .failed("sleep ms out of range"))
    }

    @Test func failFailsUntilTheGivenAttempt() async {
        let fail = TestKindRunner(kind: .fail)
        #expect(await fail.run(leasedTask("t", fence: 1, kind: "fail", payload: #"{"message": "boom"}"#)) == .failed("boom"))
        let flaky = #"{"untilAttempt": 2}"#
        #expect(await fail.run(leasedTask("t", fence: 1, kind: "fail", payload: flaky, attempts: 2)) == .failed("failed on purpose"))
        #expect(await fail.run(leasedTask("t", fence: 1, kind: "fail", payload: flaky, attempts: 3))
                == .succeeded(result: Data("succeeded on attempt 3".utf8), counters: [:]))
    }

    @Test func preprocessReportsCountersByName() async {
        struct Shards: PreprocessRunner {
            let fail: Bool
            func runShard(_ task: TaskRecord) async throws -> PreprocessShardReport {
                struct Boom: Error {}
                if fail { throw Boom() }
                var counters = TaskCounters()
                counters.recordsIn = 10
                counters.bytesOut = 99
                return PreprocessShardReport(result: Data("{}".utf8), counters: counters)
            }
        }
        let ok = await PreprocessTaskRunner(shards: Shards(fail: false)).run(leasedTask("t", fence: 1, job: "j", kind: "preprocess"))
        guard case .succeeded(let result, let counters) = ok else {
            Issue.record("expected success, got \(ok)")
            return
        }
        #expect(result == Data("{}".utf8) && counters["records_in"] == 10 && counters["bytes_out"] == 99)
        let failed = await PreprocessTaskRunner(shards: Shards(fail: true)).run(leasedTask("t", fence: 1, job: "j", kind: "preprocess"))
        #expect(failed == .failed("preprocess: Boom()"))
        #expect(await PreprocessTaskRunner(shards: Shards(fail: false)).run(leasedTask("t", fence: 1, kind: "preprocess"))
                == .failed("a preprocess task belongs to a job"))
    }
}
