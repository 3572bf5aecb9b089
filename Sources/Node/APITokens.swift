import Crypto
import Foundation

/// Client bearer tokens: generation, hashing and the constant-time lookup.
///
/// Nodes store only SHA-256 digests (hex) of the tokens, so a leaked config file does not leak a
/// credential; tokens are 256 random bits, so a plain (unsalted) hash is enough — there is
/// nothing to brute-force.
public enum APITokens {
    /// A fresh token: `trm_` and 64 hex digits (256 bits from the system CSPRNG).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "trm_" + hex(bytes)
    }

    /// The SHA-256 of a token, as the config stores it (64 lowercase hex digits).
    public static func hash(_ token: String) -> String {
        hex(Array(SHA256.hash(data: Data(token.utf8))))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// 32 bytes from 64 hex digits, nil otherwise.
    static func digest(hex text: String) -> [UInt8]? {
        let chars = Array(text.lowercased().utf8)
        guard chars.count == 64 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = value(chars[pair]), let low = value(chars[pair + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    /// The configured token whose digest equals SHA-256(`presented`). Every configured digest is
    /// compared in full (no early exit on a byte or on a match), so the time taken depends only
    /// on how many tokens are configured, never on how close a guess came.
    static func match(_ presented: String, in tokens: [ValidatedSecurity.Token]) -> ValidatedSecurity.Token? {
        guard presented.utf8.count <= 512 else { return nil }
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var found: ValidatedSecurity.Token?
        for token in tokens where constantTimeEqual(token.digest, digest) && found == nil {
            found = token
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
