import ArgumentParser
import Foundation
import Node

/// `trireme token new|hash`: client bearer tokens for a node's `security.tokens`. Nodes store
/// only the SHA-256; the token itself is printed once and kept by the client.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create a client token, or hash one, for a node's security.tokens.",
        subcommands: [New.self, Hash.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random token and its config entry.")

        @Option(help: "Who the token belongs to (written to the audit log).")
        var name: String

        @Option(help: "admin, submitter or viewer.")
        var role: String = "viewer"

        @Option(name: .customLong("queue"), help: "A queue a submitter may write to (repeatable; default: all).")
        var queues: [String] = []

        func run() throws {
            guard let role = SecurityConfig.Role(rawValue: role) else {
                throw ValidationError("--role must be admin, submitter or viewer")
            }
            let token = APITokens.generate()
            let entry = SecurityConfig.Token(name: name, sha256: APITokens.hash(token), role: role,
                                             queues: queues.isEmpty ? nil : queues)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let json = String(decoding: try encoder.encode(entry), as: UTF8.self)
            print("token:  \(token)")
            print("config: \(json)")
            print("Add the config line to security.tokens on every node; give the token to the client "
                  + "(trireme --token, or TRIREME_TOKEN). It is not stored anywhere.")
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the SHA-256 of a token (read from stdin when not given).")

        @Argument(help: "The token (prefer stdin: arguments show up in process listings).")
        var token: String?

        func run() throws {
            let given = token ?? readLine(strippingNewline: true)
            guard let given, !given.isEmpty else { throw ValidationError("no token given") }
            print(APITokens.hash(given))
        }
    }
}
