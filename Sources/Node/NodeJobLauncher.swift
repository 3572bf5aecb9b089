import API
import Dispatch
import Executor
import Foundation
import Preprocess
import Scheduler
import Store
import Synchronization

/// Plans one run of a `job` task for this node's executor (`JobTaskRunner`): resolves the
/// preset (from this node's applied store), fills the fire-time placeholders, and plans the
/// job's first tasks over the data root, exactly as `POST /v1/jobs` does. It creates nothing:
/// the job is created by apply of the attempt's fenced `launchJob`.
///
/// Fire time: a schedule's fire task (id `<schedule>@<ms>`, see `SchedulerCore.fireTaskID`)
/// uses its slot and the schedule's time zone; any other task its creation time and UTC. A
/// `timeZone` in the payload overrides the zone.
///
/// Thread-safety: `core` is attached once after construction, behind a `Mutex`.
final class NodeJobLauncher: JobLauncher {
    let root: DataRoot
    let splitBytes: Int64
    let testDelayAllowed: Bool
    private let core = Mutex<NodeCore?>(nil)

    init(root: DataRoot, splitBytes: Int64, testDelayAllowed: Bool) {
        self.root = root
        self.splitBytes = splitBytes
        self.testDelayAllowed = testDelayAllowed
    }

    func attach(to core: NodeCore) {
        self.core.withLock { $0 = core }
    }

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    func plan(_ task: TaskRecord, run: Int, jobID: String) async throws -> JobLaunch {
        let spec: JobTaskSpec
        do {
            spec = try JobTaskSpec.parse(NodeAPI.jsonValue(task.payload))
        } catch {
            throw LaunchError(description: error.description)
        }
        guard let driver = core.withLock({ $0?.driver }) else { throw LaunchError(description: "node is starting") }
        let slot = Self.scheduleSlot(task.id)
        let (preset, schedule) = try await driver.read(linearizable: false) { machine in
            (try spec.preset.flatMap { try machine.store.jobPreset($0) }, try slot.flatMap { try machine.store.schedule($0.schedule) })
        }
        var template = spec.template ?? ""
        var parameters = spec.parameters ?? [:]
        if let name = spec.preset {
            guard let preset else { throw LaunchError(description: "no job preset named \(name)") }
            template = preset.template
            let base = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(preset.parameters.utf8))) ?? [:]
            parameters = base.merging(parameters) { _, override in override }
        }
        let zoneName = spec.timeZone ?? schedule?.timeZone ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else { throw LaunchError(description: "unknown time zone \(zoneName)") }
        let fire = schedule != nil ? (slot?.fireTimeMs ?? task.createTimeMs) : task.createTimeMs
        let context = FireTimePlaceholders.Context(fireTimeMs: fire, timeZone: zone, taskID: task.id, run: run)
        parameters = parameters.mapValues { FireTimePlaceholders.expand($0, context) }
        let now = HTTPSupport.nowMs()
        let tasks = try await planTasks(template: template, job: jobID, parameters: parameters, nowMs: now)
        let text = String(decoding: NodeAPI.canonicalJSON(.object(parameters)), as: UTF8.self)
        return JobLaunch(job: JobSpec(id: jobID, template: template, parameters: text, tasks: tasks, nowMs: now),
                         jobsQueue: JobTasks.queueSpec(nowMs: now))
    }

    /// `(schedule, slot)` of a fire task id `<schedule>@<ms>`.
    static func scheduleSlot(_ taskID: String) -> (schedule: String, fireTimeMs: Milliseconds)? {
        guard let at = taskID.lastIndex(of: "@"), let ms = Int64(taskID[taskID.index(after: at)...]) else { return nil }
        let schedule = String(taskID[..<at])
        guard SchedulerCore.fireTaskID(scheduleID: schedule, fireTimeMs: ms) == taskID else { return nil }
        return (schedule, ms)
    }

    /// The job's first tasks (`JobFirstTasks`).
    private func planTasks(template: String, job: String, parameters: [String: JSONValue], nowMs: Milliseconds) async throws -> [TaskSpec] {
        let root = self.root, splitBytes = self.splitBytes, testDelayAllowed = self.testDelayAllowed
        let planned = await JobFirstTasks.plan(template: template, job: job, parameters: parameters, root: root, splitBytes: splitBytes,
                                            testDelayAllowed: testDelayAllowed, nowMs: nowMs)
        do {
            return try planned.get()
        } catch {
            throw LaunchError(description: error.message)
        }
    }
}
