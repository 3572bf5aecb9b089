import API
import Dispatch
import Preprocess
import Store

/// Plans a job's first tasks from its template and parameters, for both ways a job starts: the
/// API's job creation and a `job` task's launch. Planning touches the file system (globs,
/// stats, mkdir), so it runs on a Dispatch thread, off the event loops and the cooperative
/// pool; every path is checked against the data root, and a bad one is an `APIError` naming the
/// parameter before anything is proposed.
enum JobFirstTasks {
    static func plan(template: String, job: String, parameters: [String: JSONValue], root: DataRoot, splitBytes: Int64,
                     testDelayAllowed: Bool, nowMs: Milliseconds) async -> Result<[TaskSpec], APIError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(APIError) -> [TaskSpec] in
                    switch template {
                    case "wordcount":
                        return try WordCountJob.tasks(job: job, raw: parameters, root: root, splitBytes: splitBytes,
                                                      testDelayAllowed: testDelayAllowed, nowMs: nowMs)
                    case "csv-clean", "jsonl-transform":
                        return try CleanJob.tasks(template: template, job: job, raw: parameters, root: root, splitBytes: splitBytes,
                                                  testDelayAllowed: testDelayAllowed, nowMs: nowMs)
                    default:
                        throw APIError(.invalidArgument, "unknown template \(template) (\(JobTasks.templates.sorted().joined(separator: ", ")))",
                                       field: "template")
                    }
                })
            }
        }
    }
}
