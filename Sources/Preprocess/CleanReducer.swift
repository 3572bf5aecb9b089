#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reduce side of cleaning: concatenates one shard's spills in map-task order (so rows keep
/// their input order within the shard), drops exact duplicate rows when `dedupe` is set, and
/// writes `PREFIX-SSSSS-of-NNNNN` (CSV with a header line, or JSON lines) via temp + rename.
/// Memory: with `dedupe`, the distinct rows of one shard (as bytes); without it, one chunk.
public enum CleanReducer {
    public static func run(shard: Int, of numShards: Int, inputs: [SpillInput], outputPrefix: String,
                           format: CSVCleanSpec.OutputFormat, csvHeader: [String]?, dedupe: Bool,
                           root: DataRoot? = nil) throws(PreprocessError) -> ReduceOutput {
        guard numShards > 0, shard >= 0, shard < numShards else {
            throw .invalidParameter(field: "shard", reason: "\(shard) is not in 0..<\(numShards)")
        }
        if format == .csv && csvHeader == nil {
            throw .invalidParameter(field: "csvHeader", reason: "CSV output needs its header")
        }
        let started = ContinuousClock.now
        var counters = TaskCounters()
        let out = try AtomicFileWriter(finalPath: ShardName.path(prefix: outputPrefix, shard: shard, of: numShards),
                                       attempt: AttemptID.make(), root: root)
        if format == .csv, let csvHeader {
            try out.write(CleanTransform.csvLine(csvHeader) + [0x0A])
        }
        var seen = Set<[UInt8]>()
        for input in inputs.sorted(by: { $0.mapTaskIndex < $1.mapTaskIndex }) {
            counters.bytesIn += try SpillReader.forEachRecord(path: input.path, root: root) { (r) throws(PreprocessError) in
                counters.recordsIn += 1
                let row = Array(r)
                if dedupe && !seen.insert(row).inserted { return }
                try out.write(row + [0x0A])
                counters.recordsOut += 1
            }
        }
        let file = try out.commit()
        counters.bytesOut = file.bytes
        counters.setDuration(since: started)
        return ReduceOutput(shard: shard, counters: counters, file: file)
    }
}

extension CleanReducer {
    /// Concatenates the map tasks' rejects files (those that exist, in map-task order) into
    /// `finalPath` via temp + rename, so a job has one rejects file (empty when nothing was
    /// rejected). Streams in `chunkBytes` pieces. Returns the file and the rejected records.
    public static func gatherRejects(_ paths: [String], into finalPath: String, root: DataRoot? = nil,
                                     chunkBytes: Int = 1 << 20) throws(PreprocessError) -> (file: OutputFile, records: Int) {
        let out = try AtomicFileWriter(finalPath: finalPath, attempt: AttemptID.make(), root: root)
        var records = 0
        var buffer: [UInt8] = []
        for path in paths where access(path, F_OK) == 0 {
            let file = try ReadableFile(path: path, root: root)
            var offset: Int64 = 0
            while true {
                buffer.removeAll(keepingCapacity: true)
                let n = try file.read(at: offset, count: max(1, chunkBytes), appendingTo: &buffer)
                if n == 0 { break }
                offset += Int64(n)
                records += buffer.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                try out.write(buffer)
            }
        }
        return (try out.commit(), records)
    }
}
