import SQLite

/// The schema. STRICT tables; every hot query has an index (see `StateStore+Queries.swift`
/// and the query-plan test). Task states and times are plain columns so partial indexes can
/// cover exactly the rows a query wants (queued for due tasks, leased for expiry).
extension StateStore {
    /// Bump on any change below; an existing file of another version is refused, except the
    /// versions `migrations` upgrades in place.
    ///
    /// - 1: the first schema.
    /// - 2: adds `attempts` (per-attempt history).
    /// - 3: adds `job_presets` (named job presets).
    /// - 4: the same tables and rows, written with less work. CHECKs name their values as OR
    ///   chains: SQLite (3.40) tests `x IN (3 or more constants)` by building a temporary
    ///   B-tree of the list for every row it writes, 15% of a task create's apply. And
    ///   `tasks_by_queue (queue, id)` is gone: a queue's tasks in id order are the merge of the
    ///   per-state ranges of `tasks_by_queue_state`, so each create writes one B-tree less.
    ///   A version-3 file has the four tables with such CHECKs (queues, tasks, jobs, attempts)
    ///   rebuilt when opened (`rebuilt`).
    /// - 5: `tasks_due (schedule_time_ms, id)` is gone. The scheduler asks for due tasks per
    ///   queue (`tasks_due_by_queue`); the cross-queue question, which only tests and tools
    ///   ask, merges those ranges. Every create and every lease wrote that index on every
    ///   replica. A version-4 file drops it when opened; its tables and rows stay as they are.
    public static let schemaVersion: Int64 = 5

    /// In-place upgrades, by the version they start from. Each runs in one transaction.
    /// Adding an empty table changes no existing row, and only version-2 log entries write to
    /// it, so an upgraded replica stays equal to one that was created at version 2. Version 4
    /// rebuilds the four tables whose CHECKs changed, every row unchanged. Version 5 drops an
    /// index, which no row or `stateHash` sees.
    static let migrations: [Int64: String] = [
        1: attemptsSQL + "\nUPDATE meta SET schema_version = 2 WHERE id = 1;",
        2: jobPresetsSQL + "\nUPDATE meta SET schema_version = 3 WHERE id = 1;",
        3: rebuilt("queues", queuesSQL) + rebuilt("tasks", tasksSQL, indexes: taskIndexesSQL)
            + rebuilt("jobs", jobsSQL, indexes: jobIndexesSQL) + rebuilt("attempts", attemptsSQL)
            + "UPDATE meta SET schema_version = 4 WHERE id = 1;",
        4: "DROP INDEX IF EXISTS tasks_due;\nUPDATE meta SET schema_version = 5 WHERE id = 1;",
    ]

    /// `column = 'a' OR column = 'b' ...`: the CHECK form that costs no temporary B-tree.
    static func oneOf(_ column: String, _ values: [String]) -> String {
        values.map { "\(column) = '\($0)'" }.joined(separator: " OR ")
    }

    /// The documented way to change a table's constraints: the new definition under another
    /// name, the rows copied across, the old table (and its indexes) dropped, the new one
    /// renamed, its indexes created again. Every row stays as it was.
    static func rebuilt(_ table: String, _ createSQL: String, indexes: String = "") -> String {
        let definition = createSQL.replacingOccurrences(of: "CREATE TABLE \(table) (", with: "CREATE TABLE \(table)_v4 (")
        precondition(definition != createSQL, "\(table): its CREATE TABLE must start with 'CREATE TABLE \(table) ('")
        return definition + """

            INSERT INTO \(table)_v4 SELECT * FROM \(table);
            DROP TABLE \(table);
            ALTER TABLE \(table)_v4 RENAME TO \(table);
            \(indexes)

            """
    }

    static let tasksSQL = """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        queue TEXT NOT NULL,
        name TEXT,
        job_id TEXT,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        schedule_time_ms INTEGER NOT NULL,
        dispatch_deadline_ms INTEGER NOT NULL,
        create_time_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (\(oneOf("state", ["queued", "leased", "running", "succeeded", "dead", "cancelled"]))),
        attempts INTEGER NOT NULL,
        first_attempt_ms INTEGER,
        last_attempt_ms INTEGER,
        last_outcome TEXT,
        lease_executor TEXT,
        lease_until_ms INTEGER,
        fence INTEGER,
        result BLOB,
        last_error TEXT,
        end_time_ms INTEGER,
        -- a lease exists exactly while the task is leased or running
        CHECK ((\(oneOf("state", ["leased", "running"]))) = (lease_until_ms IS NOT NULL AND lease_executor IS NOT NULL AND fence IS NOT NULL))
    ) STRICT;
    """

    static let queuesSQL = """
    CREATE TABLE queues (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (\(oneOf("state", ["running", "paused", "disabled"]))),
        max_dispatches_per_second REAL NOT NULL,
        max_burst_size INTEGER NOT NULL,
        max_concurrent_dispatches INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        min_backoff_ms INTEGER NOT NULL,
        max_backoff_ms INTEGER NOT NULL,
        max_doublings INTEGER NOT NULL,
        max_retry_duration_ms INTEGER NOT NULL,
        tombstone_window_ms INTEGER NOT NULL,
        create_time_ms INTEGER NOT NULL,
        purge_time_ms INTEGER
    ) STRICT, WITHOUT ROWID;
    """

    static let jobsSQL = """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        parameters TEXT NOT NULL,
        state TEXT NOT NULL CHECK (\(oneOf("state", ["QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLING", "CANCELLED"]))),
        create_time_ms INTEGER NOT NULL,
        start_time_ms INTEGER,
        end_time_ms INTEGER,
        error TEXT
    ) STRICT, WITHOUT ROWID;
    """

    static let jobIndexesSQL = "CREATE INDEX jobs_by_state ON jobs (state, id);"

    static let taskIndexesSQL = """
    CREATE INDEX tasks_by_queue_state ON tasks (queue, state, id);
    CREATE INDEX tasks_due_by_queue ON tasks (queue, schedule_time_ms, id) WHERE state = 'queued';
    CREATE INDEX tasks_by_lease_expiry ON tasks (lease_until_ms, id) WHERE lease_until_ms IS NOT NULL;
    CREATE INDEX tasks_by_executor ON tasks (lease_executor, id) WHERE lease_executor IS NOT NULL;
    CREATE INDEX tasks_by_job ON tasks (job_id, state, id) WHERE job_id IS NOT NULL;
    """

    /// Named job presets (version-3 entries only write here, so an upgraded file stays equal).
    static let jobPresetsSQL = """
    CREATE TABLE job_presets (
        name TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        parameters TEXT NOT NULL,
        update_time_ms INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    """

    /// One row per attempt (assignment) of a task, newest `attemptsKeptPerTask` only. `fence`
    /// is the log index of the attempt's `assignTask`; `outcome` is NULL while it runs.
    static let attemptsSQL = """
    CREATE TABLE attempts (
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        executor TEXT NOT NULL,
        node TEXT,
        fence INTEGER NOT NULL,
        dispatch_time_ms INTEGER NOT NULL,
        start_time_ms INTEGER,
        end_time_ms INTEGER,
        outcome TEXT CHECK (\(oneOf("outcome", ["succeeded", "failed", "lease_expired", "deadline_exceeded", "cancelled"]))),
        error TEXT,
        PRIMARY KEY (task_id, attempt)
    ) STRICT, WITHOUT ROWID;
    """

    static let schemaSQL = """
    CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        schema_version INTEGER NOT NULL,
        applied_index INTEGER NOT NULL,
        applied_term INTEGER NOT NULL
    ) STRICT;
    \(queuesSQL)
    \(tasksSQL)
    \(taskIndexesSQL)
    -- per (queue, state) task counts, maintained by every state change
    CREATE TABLE queue_counts (
        queue TEXT NOT NULL,
        state TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count >= 0),
        PRIMARY KEY (queue, state)
    ) STRICT, WITHOUT ROWID;
    -- a task name is taken while its task is live (reserved_until_ms NULL) and until
    -- reserved_until_ms after the task finished or was deleted
    CREATE TABLE task_names (
        queue TEXT NOT NULL,
        name TEXT NOT NULL,
        task_id TEXT NOT NULL,
        reserved_until_ms INTEGER,
        PRIMARY KEY (queue, name)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX task_names_by_expiry ON task_names (reserved_until_ms) WHERE reserved_until_ms IS NOT NULL;
    CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        outcome TEXT NOT NULL,
        create_time_ms INTEGER NOT NULL,
        expire_time_ms INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expire_time_ms);
    \(jobsSQL)
    \(jobIndexesSQL)
    CREATE TABLE job_counters (
        job_id TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (job_id, name)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE executors (
        id TEXT PRIMARY KEY,
        node TEXT NOT NULL,
        slots INTEGER NOT NULL,
        register_time_ms INTEGER NOT NULL,
        last_heartbeat_ms INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        cron TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        queue TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        paused INTEGER NOT NULL,
        create_time_ms INTEGER NOT NULL,
        last_fire_ms INTEGER
    ) STRICT;
    -- deterministic event counters (e.g. stale_fence_rejections)
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    \(attemptsSQL)
    \(jobPresetsSQL)
    INSERT INTO meta (id, schema_version, applied_index, applied_term) VALUES (1, \(schemaVersion), 0, 0);
    """

    /// Every table with the ORDER BY that lists it in primary-key order (for `stateHash`).
    static let hashedTables: [(name: String, orderBy: String)] = [
        ("meta", "id"), ("queues", "name"), ("tasks", "id"), ("queue_counts", "queue, state"),
        ("task_names", "queue, name"), ("idempotency_keys", "key"), ("jobs", "id"),
        ("job_counters", "job_id, name"), ("executors", "id"), ("schedules", "id"), ("counters", "name"),
        ("attempts", "task_id, attempt"), ("job_presets", "name"),
    ]

    /// Creates the schema in an empty database, or checks the version of an existing one.
    static func prepareSchema(_ db: Connection) throws(StoreError) {
        do {
            let exists = try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'") ?? 0
            if exists == 0 {
                try db.execute("BEGIN IMMEDIATE;\n" + schemaSQL + "\nCOMMIT;")
            }
            var version = try db.scalarInt("SELECT schema_version FROM meta WHERE id = 1") ?? -1
            for _ in 0..<migrations.count where version != schemaVersion {
                guard let migration = migrations[version] else { break }
                try db.execute("BEGIN IMMEDIATE;\n" + migration + "\nCOMMIT;")
                version = try db.scalarInt("SELECT schema_version FROM meta WHERE id = 1") ?? -1
            }
            guard version == schemaVersion else { throw StoreError.schemaMismatch(found: version, expected: schemaVersion) }
        } catch {
            try? db.execute("ROLLBACK")
            throw StoreError.wrap(error)
        }
    }
}
