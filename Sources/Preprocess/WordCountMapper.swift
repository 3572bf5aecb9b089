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
        let spills = try writeSpills(table, numShards: numShards, tempDir: tempDir, taskID: taskID,
                                     counters: &counters)
        counters.setDuration(since: started)
        return MapOutput(taskIndex: taskID, counters: counters, spills: spills, rejects: nil)
    }

    struct BlockCount: Sendable {
        var table: WordCountTable
        var lines = 0
        var malformed = 0
    }

    static func count(_ block: LineBlock, tokenizer: WordTokenizer) -> BlockCount {
        var result = BlockCount(table: WordCountTable(capacity: 4096))
        block.forEachLine { line, _ in
            result.lines += 1
            let valid = tokenizer.forEachToken(in: line) { result.table.add($0) }
            if !valid { result.malformed += 1 }
        }
        return result
    }

    /// Reads blocks in this task and counts up to `parallelism` of them at once in child tasks.
    private static func countBlocks(_ reader: SplitReader, tokenizer: WordTokenizer, parallelism: Int,
                                    counters: inout TaskCounters) async throws -> WordCountTable {
        var total = WordCountTable(capacity: 1 << 14)
        var c = counters
        func absorb(_ r: BlockCount) {
            total.merge(r.table)
            c.recordsIn += r.lines
            c.malformedRecords += r.malformed
        }
        try await withThrowingTaskGroup(of: BlockCount.self) { group in
            var inFlight = 0
            while let block = try reader.nextBlock() {
                c.bytesIn += Int64(block.bytes.count)
                c.malformedRecords += block.oversizedLineOffsets.count
                c.recordsIn += block.oversizedLineOffsets.count
                if parallelism <= 1 {
                    absorb(count(block, tokenizer: tokenizer))
                    continue
                }
                if inFlight >= parallelism, let r = try await group.next() {
                    absorb(r)
                    inFlight -= 1
                }
                group.addTask { count(block, tokenizer: tokenizer) }
                inFlight += 1
            }
            for try await r in group { absorb(r) }
        }
        counters = c
        return total
    }

    private static func writeSpills(_ table: WordCountTable, numShards: Int, tempDir: String, taskID: Int,
                                    counters: inout TaskCounters) throws(PreprocessError) -> [OutputFile] {
        var byShard = Array(repeating: [Int](), count: numShards)
        for i in table.sortedIndices() {
            byShard[FNV1a64.shard(of: table.entries[i].hash, shardCount: numShards)].append(i)
        }
        let attempt = AttemptID.make()
        var files: [OutputFile] = []
        for (shard, indices) in byShard.enumerated() {
            var w = try SpillWriter(path: spillPath(tempDir: tempDir, taskID: taskID, shard: shard), attempt: attempt)
            for i in indices {
                let e = table.entries[i]
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
