@preconcurrency import Crypto
import NPRCore

/// The first 128 bits of a SHA-256 digest, as two words: what the ledger keeps in memory per message id and per
/// accepted revision. A 64-digit hex string costs a heap allocation of about 100 bytes per entry, millions of
/// times over a national history; two words cost nothing beside the table. 128 bits keep accidental
/// collisions among a national history's ids negligible (about 10⁻²⁶), and the ids are hashed with SHA-256,
/// so a sender cannot choose colliding ones.
public struct Digest128: Hashable, Sendable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The SHA-256 of `text`'s UTF-8, truncated.
    public init(sha256Of text: String) { self.init(sha256Of: Array(text.utf8)) }

    /// The SHA-256 of `bytes`, truncated.
    public init(sha256Of bytes: [UInt8]) { self.init(leading: Array(SHA256.hash(data: bytes))) }

    /// The first 16 of `bytes`, big-endian.
    private init(leading bytes: [UInt8]) {
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The first 32 digits of a hex digest (a full SHA-256 hex digest, or this type's own `hex`); nil when
    /// they are not hex.
    public init?(hex: String) {
        let digits = Array(hex.utf8.prefix(32))
        guard digits.count == 32, let bytes = hexBytes(String(decoding: digits, as: UTF8.self)) else { return nil }
        self.init(leading: bytes)
    }

    /// 32 lowercase hex digits.
    public var hex: String {
        lowercaseHex((0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) })
    }
}

/// Written as its hex digits, read from them (or from a longer hex digest, as earlier route rows hold).
extension Digest128: Codable, JSONWireCodable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = Digest128(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a hex digest"))
        }
        self = digest
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
    public func write(to json: inout JSONWriter) { json.value(hex) }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        let text = try json.string()
        guard let digest = Digest128(hex: text) else { throw JSONWireError("not a hex digest", at: 0) }
        self = digest
    }
}
