import Crypto
import Foundation
import IntakeValidation
import Kafka
import NPRCore
import ServiceRuntime
import Synchronization

/// What intake remembers, in memory and in its store: accepted message ids (with a content hash, for
/// idempotency), per episode the content hash of each accepted revision (revision conflicts) and the
/// buckets the episode was published to (foreign placeholders when a person id changes between
/// revisions), and the unit register (validation).
struct EpisodeRoute: Codable, Sendable, Hashable {
    /// Revision → hash of the non-annulment content accepted at it.
    var revisions: [Int: String] = [:]
    /// Patient bucket → highest revision published to it.
    var buckets: [String: Int] = [:]
}

enum RecordKind: String, Sendable { case activity, death, population, unit }

/// The outcome of deciding one request: records to publish, receipt content, and the ledger changes to
/// persist once the broker has the records (or to undo if it does not).
struct Decision: Sendable {
    /// Per record: the institution it reports for ("register" for deaths, population and units), its
    /// outcome and, when rejected, the error codes — for the per-institution metrics.
    struct Outcome: Sendable { var institution: String; var outcome: String; var codes: [String] = [] }
    var outcomes: [Outcome] = []
    var outputs: [OutgoingMessage] = []
    var rows: [StateStore.Row] = []
    var receipt = Receipt()
    /// Episode routes changed, in order (encoded as rows outside the lock: `allRows`).
    var routes: [(String, EpisodeRoute)] = []
    fileprivate var undoMessages: [(String, String?)] = []
    fileprivate var undoRoutes: [(String, EpisodeRoute?)] = []
    fileprivate var undoUnits: [(String, NPRCore.Unit?)] = []

    /// The state rows to commit: the ledger's own rows and the changed routes (latest per episode), the
    /// routes encoded on every core.
    func allRows() throws -> [StateStore.Row] {
        var latest: [String: Int] = [:]
        for (i, r) in routes.enumerated() { latest[r.0] = i }
        let changed = latest.values.sorted().map { routes[$0] }
        return rows + (try BatchCodec.map(changed) { try StateRows.row("route", $0.0, $0.1) })
    }
}

/// A record rejected before the ledger was consulted (invalid, or not the caller's to report).
struct Rejection: Sendable {
    var index: Int
    var messageId: String? = nil
    var institution: String? = nil
    var errors: [FieldError]
    var redacted: String
}

struct PreparedActivity: Sendable {
    var index: Int
    var record: JSONValue
    var message: ActivityMessage
    var episode: Episode
    var warnings: [Warning]
    var hash: String
    var versionHash: String
}

/// A record after the stateless part of its decision (`Ledger.prepare`).
enum Prepared: Sendable {
    case rejected(Rejection)
    case activity(PreparedActivity)
    case death(index: Int, record: JSONValue, messageId: String, hash: String, event: DeathEvent)
    case population(index: Int, record: JSONValue, messageId: String?, hash: String, event: PopulationEvent)
    case unit(NPRCore.Unit)
}

struct Receipt: Codable, Sendable {
    struct Rejected: Codable, Sendable { var index: Int; var messageId: String?; var errors: [FieldError] }
    struct WarningEntry: Codable, Sendable { var index: Int; var messageId: String?; var field: String; var code: String; var message: String }
    var accepted = 0
    var duplicates = 0
    var rejected: [Rejected] = []
    var warnings: [WarningEntry] = []
}

/// Rejected records for operators, without clear person ids.
struct DeadLetter: Codable, Sendable {
    var source: String
    var kind: String
    var messageId: String?
    var institutionId: String?
    var errors: [FieldError]
    var record: String
}

final class Ledger: @unchecked Sendable {
    private struct State {
        var messages: [String: String] = [:]       // "<kind>|<messageId>" → content hash
        var routes: [String: EpisodeRoute] = [:]   // "<institutionId>|<episodeId>" → route
        var units: [String: NPRCore.Unit] = [:]
    }
    private let state = Mutex(State())
    let pseudonymKey: SymmetricKey

    init(pseudonymKey: SymmetricKey) { self.pseudonymKey = pseudonymKey }

    func restore(from store: StateStore) throws {
        let messages = try store.rows(namespace: "message").reduce(into: [String: String]()) { $0[$1.key] = String(decoding: $1.value, as: UTF8.self) }
        let routes = try StateRows.load(EpisodeRoute.self, namespace: "route", from: store)
        let units = try StateRows.load(NPRCore.Unit.self, namespace: "unit", from: store)
        state.withLock { $0 = State(messages: messages, routes: routes, units: units) }
    }

    func unit(_ id: String) -> NPRCore.Unit? { state.withLock { $0.units[id] } }

    /// HMAC-SHA256(key, personId) in lowercase hex.
    func pseudonym(_ personId: String) -> String {
        lowercaseHex(HMAC<SHA256>.authenticationCode(for: Data(personId.utf8), using: pseudonymKey))
    }

    static func hash(_ v: JSONValue) -> String { digest(v.canonicalUTF8) }

    /// SHA-256 in lowercase hex.
    static func digest(_ bytes: [UInt8]) -> String { lowercaseHex(SHA256.hash(data: bytes)) }

    /// Decides every record of a request (or one inbound Kafka message): `prepare` on every core, then the
    /// ledger decisions in order under the lock. `rollback` undoes the ledger changes if publishing fails.
    func decide(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], source: String,
                mayReport: @escaping @Sendable (String) -> Bool) throws -> Decision {
        decide(kind: kind, prepared: try prepare(kind: kind, records: records, mayReport: mayReport), source: source)
    }

    /// The part of deciding that needs no ledger state, on every core: validation, the content hashes and
    /// the pseudonym. Unit records are validated here but applied in `decide`, in order.
    func prepare(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], mayReport: @escaping @Sendable (String) -> Bool) throws -> [Prepared] {
        let units = state.withLock { $0.units }
        return try BatchCodec.map(Array(records.enumerated())) { [self] (index, parsed) -> Prepared in
            prepare(kind: kind, index: index, parsed, units: units, mayReport: mayReport)
        }
    }

    private func prepare(kind: RecordKind, index: Int, _ parsed: Result<JSONValue, JSONParseError>, units: [String: NPRCore.Unit],
                         mayReport: (String) -> Bool) -> Prepared {
        let record: JSONValue
        switch parsed {
        case .failure(let e): return .rejected(Rejection(index: index, errors: [.invalidJSON(e)], redacted: ""))
        case .success(let r): record = r
        }
        guard case .object = record else { return .rejected(Rejection(index: index, errors: [.notAnObject], redacted: "")) }
        let messageId = record["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
        switch kind {
        case .activity:
            let institution = record["institutionId"].flatMap { if case .string(let v) = $0 { return v } else { return nil } }
            switch validateActivity(record, units: { units[$0] }) {
            case .rejected(let errors):
                return .rejected(Rejection(index: index, messageId: messageId, institution: institution, errors: errors,
                                           redacted: record.redactingPersonIds().canonical))
            case .accepted(let m, let birthDate, let personIdValid, let warnings):
                guard mayReport(m.institutionId) else {
                    return .rejected(Rejection(index: index, messageId: messageId, institution: institution, errors: [
                        FieldError(field: "institutionId", code: .forbiddenInstitution, message: "this token may not report for this institution")],
                        redacted: record.redactingPersonIds().canonical))
                }
                let (whole, version) = record.canonicalUTF8(alsoWithout: ["messageId", "status"])
                let episode = Episode(m, pseudonym: personIdValid ? m.patient.personId.map(pseudonym) : nil, birthDate: birthDate)
                return .activity(PreparedActivity(index: index, record: record, message: m, episode: episode, warnings: warnings,
                                                  hash: Self.digest(whole), versionHash: Self.digest(version)))
            }
        case .death:
            switch validateDeath(record) {
            case .rejected(let errors): return .rejected(Rejection(index: index, messageId: messageId, errors: errors, redacted: record.redactingPersonIds().canonical))
            case .accepted(let r, let birthDate):
                let p = pseudonym(r.personId)
                let event = DeathEvent(status: r.status, pseudonym: p, deathDate: r.deathDate, sex: r.sex, birthDate: birthDate, municipality: r.municipality)
                return .death(index: index, record: record, messageId: r.messageId, hash: Self.hash(record), event: event)
            }
        case .population:
            switch validatePopulation(record) {
            case .rejected(let errors): return .rejected(Rejection(index: index, messageId: messageId, errors: errors, redacted: record.canonical))
            case .accepted(let c):
                return .population(index: index, record: record, messageId: c.messageId, hash: Self.hash(record),
                                   event: PopulationEvent(year: c.year, municipality: c.municipality, sex: c.sex, age: c.age, count: c.count))
            }
        case .unit:
            switch validateUnit(record) {
            case .rejected(let errors): return .rejected(Rejection(index: index, errors: errors, redacted: record.canonical))
            case .accepted(let u): return .unit(u)
            }
        }
    }

    /// The ledger decisions of prepared records, in order, under the lock.
    func decide(kind: RecordKind, prepared: [Prepared], source: String) -> Decision {
        state.withLock { s in
            var d = Decision()
            for p in prepared {
                switch p {
                case .rejected(let r):
                    reject(&d, r.index, r.messageId, r.institution, r.errors, kind, source, redacted: r.redacted)
                case .activity(let a): decideActivity(&s, &d, a, source)
                case .death(let index, let record, let messageId, let hash, let event):
                    decideDeath(&s, &d, index, record, messageId, hash, event, source)
                case .population(let index, let record, let messageId, let hash, let event):
                    decidePopulation(&s, &d, index, record, messageId, hash, event, source)
                case .unit(let u): decideUnit(&s, &d, u)
                }
            }
            return d
        }
    }

    func rollback(_ d: Decision) {
        state.withLock { s in
            for (k, v) in d.undoMessages.reversed() { s.messages[k] = v }
            for (k, v) in d.undoRoutes.reversed() { s.routes[k] = v }
            for (k, v) in d.undoUnits.reversed() { s.units[k] = v }
        }
    }

    private func reject(_ d: inout Decision, _ index: Int, _ messageId: String?, _ institution: String?, _ errors: [FieldError],
                        _ kind: RecordKind, _ source: String, redacted: @autoclosure () -> String) {
        d.receipt.rejected.append(.init(index: index, messageId: messageId, errors: errors))
        d.outcomes.append(.init(institution: institution ?? (kind == .activity ? "unknown" : "register"), outcome: "rejected",
                                codes: errors.map(\.code.rawValue)))
        let letter = DeadLetter(source: source, kind: kind.rawValue, messageId: messageId, institutionId: institution, errors: errors, record: redacted())
        if let m = try? OutgoingMessage.json(topic: Topic.deadLetter, key: institution ?? kind.rawValue, letter) { d.outputs.append(m) }
    }

    private func accept(_ d: inout Decision, institution: String) {
        d.receipt.accepted += 1
        d.outcomes.append(.init(institution: institution, outcome: "accepted"))
    }

    private func duplicate(_ d: inout Decision, institution: String) {
        d.receipt.duplicates += 1
        d.outcomes.append(.init(institution: institution, outcome: "duplicate"))
    }

    /// Idempotency: nil to go on, or true for a duplicate; records a conflict as a rejection.
    private func checkMessage(_ s: inout State, _ kind: RecordKind, _ messageId: String?, _ hash: String) -> Bool? {
        // inout, not a copy of the state: a copy alive while `remember` inserts would copy the whole table.
        guard let messageId else { return nil }
        switch s.messages["\(kind.rawValue)|\(messageId)"] {
        case nil: return nil
        case hash?: return true
        default: return false
        }
    }

    private func remember(_ s: inout State, _ d: inout Decision, _ kind: RecordKind, _ messageId: String, _ hash: String) {
        let k = "\(kind.rawValue)|\(messageId)"
        d.undoMessages.append((k, s.messages[k]))
        s.messages[k] = hash
        d.rows.append(StateStore.Row(namespace: "message", key: k, value: Data(hash.utf8)))
    }

    private func decideActivity(_ s: inout State, _ d: inout Decision, _ a: PreparedActivity, _ source: String) {
        let m = a.message, index = a.index
        var redacted: String { a.record.redactingPersonIds().canonical }
        switch checkMessage(&s, .activity, m.messageId, a.hash) {
        case true?: duplicate(&d, institution: m.institutionId); return
        case false?: reject(&d, index, m.messageId, m.institutionId, [.conflict], .activity, source, redacted: redacted); return
        case nil: break
        }
        let episodeKey = EpisodeKey(institutionId: m.institutionId, episodeId: m.episodeId)
        var route = s.routes[episodeKey.description] ?? EpisodeRoute()
        if m.status != .annulment, let existing = route.revisions[m.revision], existing != a.versionHash {
            reject(&d, index, m.messageId, m.institutionId, [FieldError(field: "revision", code: .revisionConflict,
                message: "a different version of this episode was already accepted at this revision; send a higher revision")],
                .activity, source, redacted: redacted)
            return
        }
        let bucket = a.episode.patientKey
        var events = [ActivityEvent(m.status, revision: m.revision, episode: a.episode)]
        // A version under another pseudonym hides the episode in every other bucket it was in, and a
        // bucket new to the episode learns of the highest revision elsewhere.
        let others = route.buckets.filter { $0.key != bucket.rawValue }
        for (other, _) in others.sorted(by: { $0.key < $1.key }) {
            events.append(ActivityEvent(kind: .foreign, patientKey: PatientKey(rawValue: other), episodeKey: episodeKey, revision: m.revision, episode: nil))
        }
        if route.buckets[bucket.rawValue] == nil, let highest = others.values.max() {
            events.append(ActivityEvent(kind: .foreign, patientKey: bucket, episodeKey: episodeKey, revision: highest, episode: nil))
        }
        for o in others.keys { route.buckets[o] = max(route.buckets[o] ?? 0, m.revision) }
        route.buckets[bucket.rawValue] = max(route.buckets[bucket.rawValue] ?? 0, m.revision)
        if m.status != .annulment { route.revisions[m.revision] = a.versionHash }
        d.undoRoutes.append((episodeKey.description, s.routes[episodeKey.description]))
        s.routes[episodeKey.description] = route
        d.routes.append((episodeKey.description, route))
        remember(&s, &d, .activity, m.messageId, a.hash)
        for e in events { if let o = try? OutgoingMessage.json(topic: Topic.activities, key: e.patientKey.rawValue, e) { d.outputs.append(o) } }
        accept(&d, institution: m.institutionId)
        for w in a.warnings { d.receipt.warnings.append(.init(index: index, messageId: m.messageId, field: w.field, code: w.code.rawValue, message: w.message)) }
    }

    private func decideDeath(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String, _ hash: String,
                             _ event: DeathEvent, _ source: String) {
        switch checkMessage(&s, .death, messageId, hash) {
        case true?: duplicate(&d, institution: "register"); return
        case false?: reject(&d, index, messageId, nil, [.conflict], .death, source, redacted: record.redactingPersonIds().canonical); return
        case nil: break
        }
        if let o = try? OutgoingMessage.json(topic: Topic.deaths, key: event.pseudonym, event) { d.outputs.append(o) }
        remember(&s, &d, .death, messageId, hash)
        accept(&d, institution: "register")
    }

    private func decidePopulation(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?, _ hash: String,
                                  _ event: PopulationEvent, _ source: String) {
        if let id = messageId {
            switch checkMessage(&s, .population, id, hash) {
            case true?: duplicate(&d, institution: "register"); return
            case false?: reject(&d, index, messageId, nil, [.conflict], .population, source, redacted: record.canonical); return
            case nil: break
            }
            remember(&s, &d, .population, id, hash)
        }
        if let o = try? OutgoingMessage.json(topic: Topic.population, key: event.key, event) { d.outputs.append(o) }
        accept(&d, institution: "register")
    }

    /// Unit register upsert (admin only): validated, stored, published compacted by unitId.
    private func decideUnit(_ s: inout State, _ d: inout Decision, _ u: NPRCore.Unit) {
        d.undoUnits.append((u.unitId, s.units[u.unitId]))
        s.units[u.unitId] = u
        if let row = try? StateRows.row("unit", u.unitId, u) { d.rows.append(row) }
        if let o = try? OutgoingMessage.json(topic: Topic.units, key: u.unitId, u) { d.outputs.append(o) }
        accept(&d, institution: "register")
    }
}

/// Lowercase hex of a digest, without a formatted string per byte.
func lowercaseHex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0F)]) }
    return String(decoding: out, as: UTF8.self)
}
