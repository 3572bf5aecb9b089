/// The reduce side of WordCount: merges one shard's spills from every map task and writes
/// `PREFIX-SSSSS-of-NNNNN` with lines `word: count\n` sorted by the words' UTF-8 bytes, via temp
/// name + rename. Memory: the distinct words of one shard (plus one read chunk).
public enum WordCountReducer {
    public static func run(shard: Int, of numShards: Int, inputs: [SpillInput], outputPrefix: String,
                           root: DataRoot? = nil) throws(PreprocessError) -> ReduceOutput {
        guard numShards > 0, shard >= 0, shard < numShards else {
            throw .invalidParameter(field: "shard", reason: "\(shard) is not in 0..<\(numShards)")
        }
        let started = ContinuousClock.now
        var counters = TaskCounters()
        var table = WordCountTable(capacity: 1 << 14)
        for input in inputs.sorted(by: { $0.mapTaskIndex < $1.mapTaskIndex }) {
            counters.bytesIn += try SpillReader.forEachRecord(path: input.path, root: root) { (r) throws(PreprocessError) in
                guard r.count >= 8 else { throw .corruptSpill(path: input.path, offset: -1) }
                var n: UInt64 = 0
                for k in 0..<8 { n |= UInt64(r[k]) << (8 * UInt64(k)) }
                guard n <= UInt64(Int.max) else { throw .corruptSpill(path: input.path, offset: -1) }
                table.add(UnsafeBufferPointer(rebasing: r[8...]), count: Int(n))
                counters.recordsIn += 1
            }
        }
        let path = ShardName.path(prefix: outputPrefix, shard: shard, of: numShards)
        let out = try AtomicFileWriter(finalPath: path, attempt: AttemptID.make(), root: root)
        var line: [UInt8] = []
        for e in table.sortedEntries() {
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: table.word(e))
            line.append(contentsOf: ": ".utf8)
            line.append(contentsOf: String(e.count).utf8)
            line.append(0x0A)
            try out.write(line)
            counters.recordsOut += 1
        }
        let file = try out.commit()
        counters.bytesOut = file.bytes
        counters.setDuration(since: started)
        return ReduceOutput(shard: shard, counters: counters, file: file)
    }
}
