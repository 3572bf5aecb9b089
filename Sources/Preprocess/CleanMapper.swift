/// The two map stages of `csv-clean` and `jsonl-transform`.
///
/// - `stats` (only when the spec normalises): per split, the statistics of the normalised
///   columns over the rows that survive select/missing/cast/filter; merge all splits' results
///   with `CleanStats.merge` (order does not matter).
/// - `run`: cleans each record, serialises it and spills it to shard `FNV-1a(row bytes) mod R`
///   (`tempDir/clean-map-TTTTT-shard-SSSSS`). Hashing the finished row sends exact duplicates to
///   the same reducer, which is where `dedupe` happens. Malformed records go to
///   `tempDir/clean-map-TTTTT-rejects.jsonl` (policy `reject-file`) or fail the task (`fail`).
public enum CleanMapper {
    public static func stats(split: InputSplit, input: CleanInput, spec: CSVCleanSpec,
                             root: DataRoot? = nil) throws(PreprocessError) -> CleanStats {
        let started = ContinuousClock.now
        let transform = try CleanTransform(spec: spec, header: input.header)
        var result = CleanStats()
        let (records, bytes) = try CleanSource.forEach(split: split, input: input, spec: spec, root: root) { (item) throws(PreprocessError) in
            switch item {
            case .row(let row, _, _):
                if case .keep(let kept) = transform.prepare(row) { transform.observe(kept, into: &result.columns) }
            case .malformed: result.counters.malformedRecords += 1
            }
        }
        result.counters.recordsIn = records
        result.counters.bytesIn = bytes
        result.counters.setDuration(since: started)
        return result
    }

    public static func run(split: InputSplit, input: CleanInput, spec: CSVCleanSpec, stats: CleanStats = CleanStats(),
                           numShards: Int, tempDir: String, taskID: Int,
                           root: DataRoot? = nil) throws(PreprocessError) -> MapOutput {
        guard numShards > 0 else {
            throw .invalidParameter(field: "numShards", reason: "must be positive, got \(numShards)")
        }
        let started = ContinuousClock.now
        let transform = try CleanTransform(spec: spec, header: input.header)
        let format = spec.output ?? (input == .jsonl ? .jsonl : .csv)
        let attempt = AttemptID.make()
        var spills: [SpillWriter] = []
        for shard in 0..<numShards {
            spills.append(try SpillWriter(path: "\(tempDir)/clean-map-\(ShardName.pad(taskID))-shard-\(ShardName.pad(shard))",
                                          attempt: attempt))
        }
        var rejects = RejectsWriter(path: "\(tempDir)/clean-map-\(ShardName.pad(taskID))-rejects.jsonl", attempt: attempt)
        var counters = TaskCounters()
        func reject(_ offset: Int64, _ raw: [UInt8], _ reason: String) throws(PreprocessError) {
            counters.malformedRecords += 1
            if spec.malformed == .fail { throw .malformedRecord(path: split.path, offset: offset, reason: reason) }
            try rejects.add(offset: offset, raw: raw, reason: reason)
        }
        let (records, bytes) = try CleanSource.forEach(split: split, input: input, spec: spec, root: root) { (item) throws(PreprocessError) in
            switch item {
            case .malformed(let offset, let raw, let reason): try reject(offset, raw, reason)
            case .row(let row, let offset, let raw):
                switch transform.prepare(row) {
                case .dropped: break
                case .malformed(let reason): try reject(offset, raw, reason)
                case .keep(let kept):
                    let bytes = CleanTransform.serialize(transform.finish(kept, stats: stats.columns), as: format)
                    try spills[FNV1a64.shard(of: FNV1a64.hash(bytes), shardCount: numShards)].append(bytes[...])
                    counters.recordsOut += 1
                }
            }
        }
        counters.recordsIn = records
        counters.bytesIn = bytes
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

/// The rejects file of one map task, created on the first reject: JSON lines
/// `{"offset":N,"reason":"…","record":"…"}` (the record's bytes as text, invalid UTF-8 replaced).
struct RejectsWriter {
    let path: String
    let attempt: String
    private var writer: AtomicFileWriter?

    init(path: String, attempt: String) {
        self.path = path
        self.attempt = attempt
    }

    mutating func add(offset: Int64, raw: [UInt8], reason: String) throws(PreprocessError) {
        if writer == nil { writer = try AtomicFileWriter(finalPath: path, attempt: attempt) }
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
