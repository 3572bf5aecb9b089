import Crypto
import Store

/// The body of `POST /v1/internal/commands`: commands as `[length: UInt32 BE][Command.encoded()]`
/// frames, signed with `Trireme-Signature: <hex HMAC-SHA256(cluster secret, body)>`.
enum CommandBatch {
    static let signatureHeader = "Trireme-Signature"
    static let maxCommands = 512

    static func encode(_ commands: [[UInt8]]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(commands.reduce(0) { $0 + 4 + $1.count })
        for command in commands {
            let count = UInt32(command.count)
            body += [UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16),
                     UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count)]
            body += command
        }
        return body
    }

    enum DecodeError: Error, Equatable {
        case malformed(String)
    }

    /// Splits a body into commands; any truncated frame or undecodable command is an error.
    static func decode(_ body: [UInt8]) throws(DecodeError) -> [Command] {
        var commands: [Command] = []
        var at = 0
        while at < body.count {
            guard body.count - at >= 4 else { throw .malformed("truncated length") }
            let length = body[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
            at += 4
            guard length <= body.count - at else { throw .malformed("truncated command") }
            guard commands.count < maxCommands else { throw .malformed("more than \(maxCommands) commands") }
            do {
                commands.append(try Command.decode(Array(body[at..<at + length]), index: UInt64(commands.count)))
            } catch {
                throw .malformed("command \(commands.count): \(error)")
            }
            at += length
        }
        return commands
    }

    static func sign(_ body: [UInt8], secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Constant time in the MAC (HMAC's own comparison); a malformed header is simply invalid.
    static func verify(_ body: [UInt8], signature: String?, secret: [UInt8]) -> Bool {
        guard let signature, let mac = hexBytes(signature), mac.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: secret))
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0, utf8.count <= 128 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Only what executors send may come in this way.
    static func isExecutorCommand(_ command: Command) -> Bool {
        switch command {
        case .startTask, .renewLeases, .completeTask, .failTask, .cancelTask, .registerExecutor, .executorHeartbeat, .launchJob: true
        default: false
        }
    }
}
