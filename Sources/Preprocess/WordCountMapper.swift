import Foundation

/// Tuning for map tasks. Defaults suit a 2-core node.
public struct MapOptions: Sendable, Equatable {
    public var chunkBytes = 1 << 20
    public var maxLineBytes = 64 << 20
    /// Chunks counted at once; at most this many chunks are in memory.
    public var parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)
    public init() {}
}

/// The map side of WordCount: counts the words of one split, then writes one spill file per
/// shard, `tempDir/wc-map-TTTTT-shard-SSSSS` (words sorted, so an attempt's spills are
/// byte-identical to any other attempt's), each via temp name + rename.
public enum WordCountMapper {
    public static func run(split: InputSplit, numShards: Int, tempDir: String, taskID: Int,
                           tokenizer: WordTokenizer = WordTokenizer(), root: DataRoot? = nil,
                           options: MapOptions = MapOptions()) async throws(PreprocessError) -> MapOutput {
        guard numShards > 0 else {
            throw .invalidParameter(field: "numShards", reason: "must be positive, got \(numShards)")
        }
        let started = ContinuousClock.now
        let reader = try SplitReader(split: split, root: root, chunkBytes: options.chunkBytes,
                                     maxLineBytes: options.maxLineBytes)
        var counters = TaskCounters()
        let table: WordCountTable
        do {
            table = try await countBlocks(reader, tokenizer: tokenizer,
                                          parallelism: options.parallelism, counters: &counters)
        } catch let e as PreprocessError {
            throw e
        } catch {
            throw .io(path: split.path, operation: "count", errno: 0)  // unreachable: only PreprocessError is thrown
        }
        let spills = try writeSpills(table, numShards: numShards, tempDir: tempDir, taskID: taskID, root: root,
                                     counters: &counters)
        counters.setDuration(since: started)
        return MapOutput(taskIndex: taskID, counters: counters, spills: spills, rejects: nil)
    }

    /// Reads blocks in this task and counts up to `parallelism` of them at once in child tasks,
    /// each into one of `parallelism` lanes (tables reused across blocks, merged once at the end,
    /// so a block costs no table allocation or merge).
    private static func countBlocks(_ reader: SplitReader, tokenizer: WordTokenizer, parallelism: Int,
                                    counters: inout TaskCounters) async throws -> WordCountTable {
        let lanes = max(1, parallelism)
        var idle = (0..<lanes).map { _ in WordCountLane() }
        var c = counters
        try await withThrowingTaskGroup(of: WordCountLane.self) { group in
            while let block = try reader.nextBlock() {
                c.bytesIn += Int64(block.bytes.count)
                c.malformedRecords += block.oversizedLineOffsets.count
                c.recordsIn += block.oversizedLineOffsets.count
                if block.bytes.isEmpty { continue }
                if lanes == 1 {
                    idle[0].count(block, tokenizer: tokenizer)
                    continue
                }
                if idle.isEmpty, let done = try await group.next() { idle.append(done) }
                let lane = idle.popLast() ?? WordCountLane()
                group.addTask {
                    lane.count(block, tokenizer: tokenizer)
                    return lane
                }
            }
            for try await done in group { idle.append(done) }
        }
        // Merge into the largest table: the fewest inserts.
        idle.sort { $0.table.count > $1.table.count }
        var total = WordCountTable(capacity: 0)
        swap(&total, &idle[0].table)  // moved, not shared: merging into it copies nothing
        for (i, lane) in idle.enumerated() {
            c.recordsIn += lane.lines
            c.malformedRecords += lane.malformed
            if i > 0 { total.merge(lane.table) }
        }
        counters = c
        return total
    }

    private static func writeSpills(_ table: WordCountTable, numShards: Int, tempDir: String, taskID: Int, root: DataRoot?,
                                    counters: inout TaskCounters) throws(PreprocessError) -> [OutputFile] {
        var byShard = Array(repeating: [WordCountTable.Entry](), count: numShards)
        for e in table.sortedEntries() {
            byShard[FNV1a64.shard(of: e.hash, shardCount: numShards)].append(e)
        }
        let attempt = AttemptID.make()
        var files: [OutputFile] = []
        for (shard, words) in byShard.enumerated() {
            var w = try SpillWriter(path: spillPath(tempDir: tempDir, taskID: taskID, shard: shard), attempt: attempt, root: root)
            for e in words {
                try w.append(table.word(e), prefix: UInt64(e.count))
            }
            let f = try w.file.commit()
            counters.recordsOut += w.records
            counters.bytesOut += f.bytes
            files.append(f)
        }
        return files
    }

    public static func spillPath(tempDir: String, taskID: Int, shard: Int) -> String {
        "\(tempDir)/wc-map-\(ShardName.pad(taskID))-shard-\(ShardName.pad(shard))"
    }
}
