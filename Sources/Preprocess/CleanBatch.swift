#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cleans one `RawBatch`: pure, so child tasks run batches in parallel; the reading task then
/// writes results in batch order, so outputs do not depend on scheduling.
struct CleanBatchResult: Sendable {
    struct Reject: Sendable {
        var offset: Int64
        var raw: [UInt8]
        var reason: String
    }

    /// Serialised output rows per shard, in input order.
    var shardRows: [[[UInt8]]]
    var rejects: [Reject] = []
    var records = 0
    var stats: [String: ColumnStats] = [:]
}

struct CleanBatchJob: Sendable {
    enum Mode: Sendable {
        case stats
        case transform(stats: [String: ColumnStats], numShards: Int, format: CSVCleanSpec.OutputFormat)
    }

    let transform: CleanTransform
    let input: CleanInput
    let mode: Mode

    func run(_ batch: RawBatch) -> CleanBatchResult {
        var shards = 0
        if case .transform(_, let n, _) = mode { shards = n }
        var result = CleanBatchResult(shardRows: Array(repeating: [], count: shards))
        switch batch {
        case .csv(let records):
            let header = input.header ?? []
            for r in records {
                result.records += 1
                if let why = r.malformation {
                    result.rejects.append(.init(offset: r.offset, raw: r.raw, reason: why))
                } else if r.fields.count != header.count {
                    result.rejects.append(.init(offset: r.offset, raw: r.raw,
                                                reason: "expected \(header.count) fields, got \(r.fields.count)"))
                } else {
                    handle(CleanRow(names: header, values: r.fields.map(CleanValue.string)), offset: r.offset,
                           raw: r.raw, into: &result)
                }
            }
        case .jsonl(let block):
            let maxBytes = transform.spec.maxRecordBytes
            for off in block.oversizedLineOffsets {
                result.records += 1
                result.rejects.append(.init(offset: off, raw: [], reason: "line longer than \(maxBytes) bytes"))
            }
            block.forEachLine { line, offset in
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank line
                result.records += 1
                if line.count > maxBytes {
                    result.rejects.append(.init(offset: offset, raw: [], reason: "line longer than \(maxBytes) bytes"))
                    return
                }
                switch JSONLRecordParser.parse(line, maxDepth: transform.spec.maxDepth) {
                case .success(let row): handle(row, offset: offset, raw: Array(line), into: &result)
                case .failure(let f): result.rejects.append(.init(offset: offset, raw: Array(line), reason: f.reason))
                }
            }
        }
        return result
    }

    private func handle(_ row: CleanRow, offset: Int64, raw: [UInt8], into result: inout CleanBatchResult) {
        switch transform.prepare(row) {
        case .dropped: break
        case .malformed(let reason): result.rejects.append(.init(offset: offset, raw: raw, reason: reason))
        case .keep(let kept):
            switch mode {
            case .stats: transform.observe(kept, into: &result.stats)
            case .transform(let stats, let numShards, let format):
                let bytes = CleanTransform.serialize(transform.finish(kept, stats: stats), as: format)
                result.shardRows[FNV1a64.shard(of: FNV1a64.hash(bytes), shardCount: numShards)].append(bytes)
            }
        }
    }
}

/// Runs `job` over every batch of `source`, up to `parallelism` batches at once, and hands the
/// results to `consume` in batch order. At most `parallelism` batches (read or cleaned, not
/// yet consumed) are in memory.
func runBatches(_ source: CleanBatchSource, job: CleanBatchJob, parallelism: Int,
                consume: (CleanBatchResult) throws(PreprocessError) -> Void) async throws(PreprocessError) {
    do {
        try await withThrowingTaskGroup(of: (Int, CleanBatchResult).self) { group in
            var done: [Int: CleanBatchResult] = [:]
            var submitted = 0
            var consumed = 0
            func drain() throws(PreprocessError) {
                while let r = done.removeValue(forKey: consumed) {
                    try consume(r)
                    consumed += 1
                }
            }
            while let batch = try source.next() {
                // Cooperative cancellation (job cancelled, lease lost): stop between batches.
                // PreprocessError has no case for it; ECANCELED says what happened.
                if Task.isCancelled { throw PreprocessError.io(path: "", operation: "clean (cancelled)", errno: ECANCELED) }
                while submitted - consumed >= max(1, parallelism), let (i, r) = try await group.next() {
                    done[i] = r
                    try drain()
                }
                let seq = submitted
                group.addTask { (seq, job.run(batch)) }
                submitted += 1
            }
            for try await (i, r) in group {
                done[i] = r
                try drain()
            }
        }
    } catch let e as PreprocessError {
        throw e
    } catch {
        throw .io(path: "", operation: "clean batch", errno: 0)  // unreachable: only PreprocessError is thrown
    }
}
