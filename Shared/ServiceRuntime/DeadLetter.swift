import Foundation
import Kafka
import NPRCore

extension DeadLetter.Origin {
    /// Where `m` was read.
    public init(_ m: ConsumedMessage) { self.init(topic: m.topic, partition: m.partition, offset: m.offset) }
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
