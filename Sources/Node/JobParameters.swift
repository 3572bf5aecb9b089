import API
import Foundation
import Preprocess

/// The parameters every template shares, and how planning errors become 400s naming the
/// parameter.
enum JobParameters {
    struct Common: Sendable, Equatable {
        var inputFile: String
        var output: String
        var numShards: Int?
        /// Relative to the data root (or absolute inside it); the job's temp dir is `<this>/<job>`.
        var tempLocation: String
        var testDelayMs: Int?
    }

    /// Where temp (spill) directories go, relative to the data root, unless `tempLocation` is given.
    static let defaultTempLocation = ".trireme-tmp"

    static func common(_ raw: [String: JSONValue], template: String, allowed: Set<String>) throws(APIError) -> Common {
        for key in raw.keys.sorted() where !allowed.contains(key) {
            throw APIError(.invalidArgument, "unknown \(template) parameter \(key) (\(allowed.sorted().joined(separator: ", ")))",
                           field: "parameters.\(key)")
        }
        guard case .string(let input)? = raw["inputFile"] else {
            throw APIError(.invalidArgument, "parameters.inputFile (a path or glob under the data root) is required", field: "parameters.inputFile")
        }
        guard case .string(let output)? = raw["output"] else {
            throw APIError(.invalidArgument, "parameters.output (an output path prefix) is required", field: "parameters.output")
        }
        var temp = defaultTempLocation
        if let value = raw["tempLocation"] {
            guard case .string(let text) = value else {
                throw APIError(.invalidArgument, "parameters.tempLocation must be a path", field: "parameters.tempLocation")
            }
            temp = text
        }
        return Common(inputFile: input, output: output, numShards: try integer(raw, "numShards"), tempLocation: temp,
                      testDelayMs: try integer(raw, "testDelayMs"))
    }

    /// An integer given as a JSON number or as a decimal string (the CLI sends strings).
    static func integer(_ raw: [String: JSONValue], _ name: String) throws(APIError) -> Int? {
        switch raw[name] {
        case nil: return nil
        case .number(let n)? where n == n.rounded() && abs(n) < 1e9: return Int(n)
        case .string(let text)?:
            if let n = Int(text), abs(n) < 1_000_000_000 { return n }
        default: break
        }
        throw APIError(.invalidArgument, "parameters.\(name) must be an integer", field: "parameters.\(name)")
    }

    /// `testDelayMs` (each task sleeps first, cancellably) exists for cluster tests only.
    static func testDelay(_ common: Common, allowed: Bool) throws(APIError) -> Int? {
        guard let ms = common.testDelayMs else { return nil }
        guard allowed else {
            throw APIError(.invalidArgument, "parameters.testDelayMs needs a node with testTaskKinds enabled", field: "parameters.testDelayMs")
        }
        guard (0...600_000).contains(ms) else {
            throw APIError(.invalidArgument, "parameters.testDelayMs must be in 0...600000", field: "parameters.testDelayMs")
        }
        return ms
    }

    static func apiError(_ error: PreprocessError, prefix: String = "parameters.") -> APIError {
        switch error {
        case .invalidParameter(let field, let reason):
            return APIError(.invalidArgument, "\(prefix)\(field): \(reason)", field: "\(prefix)\(field)")
        case .path(let path):
            return APIError(.invalidArgument, "bad path: \(describe(path)) (paths must lie under the node's data root)")
        case .io(let path, let operation, let errno):
            return APIError(.invalidArgument, "cannot \(operation) \(path) (errno \(errno))")
        case .corruptSpill, .malformedRecord:
            return APIError(.invalidArgument, "cannot plan the job: \(error)")
        }
    }

    static func describe(_ error: PathError) -> String {
        switch error {
        case .empty: "an empty path"
        case .containsNUL(let p): "\"\(p.replacingOccurrences(of: "\0", with: "\\0"))\" contains NUL"
        case .parentTraversal(let p): "\"\(p)\" has a '..' component"
        case .outsideRoot(let p, _): "\"\(p)\" is outside the data root"
        case .notFound(let p): "\"\(p)\" does not exist"
        case .notARegularFile(let p): "\"\(p)\" is not a regular file"
        case .notADirectory(let p): "\"\(p)\" is not a directory"
        case .hardLinked(let p): "\"\(p)\" has more than one hard link"
        case .invalidGlob(let p): "\"\(p)\" is not a valid glob"
        case .encoded(let p): "\"\(p.unicodeScalars.map { $0.value < 0x20 ? "?" : String($0) }.joined())\" has a percent-encoded or control character"
        }
    }
}

extension JobParameters {
    /// Checks each user path against the data root first, so a refusal names its parameter
    /// (the planner checks them again, and creates directories).
    static func checkPaths(_ common: Common, root: DataRoot) throws(APIError) {
        let paths = [("inputFile", common.inputFile, true), ("output", common.output, false), ("tempLocation", common.tempLocation, false)]
        for (name, path, isGlob) in paths {
            do {
                if isGlob {
                    _ = try root.expandInputs(path)
                } else {
                    _ = try root.resolve(path, mustExist: false)
                }
            } catch {
                throw APIError(.invalidArgument, "parameters.\(name): \(describe(error)) (paths must lie under the node's data root)",
                               field: "parameters.\(name)")
            }
        }
    }
}
