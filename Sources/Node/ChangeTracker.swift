import Synchronization

/// Which log index last changed each watched resource, and the waiters of long polls
/// (`?waitIndex=N&wait=30s`), woken right after the apply that changes what they watch: no
/// polling loop anywhere.
///
/// Keys are `q:<queue>` (the queue, its counts and any of its tasks), `t:<task>` and `j:<job>`
/// (the job, its counters and any of its tasks); `StoreMachine` names them for every applied
/// command. The map lives in memory only: the store keeps no per-row index (a schema change for
/// every row write, to serve a feature that needs it only while someone watches). So a key this
/// process has not seen change counts as changed at `floor`, the applied index when the node
/// started, or of the newest key evicted to bound the map: a watch with an older `waitIndex`
/// answers at once. That is the long-poll contract anyway (Consul's blocking queries, etcd's
/// watch): an answer says "look now", and the client compares and waits again with the index it
/// got, which is never below the floor, so it then really waits.
///
/// Keys are kept as their 64-bit hashes (`Hasher`, seeded per process; the map is in memory
/// only): every create records a new task key and, at the bound, evicts one, and with string keys
/// the hashing, string compares and frees of a 200,000-key map were ~7% of a follower's CPU. Two
/// keys sharing a hash share one index, the larger: a watch can so wake early (which the contract
/// allows, see above), never late.
///
/// Thread-safety: all state is under one `Mutex`; the driver thread records, HTTP tasks wait.
final class ChangeTracker: Sendable {
    /// Bounds memory: past this many keys the oldest (by first change) are evicted one at a
    /// time, each raising the floor to its index. (Clearing the whole map at the bound, and the
    /// rehashes of growing it again, stalled the driver thread 20-90 ms every ~100,000 creates.)
    static let keysMax = 200_000
    private let keysMax: Int

    init(keysMax: Int = ChangeTracker.keysMax) {
        precondition(keysMax > 0, "the change map needs room for one key")
        self.keysMax = keysMax
    }

    private struct Waiter {
        let keys: [Int]
        let after: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var modified: [Int: UInt64] = [:]
        /// The keys of `modified` in the order they entered it, from `head` on (slots before
        /// `head` are spent).
        var order: [Int] = []
        var head = 0
        var floor: UInt64 = 0
        var applied: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The index the store stood at when tracking began (called once at start).
    func start(at applied: UInt64) {
        state.withLock { state in
            state.floor = max(state.floor, applied)
            state.applied = max(state.applied, applied)
        }
    }

    /// The applied index as of the last recorded batch.
    var appliedIndex: UInt64 { state.withLock { $0.applied } }

    /// The last index at which any of `keys` changed (at least the floor).
    func modifiedIndex(_ keys: [String]) -> UInt64 {
        let hashed = keys.map(\.hashValue)
        return state.withLock { state in Self.modified(hashed, in: state) }
    }

    private static func modified(_ keys: [Int], in state: State) -> UInt64 {
        keys.reduce(state.floor) { max($0, state.modified[$1] ?? 0) }
    }

    /// Evicts the oldest keys until at most `limit` remain, raising the floor to each one's index.
    private static func evict(_ state: inout State, keeping limit: Int) {
        while state.modified.count > limit, state.head < state.order.count {
            let key = state.order[state.head]
            state.head += 1
            if let index = state.modified.removeValue(forKey: key) { state.floor = max(state.floor, index) }
        }
        // Spent slots go in one move once they are half the array.
        if state.head >= 4_096 && state.head * 2 >= state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }

    /// Records one applied batch (driver thread): each changed key at its entry's index, then
    /// wakes the waiters whose keys changed past their index.
    func record(_ changes: [(index: UInt64, keys: [String])], applied: UInt64) {
        // Hashed outside the lock (watchers take it too).
        let hashed = changes.map { change in (change.index, change.keys.map(\.hashValue)) }
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            for (index, keys) in hashed {
                for key in keys where state.modified.updateValue(index, forKey: key) == nil {
                    state.order.append(key)
                }
            }
            // A busy node reaches the bound: room for all of it at once, at an eighth (one
            // rehash of 25,000 keys, not doublings that rehashed 100,000 keys for 35-90 ms).
            if state.modified.count >= keysMax / 8 && state.modified.capacity <= keysMax {
                state.modified.reserveCapacity(keysMax + 1)
            }
            state.applied = max(state.applied, applied)
            Self.evict(&state, keeping: keysMax)
            guard !state.waiters.isEmpty, !changes.isEmpty else { return [] }
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters where Self.modified(waiter.keys, in: state) > waiter.after {
                ready.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return ready
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once any of `keys` changed after index `after`, or after `timeout`, or at
    /// cancellation. The check and the registration are one critical section, so a change
    /// recorded in between cannot be missed.
    func wait(for keys: [String], after: UInt64, timeout: Duration) async {
        let keys = keys.map(\.hashValue)
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = self.state.withLock { state -> Bool in
                            if Task.isCancelled || Self.modified(keys, in: state) > after { return true }
                            state.waiters[id] = Waiter(keys: keys, after: after, continuation: continuation)
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.resume(id)
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            // Whichever finishes first ends the wait; the other is cancelled (the timer stops,
            // the registered waiter is resumed and removed by its cancellation handler).
            await group.next()
            group.cancelAll()
        }
    }

    private func resume(_ id: UInt64) {
        let waiter = state.withLock { state in state.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume()
    }

    /// Keys in the map (for tests).
    var keyCount: Int { state.withLock { $0.modified.count } }

    /// Waiters currently parked (for tests and the metrics page).
    var waiterCount: Int { state.withLock { $0.waiters.count } }
}
