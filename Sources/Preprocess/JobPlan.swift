import Foundation

/// Parameters of a `wordcount` job, as a user gives them (Dataflow template names).
public struct WordCountParameters: Codable, Sendable, Equatable {
    /// A path or a glob (wildcards in the last component), relative to the data root or
    /// absolute inside it.
    public var inputFile: String
    /// Output path prefix: shards are `output-SSSSS-of-NNNNN`.
    public var output: String
    /// Number of output shards; recorded in the job so a re-run names the same files.
    public var numShards: Int?
    public var tokenizer: WordTokenizer.Rule?

    public static let defaultShards = 3

    public init(inputFile: String, output: String, numShards: Int? = nil, tokenizer: WordTokenizer.Rule? = nil) {
        self.inputFile = inputFile
        self.output = output
        self.numShards = numShards
        self.tokenizer = tokenizer
    }
}

/// Parameters of a `csv-clean` or `jsonl-transform` job.
public struct CleanParameters: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case csv, jsonl }
    public var kind: Kind
    public var inputFile: String
    public var output: String
    public var numShards: Int?
    public var spec: CSVCleanSpec

    public init(kind: Kind, inputFile: String, output: String, numShards: Int? = nil, spec: CSVCleanSpec) {
        self.kind = kind
        self.inputFile = inputFile
        self.output = output
        self.numShards = numShards
        self.spec = spec
    }
}

/// Everything a job's tasks need, fixed before any task runs: every path resolved and checked
/// against the data root, the splits cut, the shard count recorded.
public struct JobPlan: Sendable, Equatable, Codable {
    public var splits: [InputSplit]
    public var numShards: Int
    /// Absolute output prefix inside the root.
    public var outputPrefix: String
    /// Absolute temp directory inside the root (created by `JobPlanner`).
    public var tempDir: String
    /// For cleaning jobs: the input kind with its CSV header; nil for WordCount.
    public var cleanInput: CleanInput?

    /// The output file of each shard.
    public var outputFiles: [String] {
        (0..<numShards).map { ShardName.path(prefix: outputPrefix, shard: $0, of: numShards) }
    }
}

/// Turns job parameters into a `JobPlan`, refusing bad paths and parameters with typed errors
/// that name the parameter.
public enum JobPlanner {
    public static func plan(_ p: WordCountParameters, root: DataRoot, tempLocation: String,
                            targetSplitBytes: Int64 = 64 << 20) throws(PreprocessError) -> JobPlan {
        let shards = try checkShards(p.numShards ?? WordCountParameters.defaultShards)
        let inputs = try expand(p.inputFile, root: root)
        let splits = try SplitPlanner.plan(files: try sizes(inputs, root: root), targetBytes: targetSplitBytes)
        return JobPlan(splits: splits, numShards: shards, outputPrefix: try outputPrefix(p.output, root: root),
                       tempDir: try tempDir(tempLocation, root: root), cleanInput: nil)
    }

    public static func plan(_ p: CleanParameters, root: DataRoot, tempLocation: String,
                            targetSplitBytes: Int64 = 64 << 20) throws(PreprocessError) -> JobPlan {
        let shards = try checkShards(p.numShards ?? 1)
        let inputs = try expand(p.inputFile, root: root)
        guard inputs.count == 1, let input = inputs.first else {
            throw .invalidParameter(field: "inputFile", reason: "a cleaning job takes exactly one file, matched \(inputs.count)")
        }
        let splits: [InputSplit]
        let cleanInput: CleanInput
        switch p.kind {
        case .csv:
            cleanInput = .csv(header: try CSVRecordReader.readHeader(path: input, root: root).fields)
            splits = try SplitPlanner.planCSV(path: input, targetBytes: targetSplitBytes, root: root)
        case .jsonl:
            cleanInput = .jsonl
            splits = try SplitPlanner.plan(files: try sizes(inputs, root: root), targetBytes: targetSplitBytes)
        }
        try p.spec.validate(header: cleanInput.header)
        return JobPlan(splits: splits, numShards: shards, outputPrefix: try outputPrefix(p.output, root: root),
                       tempDir: try tempDir(tempLocation, root: root), cleanInput: cleanInput)
    }

    private static func checkShards(_ n: Int) throws(PreprocessError) -> Int {
        guard n >= 1 && n <= 10_000 else {
            throw .invalidParameter(field: "numShards", reason: "must be in 1...10000, got \(n)")
        }
        return n
    }

    private static func expand(_ pattern: String, root: DataRoot) throws(PreprocessError) -> [String] {
        let files: [String]
        do {
            files = try root.expandInputs(pattern)
        } catch {
            throw .path(error)
        }
        guard !files.isEmpty else { throw .invalidParameter(field: "inputFile", reason: "no file matches \"\(pattern)\"") }
        return files
    }

    private static func sizes(_ files: [String], root: DataRoot) throws(PreprocessError) -> [SplitPlanner.FileSize] {
        var out: [SplitPlanner.FileSize] = []
        for f in files {
            let file = try ReadableFile(path: f, root: root)
            out.append(.init(path: f, bytes: file.sizeAtOpen))
        }
        return out
    }

    private static func outputPrefix(_ output: String, root: DataRoot) throws(PreprocessError) -> String {
        guard !output.hasSuffix("/") else {
            throw .invalidParameter(field: "output", reason: "a path prefix, not a directory")
        }
        let resolved: String
        do {
            resolved = try root.resolve(output, mustExist: false)
        } catch {
            throw .path(error)
        }
        let dir = AtomicFileWriter.split(resolved).dir
        guard FileManager.default.fileExists(atPath: dir) || (try? FileManager.default.createDirectory(
            atPath: dir, withIntermediateDirectories: true)) != nil else {
            throw .invalidParameter(field: "output", reason: "cannot create \(dir)")
        }
        return resolved
    }

    private static func tempDir(_ location: String, root: DataRoot) throws(PreprocessError) -> String {
        let resolved: String
        do {
            resolved = try root.resolve(location, mustExist: false)
        } catch {
            throw .path(error)
        }
        do {
            try FileManager.default.createDirectory(atPath: resolved, withIntermediateDirectories: true)
        } catch {
            throw .invalidParameter(field: "tempLocation", reason: "cannot create \(resolved)")
        }
        return resolved
    }
}
