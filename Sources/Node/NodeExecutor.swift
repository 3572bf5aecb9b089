import Executor
import Foundation
import NIOCore
import ServiceLifecycle
import Store

/// Hosts this node's `ExecutorService` as a long-lived service: its attempt loop plus a
/// timer that calls `tick()` every `tickInterval`. Graceful shutdown cancels both; the
/// service returns once every attempt has stopped.
struct NodeExecutor: Service {
    let service: ExecutorService
    var tickInterval: Duration = .milliseconds(50)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await service.run() }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await Task.sleep(for: tickInterval)
                        } catch {
                            return
                        }
                        service.tick()
                    }
                }
            }
        }
    }

    /// The executor a node runs, from its configuration.
    static func makeService(config: ValidatedNodeConfig, group: any EventLoopGroup, proposer: any CommandProposer,
                            jobLauncher: (any JobLauncher)? = nil) -> ExecutorService {
        let settings = config.config
        let executorConfig = ExecutorConfig(
            executorID: executorID(config), node: "n\(config.id.rawValue)", slots: settings.executorSlots,
            leaseDurationMs: settings.leaseDurationMs, heartbeatIntervalMs: settings.executorHeartbeatMs)
        let runner = KindRouter.standard(
            http: HTTPTaskRunner(caller: NIOHTTPCaller(group: group, node: "n\(config.id.rawValue)"), allowList: config.allowList),
            preprocess: PreprocessTaskRunner(shards: NodePreprocessRunner(root: config.dataRoot)),
            job: jobLauncher.map { JobTaskRunner(launcher: $0) },
            testKindsEnabled: settings.testTaskKinds)
        return ExecutorService(config: executorConfig, runner: runner, proposer: proposer, clock: WallClock())
    }

    /// Stable across restarts: a restarted node picks up the leases it still holds.
    static func executorID(_ config: ValidatedNodeConfig) -> String { "n\(config.id.rawValue)" }
}

/// This node's wall clock in Unix milliseconds.
struct WallClock: ExecutorClock {
    func nowMs() -> Milliseconds { HTTPSupport.nowMs() }
}
