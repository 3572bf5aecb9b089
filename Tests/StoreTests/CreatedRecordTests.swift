import Foundation
import Testing
@testable import Store

/// A create's HTTP answer is built from `StateStore.createdRecord(spec)` instead of reading the
/// row back; it must equal what `task(id)` reads right after the create, for every shape of spec.
@Suite struct CreatedRecordTests {
    @Test func theDerivedRecordIsTheStoredRow() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            try s.apply(.createJob(JobSpec(id: "job1", template: "wordcount", tasks: [], nowMs: t0)))
            let specs: [TaskSpec] = [
                taskSpec("a"),
                taskSpec("b", name: "named", at: t0 + 5_000, payload: #"{"url":"http://x/","body":"y"}"#),
                taskSpec("c", at: 0, payload: "", key: "idem-1"),
                taskSpec("d", job: "job1"),
                TaskSpec(id: "e", queue: "q", kind: "sleep", payload: Data(#"{"ms":5}"#.utf8), scheduleTimeMs: t0 - 1,
                         dispatchDeadlineMs: 1_234, nowMs: t0 + 7),
            ]
            for spec in specs {
                #expect(try s.apply(.createTask(spec)) == .created(id: spec.id))
                #expect(try s.store.task(spec.id) == StateStore.createdRecord(spec), "spec \(spec.id)")
            }
        }
    }
}
