import Foundation
import Kafka
import NPRCore

/// A record some service could not take, on `npr.deadletter` for operators (contracts/dead-letter.v1):
/// why, and where it came from, never a clear person id or a clear message id.
public struct DeadLetter: Codable, Sendable, Equatable {
    public struct Reason: Codable, Sendable, Equatable {
        public var field: String
        public var code: String
        public var message: String
        public init(field: String, code: String, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }
    }
    /// Where a record read from a topic was: an operator with read rights finds it there.
    public struct Origin: Codable, Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public init(_ m: ConsumedMessage) {
            topic = m.topic
            partition = m.partition
            offset = m.offset
        }
    }

    /// The service that refused it.
    public var service: String
    /// `http`, or `kafka` for a record read from a topic (then `origin` says where).
    public var channel: String
    /// What the record was meant to be (`activity`, `death`, `population`, `unit`, or the topic's value type).
    public var kind: String
    public var origin: Origin?
    /// HMAC of the record's `messageId` with the pseudonym key (lowercase hex), when it had one.
    public var messageIdHash: String?
    /// Who sent it, from the credentials (never from the rejected record): an institution, `admin`, `inbound`, or null.
    public var reporter: String?
    public var errors: [Reason]
    /// The record as canonical JSON with every clear person id removed and `messageId` replaced by its
    /// hash; null when it could not be read at all.
    public var record: String?

    public init(
        service: String, channel: String, kind: String, origin: Origin? = nil, messageIdHash: String? = nil,
        reporter: String? = nil, errors: [Reason], record: String? = nil
    ) {
        self.service = service
        self.channel = channel
        self.kind = kind
        self.origin = origin
        self.messageIdHash = messageIdHash
        self.reporter = reporter
        self.errors = errors
        self.record = record
    }
}

/// An input message a service could not decode: it goes to the dead-letter topic without its content (which
/// may hold anything), named by topic, partition and offset, and the stream goes on.
struct PoisonMessage: Error {
    let origin: DeadLetter.Origin
    let reason: String

    init(_ message: ConsumedMessage, _ error: any Error) {
        origin = DeadLetter.Origin(message)
        reason = Self.describe(error)
    }

    /// The kind of failure and the field path, never a value from the message.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as DecodingError:
            func path(_ c: DecodingError.Context) -> String {
                let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                return p.isEmpty ? "the message" : p
            }
            switch e {
            case .typeMismatch(let t, let c): return "\(path(c)): expected \(t)"
            case .valueNotFound(let t, let c): return "\(path(c)): missing \(t)"
            case .keyNotFound(let k, let c): return "\(path(c)): missing key \(k.stringValue)"
            case .dataCorrupted(let c): return "\(path(c)): not readable"
            @unknown default: return "not readable"
            }
        case let e as JSONWireError: return e.description
        case let e as InvalidInput: return e.reason
        default: return "not readable (\(type(of: error)))"
        }
    }

    func deadLetter(service: String) -> DeadLetter {
        DeadLetter(
            service: service, channel: "kafka", kind: origin.topic, origin: origin,
            errors: [.init(field: "", code: "unreadable", message: reason)])
    }
}

extension ConsumedMessage {
    /// A population count within `Plausible` bounds, or `InvalidInput`.
    public func decodePopulation() throws -> PopulationEvent {
        let p = try decode(PopulationEvent.self)
        guard p.isPlausible else { throw InvalidInput("population count outside the plausible bounds (year, age, sex or count)") }
        return p
    }
}

/// A message that decodes but breaks a rule the domain relies on (e.g. a population count no register
/// could hold): thrown from a handler's `decode`, it sends the message to the dead-letter topic.
public struct InvalidInput: Error {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}
