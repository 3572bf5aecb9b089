import Foundation

/// The log-entry envelope: `{"c":{…command…},"v":1}`, compact JSON with sorted keys.
/// The version is read first, so an entry from a newer build stops apply with
/// `unsupportedCommandVersion` instead of being guessed at.
extension Command {
    /// The command wire-format version this build writes and reads.
    public static let version = 1

    /// The bytes to propose to Raft.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain Codable values into JSON has no failure path for these types
        // (no non-finite doubles reach here: validate() rejects them).
        guard let data = try? encoder.encode(Envelope(version: Command.version, command: self)) else {
            preconditionFailure("Command encoding failed for \(self)")
        }
        return [UInt8](data)
    }

    /// Decodes an entry's bytes. `index` only labels the error.
    public static func decode(_ bytes: [UInt8], index: UInt64) throws(StoreError) -> Command {
        try decode(bytes, index: index, with: JSONDecoder())
    }

    static func decode(_ bytes: [UInt8], index: UInt64, with decoder: JSONDecoder) throws(StoreError) -> Command {
        do {
            return try decoder.decode(Envelope.self, from: Data(bytes)).command
        } catch let error as UnsupportedVersion {
            throw .unsupportedCommandVersion(index: index, version: error.version)
        } catch {
            throw .malformedEntry(index: index, reason: String(describing: error).prefix(300).description)
        }
    }
}

struct UnsupportedVersion: Error {
    let version: Int
}

struct Envelope: Codable {
    var version: Int
    var command: Command

    enum CodingKeys: String, CodingKey {
        case version = "v", command = "c"
    }

    init(version: Int, command: Command) {
        self.version = version
        self.command = command
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        guard version == Command.version else { throw UnsupportedVersion(version: version) }
        command = try container.decode(Command.self, forKey: .command)
    }
}
