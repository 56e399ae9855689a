@preconcurrency import Crypto
import Foundation
import IntakeValidation

/// The keyed hash that pseudonymises at the edge: person ids become pseudonyms, and a `messageId` leaves intake
/// only as its keyed hash (receipts on shared topics, dead letters, metrics never carry it in clear).
public struct Pseudonymizer: Sendable {
    public let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// HMAC-SHA256(key, text) in lowercase hex.
    public func keyedHash(_ text: String) -> String {
        lowercaseHex(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    /// A record as a dead letter may carry it: no clear person id, `messageId` as its keyed hash.
    public func redacted(_ record: JSONValue) -> String {
        let redacted = record.redactingPersonIds()
        guard case .object(let o) = redacted else { return redacted.canonical }
        return JSONValue.object(
            JSONObject(
                o.members.map { m in
                    guard m.key == "messageId", case .string(let id) = m.value else { return m }
                    return JSONObject.Member(key: m.key, value: .string(keyedHash(id)))
                })
        ).canonical
    }
}

/// The pseudonym key as configured: 32 bytes or more, written as hex (64+ digits) or base64, surrounding
/// whitespace (a key file's newline) ignored. Text used as it is would make a weak, ambiguous key.
public enum PseudonymKey {
    public static let minimumBytes = 32

    /// Why a configured key was refused, in words for the operator.
    public struct Invalid: Error, Equatable {
        public var problem: String
    }

    public static func parse(_ text: String) throws(Invalid) -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = hexBytes(trimmed) ?? Data(base64Encoded: trimmed).map(Array.init) else {
            throw Invalid(problem: "must be hex or base64 (generate one with `openssl rand -hex 32`)")
        }
        guard bytes.count >= minimumBytes else { throw Invalid(problem: "must hold at least \(minimumBytes) bytes, has \(bytes.count)") }
        return SymmetricKey(data: bytes)
    }
}

/// SHA-256 in lowercase hex: the content hash of a record.
public func sha256Hex(_ bytes: [UInt8]) -> String { lowercaseHex(SHA256.hash(data: bytes)) }

/// Lowercase hex of a digest, without a formatted string per byte.
public func lowercaseHex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The bytes of a hex string (either case), or nil.
public func hexBytes(_ s: String) -> [UInt8]? {
    let digits = Array(s.utf8)
    guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
    }
    return out
}
