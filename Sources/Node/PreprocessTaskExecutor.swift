import Dispatch

/// Where preprocessing runs: its own threads, never Swift's cooperative pool.
///
/// The cooperative pool has one thread per core (two here), and it also runs every HTTP
/// handler and the executor's lease renewals. A CPU-bound map on it starved both: renewals
/// missed their lease, and the attempt was failed as lost while it was working (seen with
/// 2–6 s leases under load). A task-executor preference moves the runner's whole task tree —
/// child tasks of the chunked maps included — onto these threads, where the kernel shares the
/// cores fairly with the pool instead of the pool waiting behind them.
final class PreprocessTaskExecutor: TaskExecutor {
    static let shared = PreprocessTaskExecutor()

    private let queue = DispatchQueue(label: "trireme.preprocess", qos: .utility, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
