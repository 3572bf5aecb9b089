import SQLite

extension StateStore {
    /// Jobs per state (a scan of the `jobs_by_state` index; for the metrics page).
    public func jobCounts() throws(StoreError) -> [JobState: Int] {
        try read {
            var counts: [JobState: Int] = [:]
            try db.query("SELECT state, count(*) FROM jobs INDEXED BY jobs_by_state GROUP BY state") { row in
                if let state = JobState(rawValue: row.text(0)) { counts[state] = row.int(1) }
            }
            return counts
        }
    }
}
