import Chaos
import Testing

@Suite struct JobChecksTests {
    let reference: [String: Int64] = ["a": 2, "b: c": 1, "'": 3]

    @Test func parsesCountsWithColonsInWords() {
        let parsed = JobChecks.parseCounts("a: 2\nb: c: 1\n': 3\nbroken line\n")
        #expect(parsed.counts == reference)
        #expect(parsed.badLines == 1)
    }

    @Test func exactOutputAndCountersPass() {
        let job = FinalState.JobSnapshot(id: "j1", state: "DONE", counters: ["recordsIn": 10, "durationNanoseconds": 5], wordCounts: reference)
        let result = JobChecks.check([job], reference: reference, baselineCounters: ["recordsIn": 10, "durationNanoseconds": 99])
        #expect(result.violations == 0)
        #expect(result.done == 1)
    }

    @Test func wrongCountIsCaught() {
        var counts = reference
        counts["a"] = 4
        let job = FinalState.JobSnapshot(id: "j1", state: "DONE", counters: [:], wordCounts: counts)
        #expect(JobChecks.check([job], reference: reference, baselineCounters: nil).wrong.keys.sorted() == ["j1"])
    }

    @Test func doublyCountedCompletionIsCaughtByCounters() {
        let job = FinalState.JobSnapshot(id: "j1", state: "DONE", counters: ["recordsIn": 20], wordCounts: reference)
        #expect(JobChecks.check([job], reference: reference, baselineCounters: ["recordsIn": 10]).violations == 1)
    }

    @Test func unfinishedJobIsCaught() {
        let job = FinalState.JobSnapshot(id: "j1", state: "RUNNING", counters: [:], wordCounts: nil)
        #expect(JobChecks.check([job], reference: reference, baselineCounters: nil).violations == 1)
    }
}
