// Flow control for one follower in replicate state (etcd `tracker/inflights.go`): a bounded
// ring of the last index of each append message sent and not yet acknowledged.

struct Inflights: Sendable {
    private var buffer: [LogIndex]
    private var start = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "maxInflightMessages must be positive")
        self.capacity = capacity
        buffer = []
    }

    var isFull: Bool { count >= capacity }

    /// Records an append message whose last entry is `index` (indexes must increase).
    mutating func add(_ index: LogIndex) {
        precondition(!isFull, "inflights overflow")
        // Allocated on first use: followers that never replicate cost nothing.
        if buffer.isEmpty { buffer = Array(repeating: .zero, count: capacity) }
        buffer[(start + count) % capacity] = index
        count += 1
    }

    /// Frees every message whose last index is ≤ `index` (the follower acknowledged it).
    mutating func freeLE(_ index: LogIndex) {
        while count > 0, buffer[start] <= index {
            start = (start + 1) % capacity
            count -= 1
        }
        if count == 0 { start = 0 }
    }

    mutating func reset() {
        start = 0
        count = 0
    }
}
