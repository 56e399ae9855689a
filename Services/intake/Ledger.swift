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
    fileprivate var undoMessages: [(String, String?)] = []
    fileprivate var undoRoutes: [(String, EpisodeRoute?)] = []
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
        HMAC<SHA256>.authenticationCode(for: Data(personId.utf8), using: pseudonymKey).map { String(format: "%02x", $0) }.joined()
    }

    static func hash(_ v: JSONValue) -> String {
        SHA256.hash(data: v.canonicalUTF8).map { String(format: "%02x", $0) }.joined()
    }

    /// Decides every record of a request (or one inbound Kafka message) under the ledger lock and
    /// applies the ledger changes at once; `rollback` undoes them if publishing fails.
    func decide(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], source: String,
                mayReport: (String) -> Bool) -> Decision {
        state.withLock { s in
            var d = Decision()
            for (index, parsed) in records.enumerated() {
                let record: JSONValue
                switch parsed {
                case .failure(let e): reject(&d, index, nil, nil, [.invalidJSON(e)], kind, source, redacted: "")
                    continue
                case .success(let r): record = r
                }
                guard case .object = record else {
                    reject(&d, index, nil, nil, [.notAnObject], kind, source, redacted: ""); continue
                }
                let messageId = record["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
                switch kind {
                case .activity: decideActivity(&s, &d, index, record, messageId, source, mayReport)
                case .death: decideDeath(&s, &d, index, record, messageId, source)
                case .population: decidePopulation(&s, &d, index, record, messageId, source)
                case .unit: decideUnit(&s, &d, index, record, source)
                }
            }
            return d
        }
    }

    func rollback(_ d: Decision) {
        state.withLock { s in
            for (k, v) in d.undoMessages.reversed() { s.messages[k] = v }
            for (k, v) in d.undoRoutes.reversed() { s.routes[k] = v }
        }
    }

    private func reject(_ d: inout Decision, _ index: Int, _ messageId: String?, _ institution: String?, _ errors: [FieldError],
                        _ kind: RecordKind, _ source: String, redacted: String) {
        d.receipt.rejected.append(.init(index: index, messageId: messageId, errors: errors))
        d.outcomes.append(.init(institution: institution ?? (kind == .activity ? "unknown" : "register"), outcome: "rejected",
                                codes: errors.map(\.code.rawValue)))
        let letter = DeadLetter(source: source, kind: kind.rawValue, messageId: messageId, institutionId: institution, errors: errors, record: redacted)
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
    private func checkMessage(_ s: State, _ kind: RecordKind, _ messageId: String?, _ hash: String) -> Bool? {
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

    private func decideActivity(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?,
                                _ source: String, _ mayReport: (String) -> Bool) {
        let institution = record["institutionId"].flatMap { if case .string(let v) = $0 { return v } else { return nil } }
        let redacted = record.redactingPersonIds().canonical
        let units = s.units
        switch validateActivity(record, units: { units[$0] }) {
        case .rejected(let errors):
            reject(&d, index, messageId, institution, errors, .activity, source, redacted: redacted)
        case .accepted(let m, let birthDate, let personIdValid, let warnings):
            guard mayReport(m.institutionId) else {
                reject(&d, index, messageId, institution, [FieldError(field: "institutionId", code: .forbiddenInstitution,
                    message: "this token may not report for this institution")], .activity, source, redacted: redacted)
                return
            }
            let hash = Self.hash(record)
            switch checkMessage(s, .activity, m.messageId, hash) {
            case true?: duplicate(&d, institution: m.institutionId); return
            case false?: reject(&d, index, messageId, institution, [.conflict], .activity, source, redacted: redacted); return
            case nil: break
            }
            let episodeKey = EpisodeKey(institutionId: m.institutionId, episodeId: m.episodeId)
            var route = s.routes[episodeKey.description] ?? EpisodeRoute()
            let versionHash = Self.versionHash(record)
            if m.status != .annulment, let existing = route.revisions[m.revision], existing != versionHash {
                reject(&d, index, messageId, institution, [FieldError(field: "revision", code: .revisionConflict,
                    message: "a different version of this episode was already accepted at this revision; send a higher revision")],
                    .activity, source, redacted: redacted)
                return
            }
            let episode = Episode(m, pseudonym: personIdValid ? m.patient.personId.map(pseudonym) : nil, birthDate: birthDate)
            let bucket = episode.patientKey
            var events = [ActivityEvent(m.status, revision: m.revision, episode: episode)]
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
            if m.status != .annulment { route.revisions[m.revision] = versionHash }
            d.undoRoutes.append((episodeKey.description, s.routes[episodeKey.description]))
            s.routes[episodeKey.description] = route
            if let row = try? StateRows.row("route", episodeKey.description, route) { d.rows.append(row) }
            remember(&s, &d, .activity, m.messageId, hash)
            for e in events { if let o = try? OutgoingMessage.json(topic: Topic.activities, key: e.patientKey.rawValue, e) { d.outputs.append(o) } }
            accept(&d, institution: m.institutionId)
            for w in warnings { d.receipt.warnings.append(.init(index: index, messageId: m.messageId, field: w.field, code: w.code.rawValue, message: w.message)) }
        }
    }

    /// Content of a version without its envelope (message id and status), for revision conflicts.
    static func versionHash(_ record: JSONValue) -> String {
        guard case .object(let o) = record else { return hash(record) }
        return hash(.object(JSONObject(o.members.filter { $0.key != "messageId" && $0.key != "status" })))
    }

    private func decideDeath(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?, _ source: String) {
        let redacted = record.redactingPersonIds().canonical
        switch validateDeath(record) {
        case .rejected(let errors): reject(&d, index, messageId, nil, errors, .death, source, redacted: redacted)
        case .accepted(let r, let birthDate):
            let hash = Self.hash(record)
            switch checkMessage(s, .death, r.messageId, hash) {
            case true?: duplicate(&d, institution: "register"); return
            case false?: reject(&d, index, messageId, nil, [.conflict], .death, source, redacted: redacted); return
            case nil: break
            }
            let p = pseudonym(r.personId)
            let event = DeathEvent(status: r.status, pseudonym: p, deathDate: r.deathDate, sex: r.sex, birthDate: birthDate, municipality: r.municipality)
            if let o = try? OutgoingMessage.json(topic: Topic.deaths, key: p, event) { d.outputs.append(o) }
            remember(&s, &d, .death, r.messageId, hash)
            accept(&d, institution: "register")
        }
    }

    private func decidePopulation(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?, _ source: String) {
        switch validatePopulation(record) {
        case .rejected(let errors): reject(&d, index, messageId, nil, errors, .population, source, redacted: record.canonical)
        case .accepted(let c):
            let hash = Self.hash(record)
            if let id = c.messageId {
                switch checkMessage(s, .population, id, hash) {
                case true?: duplicate(&d, institution: "register"); return
                case false?: reject(&d, index, messageId, nil, [.conflict], .population, source, redacted: record.canonical); return
                case nil: break
                }
                remember(&s, &d, .population, id, hash)
            }
            let event = PopulationEvent(year: c.year, municipality: c.municipality, sex: c.sex, age: c.age, count: c.count)
            if let o = try? OutgoingMessage.json(topic: Topic.population, key: event.key, event) { d.outputs.append(o) }
            accept(&d, institution: "register")
        }
    }

    /// Unit register upsert (admin only): validated, stored, published compacted by unitId.
    private func decideUnit(_ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ source: String) {
        switch validateUnit(record) {
        case .rejected(let errors): reject(&d, index, nil, nil, errors, .unit, source, redacted: record.canonical)
        case .accepted(let u):
            s.units[u.unitId] = u
            if let row = try? StateRows.row("unit", u.unitId, u) { d.rows.append(row) }
            if let o = try? OutgoingMessage.json(topic: Topic.units, key: u.unitId, u) { d.outputs.append(o) }
            accept(&d, institution: "register")
        }
    }
}
