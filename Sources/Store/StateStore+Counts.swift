import SQLite

/// `queue_counts` maintenance. Every task transition moves one count; doing that with two
/// upserts per transition cost about 15 % of apply, so deltas collect in memory for the
/// batch and are written once per touched (queue, state) before COMMIT.
///
/// The result must not depend on how entries were batched (replicas batch differently):
/// every touched key gets its row, as if each delta had been written at once (a task's
/// first +1 creates the row; a -1 only ever follows an earlier +1).
extension StateStore {
    struct CountKey: Hashable, Comparable {
        var queue: String
        var state: TaskState

        static func < (a: CountKey, b: CountKey) -> Bool {
            (a.queue, a.state.rawValue) < (b.queue, b.state.rawValue)
        }
    }

    func adjustCount(queue: String, state: TaskState, by delta: Int64) {
        pendingCounts[CountKey(queue: queue, state: state), default: 0] += delta
    }

    func flushCounts() throws {
        for (key, delta) in pendingCounts.sorted(by: { $0.key < $1.key }) {
            let bindings: [Value] = [.text(key.queue), .text(key.state.rawValue), .integer(delta)]
            if delta >= 0 {
                try db.run("""
                    INSERT INTO queue_counts (queue, state, count) VALUES (?1, ?2, ?3)
                    ON CONFLICT (queue, state) DO UPDATE SET count = count + excluded.count
                    """, bindings)
            } else {
                // The CHECK (count >= 0) would refuse a negative INSERT before the upsert applies.
                let changed = try db.run("UPDATE queue_counts SET count = count + ?3 WHERE queue = ?1 AND state = ?2", bindings)
                precondition(changed == 1, "queue_counts row missing for a counted task")
            }
        }
        pendingCounts.removeAll(keepingCapacity: true)
    }
}
