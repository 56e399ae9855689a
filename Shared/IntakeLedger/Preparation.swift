import Foundation
import IntakeValidation
import NPRCore
import StreamCodec

/// What a submission carries: each kind has its own validation, idempotency scope and output topic.
public enum RecordKind: String, Sendable, CaseIterable { case activity, death, population, unit }

/// A record rejected before the ledger was consulted (invalid, or not the caller's to report).
public struct Rejection: Sendable {
    public var index: Int
    /// In clear, for the submitter's own receipt only.
    public var messageId: String? = nil
    public var errors: [FieldError]
    /// For the dead letter: the record redacted (`Pseudonymizer.redacted`).
    public var record: String?
}

public struct PreparedActivity: Sendable {
    public var index: Int
    public var record: JSONValue
    public var message: ActivityMessage
    /// The episode as the services see it: pseudonymised.
    public var episode: Episode
    public var warnings: [Warning]
    /// The record's content hash (idempotency) and that of its version without `messageId` and `status`
    /// (revision conflicts: the same version resent under a new message id is no conflict).
    public var hash: String
    public var version: Digest128
}

/// A record after the stateless part of its decision (`RecordPreparer`).
public enum Prepared: Sendable {
    case rejected(Rejection)
    case activity(PreparedActivity)
    case death(index: Int, record: JSONValue, messageId: String, hash: String, event: DeathEvent)
    case population(index: Int, record: JSONValue, messageId: String?, hash: String, event: PopulationEvent)
    case unit(NPRCore.Unit)
}

/// The part of deciding that needs no ledger state beyond the unit register as it was when the request arrived:
/// validation, content hashes and the pseudonym. It runs on every core; unit records are validated here but
/// applied by `Ledger.decide`, in order.
public struct RecordPreparer: Sendable {
    public let units: [String: NPRCore.Unit]
    public let pseudonymizer: Pseudonymizer

    public init(units: [String: NPRCore.Unit], pseudonymizer: Pseudonymizer) {
        self.units = units
        self.pseudonymizer = pseudonymizer
    }

    /// `mayReport(index, institutionId)`: whether the submitter of record `index` may report for the institution.
    public func prepare(
        kind: RecordKind, records: [Result<JSONValue, JSONParseError>], mayReport: @escaping @Sendable (Int, String) -> Bool
    ) throws -> [Prepared] {
        try BatchCodec.map(Array(records.enumerated())) { [self] (index, parsed) -> Prepared in
            prepare(kind: kind, index: index, parsed, mayReport: mayReport)
        }
    }

    public func prepare(kind: RecordKind, index: Int, _ parsed: Result<JSONValue, JSONParseError>, mayReport: (Int, String) -> Bool) -> Prepared {
        let record: JSONValue
        switch parsed {
        case .failure(let e): return .rejected(Rejection(index: index, errors: [.invalidJSON(e)], record: nil))
        case .success(let r): record = r
        }
        guard case .object = record else { return .rejected(Rejection(index: index, errors: [.notAnObject], record: pseudonymizer.redacted(record))) }
        let messageId = record["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
        func rejected(_ errors: [FieldError]) -> Prepared {
            .rejected(Rejection(index: index, messageId: messageId, errors: errors, record: pseudonymizer.redacted(record)))
        }
        switch kind {
        case .activity:
            switch validateActivity(record, units: { units[$0] }) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let m, let birthDate, let personIdValid, let warnings):
                guard mayReport(index, m.institutionId) else {
                    return rejected([
                        FieldError(
                            field: "institutionId", code: .forbiddenInstitution,
                            message: "the submitter's token may not report for this institution (inbound records: signed with it)")
                    ])
                }
                let (whole, version) = record.canonicalUTF8(alsoWithout: ["messageId", "status"])
                let episode = Episode(m, pseudonym: personIdValid ? m.patient.personId.map(pseudonymizer.keyedHash) : nil, birthDate: birthDate)
                return .activity(
                    PreparedActivity(
                        index: index, record: record, message: m, episode: episode, warnings: warnings,
                        hash: sha256Hex(whole), version: Digest128(sha256Of: version)))
            }
        case .death:
            switch validateDeath(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let r, let birthDate):
                let event = DeathEvent(
                    status: r.status, pseudonym: pseudonymizer.keyedHash(r.personId), deathDate: r.deathDate, sex: r.sex, birthDate: birthDate,
                    municipality: r.municipality)
                return .death(index: index, record: record, messageId: r.messageId, hash: sha256Hex(record.canonicalUTF8), event: event)
            }
        case .population:
            switch validatePopulation(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let c):
                return .population(
                    index: index, record: record, messageId: c.messageId, hash: sha256Hex(record.canonicalUTF8),
                    event: PopulationEvent(year: c.year, municipality: c.municipality, sex: c.sex, age: c.age, count: c.count))
            }
        case .unit:
            switch validateUnit(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let u): return .unit(u)
            }
        }
    }
}
