import Crypto
import Foundation
import IntakeLedger
import Kafka

/// Binds each record on npr.activities.inbound to the institutions its producer may report for. Kafka ACLs
/// grant a principal WRITE on the whole topic, not per institution, so a hospital signs each record with its
/// intake token (the same token as over HTTP, never sent itself):
///
///     header npr-signature = <key id> ":" hex(HMAC-SHA256(token, record value bytes))
///     key id              = first 16 hex digits of SHA-256(token)
///
/// A record without a valid signature, or for an institution its token does not cover, is rejected
/// (`forbidden-institution`). On a real cluster: each hospital's principal gets WRITE on
/// npr.activities.inbound and READ on npr.intake.receipts; only intake's principal reads the inbound topic.
struct InboundSigners: Sendable {
    static let header = "npr-signature"
    private let byKeyId: [String: (token: [UInt8], institutions: Set<String>)]

    init(tokens: [String: Set<String>]) {
        var byKeyId: [String: (token: [UInt8], institutions: Set<String>)] = [:]
        for (token, institutions) in tokens {
            byKeyId[Self.keyId(token)] = (Array(token.utf8), institutions)
        }
        self.byKeyId = byKeyId
    }

    static func keyId(_ token: String) -> String { String(lowercaseHex(SHA256.hash(data: Data(token.utf8))).prefix(16)) }

    /// The signature header value a producer holding `token` puts on `value`.
    static func signature(token: String, value: [UInt8]) -> String {
        keyId(token) + ":" + lowercaseHex(HMAC<SHA256>.authenticationCode(for: value, using: SymmetricKey(data: Data(token.utf8))))
    }

    /// The institutions the signer of `message` may report for (`*`: any); empty when unsigned or forged.
    func institutions(of message: ConsumedMessage) -> Set<String> {
        guard let header = message.headers.last(where: { $0.0 == Self.header }).map({ String(decoding: $0.1, as: UTF8.self) }),
            let colon = header.firstIndex(of: ":"),
            let signer = byKeyId[String(header[..<colon])],
            let mac = hexBytes(String(header[header.index(after: colon)...])),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message.value ?? [], using: SymmetricKey(data: signer.token))
        else { return [] }
        return signer.institutions
    }
}
