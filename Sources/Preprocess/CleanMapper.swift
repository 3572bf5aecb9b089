/// The two map stages of `csv-clean` and `jsonl-transform`.
///
/// - `stats` (only when the spec normalises): per split, the statistics of the normalised
///   columns over the rows that survive select/missing/cast/filter; merge all splits' results
///   with `CleanStats.merge` (order does not matter).
/// - `run`: cleans each record, serialises it and spills it to shard `FNV-1a(row bytes) mod R`
///   (`tempDir/clean-map-TTTTT-shard-SSSSS`). Hashing the finished row sends exact duplicates to
///   the same reducer, which is where `dedupe` happens. Malformed records go to
///   `tempDir/clean-map-TTTTT-rejects.jsonl` (policy `reject-file`) or fail the task (`fail`).
/// Both clean up to `options.parallelism` chunks at once; results are written in input order.
public enum CleanMapper {
    public static func stats(split: InputSplit, input: CleanInput, spec: CSVCleanSpec, root: DataRoot? = nil,
                             options: MapOptions = MapOptions()) async throws(PreprocessError) -> CleanStats {
        let started = ContinuousClock.now
        let job = CleanBatchJob(transform: try CleanTransform(spec: spec, header: input.header), input: input, mode: .stats)
        let source = try CleanBatchSource(split: split, input: input, spec: spec, root: root, batchBytes: options.chunkBytes)
        var result = CleanStats()
        try await runBatches(source, job: job, parallelism: options.parallelism) { r in
            for (k, v) in r.stats { result.columns[k, default: ColumnStats()].merge(v) }
            result.counters.recordsIn += r.records
            result.counters.malformedRecords += r.rejects.count
        }
        result.counters.bytesIn = source.bytesIn
        result.counters.setDuration(since: started)
        return result
    }

    public static func run(split: InputSplit, input: CleanInput, spec: CSVCleanSpec, stats: CleanStats = CleanStats(),
                           numShards: Int, tempDir: String, taskID: Int, root: DataRoot? = nil,
                           options: MapOptions = MapOptions()) async throws(PreprocessError) -> MapOutput {
        guard numShards > 0 else {
            throw .invalidParameter(field: "numShards", reason: "must be positive, got \(numShards)")
        }
        let started = ContinuousClock.now
        let format = spec.output ?? (input == .jsonl ? .jsonl : .csv)
        let job = CleanBatchJob(transform: try CleanTransform(spec: spec, header: input.header), input: input,
                                mode: .transform(stats: stats.columns, numShards: numShards, format: format))
        let source = try CleanBatchSource(split: split, input: input, spec: spec, root: root, batchBytes: options.chunkBytes)
        let attempt = AttemptID.make()
        var spills: [SpillWriter] = []
        for shard in 0..<numShards {
            spills.append(try SpillWriter(path: spillPath(tempDir: tempDir, taskID: taskID, shard: shard), attempt: attempt, root: root))
        }
        var rejects = RejectsWriter(path: rejectsPath(tempDir: tempDir, taskID: taskID), attempt: attempt, root: root)
        var counters = TaskCounters()
        try await runBatches(source, job: job, parallelism: options.parallelism) { (r) throws(PreprocessError) in
            counters.recordsIn += r.records
            for x in r.rejects {
                counters.malformedRecords += 1
                if spec.malformed == .fail { throw .malformedRecord(path: split.path, offset: x.offset, reason: x.reason) }
                try rejects.add(offset: x.offset, raw: x.raw, reason: x.reason)
            }
            for (shard, rows) in r.shardRows.enumerated() {
                for row in rows { try spills[shard].append(row[...]) }
                counters.recordsOut += rows.count
            }
        }
        counters.bytesIn = source.bytesIn
        var files: [OutputFile] = []
        for s in spills {
            let f = try s.file.commit()
            counters.bytesOut += f.bytes
            files.append(f)
        }
        let rejectsFile = try rejects.commit()
        counters.setDuration(since: started)
        return MapOutput(taskIndex: taskID, counters: counters, spills: files, rejects: rejectsFile)
    }
}

extension CleanMapper {
    public static func spillPath(tempDir: String, taskID: Int, shard: Int) -> String {
        "\(tempDir)/clean-map-\(ShardName.pad(taskID))-shard-\(ShardName.pad(shard))"
    }

    /// Exists only when the task rejected at least one record.
    public static func rejectsPath(tempDir: String, taskID: Int) -> String {
        "\(tempDir)/clean-map-\(ShardName.pad(taskID))-rejects.jsonl"
    }
}

/// The rejects file of one map task, created on the first reject: JSON lines
/// `{"offset":N,"reason":"…","record":"…"}` (the record's bytes as text, invalid UTF-8 replaced).
struct RejectsWriter {
    let path: String
    let attempt: String
    let root: DataRoot?
    private var writer: AtomicFileWriter?

    init(path: String, attempt: String, root: DataRoot? = nil) {
        self.path = path
        self.attempt = attempt
        self.root = root
    }

    mutating func add(offset: Int64, raw: [UInt8], reason: String) throws(PreprocessError) {
        if writer == nil { writer = try AtomicFileWriter(finalPath: path, attempt: attempt, root: root) }
        var line = Array("{\"offset\":\(offset),\"reason\":".utf8)
        CleanTransform.appendJSONString(reason, to: &line)
        line += Array(",\"record\":".utf8)
        CleanTransform.appendJSONString(String(decoding: raw, as: UTF8.self), to: &line)
        line += Array("}\n".utf8)
        try writer?.write(line)
    }

    func commit() throws(PreprocessError) -> OutputFile? {
        try writer?.commit()
    }
}
