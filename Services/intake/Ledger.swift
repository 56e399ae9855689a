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
    /// What the episode's current version contributes to its institution's reporting quality (nil in routes
    /// stored before it was kept).
    var quality: EpisodeQualityState?
}

/// The route's row, written for every accepted record: by hand (`JSONEncoder` cost intake a tenth of its time
/// here). Dictionaries keep their keys in sorted order, as `JSONEncoder` with sorted keys writes them.
extension EpisodeRoute: JSONWireCodable {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("buckets", entries: buckets.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
            $0.field("quality", quality)
            $0.field("revisions", intKeyed: revisions)
        }
    }
    init(from json: inout JSONReader) throws(JSONWireError) {
        self.init()
        var route = EpisodeRoute()
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "buckets":
                try json.object { (bucket, json) throws(JSONWireError) in route.buckets[bucket.text] = try json.decode() }
            case "quality": route.quality = try json.decodeIfPresent()
            case "revisions": route.revisions = try json.decodeIntKeyed()
            default: try json.skipValue()
            }
        }
        self = route
    }
}

enum RecordKind: String, Sendable { case activity, death, population, unit }

/// The outcome of deciding one request: records to publish, receipt content, and the ledger changes to
/// persist once the broker has the records (or to undo if it does not).
struct Decision: Sendable {
    /// Per record: the institution it reports for ("register" for deaths, population and units), its
    /// outcome and, when rejected, the error codes — for the per-institution metrics.
    struct Outcome: Sendable {
        var institution: String
        var outcome: String
        var codes: [String] = []
    }
    var outcomes: [Outcome] = []
    var outputs: [OutgoingMessage] = []
    var rows: [StateStore.Row] = []
    var receipt = Receipt()
    /// Episode routes changed, in order (encoded as rows outside the lock: `allRows`).
    var routes: [(String, EpisodeRoute)] = []
    /// Institutions' reporting quality changed by this decision (rows: `allRows`), taken as the decision ends.
    var quality: [(String, InstitutionQuality)] = []
    fileprivate var qualityInstitutions: Set<String> = []
    fileprivate var undoMessages: [(String, String?)] = []
    fileprivate var undoRoutes: [(String, EpisodeRoute?)] = []
    fileprivate var undoUnits: [(String, NPRCore.Unit?)] = []
    fileprivate var undoQuality: [(String, InstitutionQuality?)] = []

    /// The state rows to commit: the ledger's own rows and the changed routes (latest per episode), the
    /// routes encoded on every core.
    func allRows() throws -> [StateStore.Row] {
        func latest<T>(_ changes: [(String, T)]) -> [(String, T)] {
            var position: [String: Int] = [:]
            for (i, c) in changes.enumerated() { position[c.0] = i }
            return position.values.sorted().map { changes[$0] }
        }
        return rows + (try BatchCodec.map(latest(routes)) { try StateNamespace.routes.row($0.0, $0.1) })
            + (try latest(quality).map { try StateNamespace.reportingQuality.row($0.0, $0.1) })
    }
}

/// Who submitted a request and how: the dead letters and metrics of rejected records name this, never a
/// value from the rejected record itself (spec: *opaque identifiers*).
struct Submitter: Sendable {
    /// `http`, or `kafka` for npr.activities.inbound.
    var channel: String
    /// From the credentials: the institution a token reports for (several joined by `+`), `admin`, or
    /// `inbound` for the inbound topic.
    var reporter: String
    /// Where each record was read, by its index in the submission (inbound records; empty over HTTP).
    var origins: [DeadLetter.Origin] = []

    init(channel: String, reporter: String, origins: [DeadLetter.Origin] = []) {
        self.channel = channel
        self.reporter = reporter
        self.origins = origins
    }

    func origin(of index: Int) -> DeadLetter.Origin? { origins.indices.contains(index) ? origins[index] : nil }

    /// An HTTP caller: admin tokens report as `admin`, institution tokens as their institutions.
    init(httpCaller institutions: Set<String>) {
        self.init(channel: "http", reporter: institutions.contains("*") ? "admin" : institutions.sorted().joined(separator: "+"))
    }
}

/// A record rejected before the ledger was consulted (invalid, or not the caller's to report).
struct Rejection: Sendable {
    var index: Int
    /// In clear, for the submitter's own receipt only.
    var messageId: String? = nil
    var errors: [FieldError]
    /// For the dead letter: the record redacted (`Ledger.redacted`).
    var record: String?
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
    struct Rejected: Codable, Sendable {
        var index: Int
        var messageId: String?
        var errors: [FieldError]
    }
    struct WarningEntry: Codable, Sendable {
        var index: Int
        var messageId: String?
        var field: String
        var code: String
        var message: String
    }
    var accepted = 0
    var duplicates = 0
    var rejected: [Rejected] = []
    var warnings: [WarningEntry] = []
}

/// The receipt of one record read from npr.activities.inbound, on npr.intake.receipts: identified by where
/// the hospital's producer wrote it (its delivery report names partition and offset) and the keyed hash of
/// its `messageId`, so no clear id travels on a shared topic.
struct InboundReceipt: Codable, Sendable {
    struct Remark: Codable, Sendable {
        var field: String
        var code: String
        var message: String
    }
    var origin: DeadLetter.Origin
    var messageIdHash: String?
    /// `accepted`, `duplicate` or `rejected`.
    var outcome: String
    var errors: [FieldError]
    var warnings: [Remark]
}

extension StateNamespace where Value == EpisodeRoute {
    /// Each episode's revisions and partition route, by institution and episode.
    static var routes: Self { Self("route") }
}
extension StateNamespace where Value == InstitutionQuality {
    /// Each institution's reporting quality, by institution id.
    static var reportingQuality: Self { Self("quality") }
}

final class Ledger: @unchecked Sendable {
    private struct State {
        var messages: [String: String] = [:]  // `messageKey` → content hash
        var routes: [String: EpisodeRoute] = [:]  // "<institutionId>|<episodeId>" → route
        var units: [String: NPRCore.Unit] = [:]
        var quality: [String: InstitutionQuality] = [:]  // institutionId → reporting quality
    }
    private let state = Mutex(State())
    let pseudonymKey: SymmetricKey

    /// The hash of each accepted message's content, by institution and message-id hash: one row per message,
    /// kept as the bare hash (not JSON) since there are millions of them.
    static let messageNamespace = "message"

    init(pseudonymKey: SymmetricKey) { self.pseudonymKey = pseudonymKey }

    func restore(from store: StateStore) throws {
        let messages = try store.rows(namespace: Self.messageNamespace).reduce(into: [String: String]()) {
            $0[$1.key] = String(decoding: $1.value, as: UTF8.self)
        }
        let routes = try StateNamespace.routes.load(from: store)
        let units = try StateNamespace.units.load(from: store)
        let quality = try StateNamespace.reportingQuality.load(from: store)
        state.withLock { $0 = State(messages: messages, routes: routes, units: units, quality: quality) }
    }

    /// The data-quality report per institution (suppressed; names from the unit register), by institution id.
    func qualityReport() -> [QualityReportRow] {
        state.withLock { s in
            var names: [String: String] = [:]
            for u in s.units.values where names[u.institutionId] == nil || u.institutionName < names[u.institutionId]! {
                names[u.institutionId] = u.institutionName
            }
            return s.quality.sorted { $0.key < $1.key }.map { QualityReportRow(institutionId: $0.key, institutionName: names[$0.key], quality: $0.value) }
        }
    }

    func unit(_ id: String) -> NPRCore.Unit? { state.withLock { $0.units[id] } }

    /// HMAC-SHA256(key, text) in lowercase hex: the pseudonym of a person id, and the form in which a
    /// `messageId` leaves intake.
    func keyedHash(_ text: String) -> String {
        lowercaseHex(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: pseudonymKey))
    }

    /// A record as a dead letter may carry it: no clear person id, `messageId` as its keyed hash.
    func redacted(_ record: JSONValue) -> String {
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

    static func hash(_ v: JSONValue) -> String { digest(v.canonicalUTF8) }

    /// SHA-256 in lowercase hex.
    static func digest(_ bytes: [UInt8]) -> String { lowercaseHex(SHA256.hash(data: bytes)) }

    /// The part of deciding that needs no ledger state, on every core: validation, the content hashes and
    /// the pseudonym. Unit records are validated here but applied in `decide`, in order.
    /// `mayReport(index, institutionId)`: whether the submitter of record `index` may report for the institution.
    func prepare(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], mayReport: @escaping @Sendable (Int, String) -> Bool) throws -> [Prepared] {
        let units = state.withLock { $0.units }
        return try BatchCodec.map(Array(records.enumerated())) { [self] (index, parsed) -> Prepared in
            prepare(kind: kind, index: index, parsed, units: units, mayReport: mayReport)
        }
    }

    private func prepare(
        kind: RecordKind, index: Int, _ parsed: Result<JSONValue, JSONParseError>, units: [String: NPRCore.Unit],
        mayReport: (Int, String) -> Bool
    ) -> Prepared {
        let record: JSONValue
        switch parsed {
        case .failure(let e): return .rejected(Rejection(index: index, errors: [.invalidJSON(e)], record: nil))
        case .success(let r): record = r
        }
        guard case .object = record else { return .rejected(Rejection(index: index, errors: [.notAnObject], record: redacted(record))) }
        let messageId = record["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
        func rejected(_ errors: [FieldError]) -> Prepared {
            .rejected(Rejection(index: index, messageId: messageId, errors: errors, record: redacted(record)))
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
                let episode = Episode(m, pseudonym: personIdValid ? m.patient.personId.map(keyedHash) : nil, birthDate: birthDate)
                return .activity(
                    PreparedActivity(
                        index: index, record: record, message: m, episode: episode, warnings: warnings,
                        hash: Self.digest(whole), versionHash: Self.digest(version)))
            }
        case .death:
            switch validateDeath(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let r, let birthDate):
                let p = keyedHash(r.personId)
                let event = DeathEvent(status: r.status, pseudonym: p, deathDate: r.deathDate, sex: r.sex, birthDate: birthDate, municipality: r.municipality)
                return .death(index: index, record: record, messageId: r.messageId, hash: Self.hash(record), event: event)
            }
        case .population:
            switch validatePopulation(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let c):
                return .population(
                    index: index, record: record, messageId: c.messageId, hash: Self.hash(record),
                    event: PopulationEvent(year: c.year, municipality: c.municipality, sex: c.sex, age: c.age, count: c.count))
            }
        case .unit:
            switch validateUnit(record) {
            case .rejected(let errors): return rejected(errors)
            case .accepted(let u): return .unit(u)
            }
        }
    }

    /// The ledger decisions of prepared records, in order, under the lock; `arrival` is when they arrived.
    func decide(kind: RecordKind, prepared: [Prepared], submitter: Submitter, arrival: Date = Date()) -> Decision {
        let timestamp = ISO8601DateFormatter().string(from: arrival)
        let arrivalDate = LocalDate(String(timestamp.prefix(10)))!
        return state.withLock { s in
            var d = Decision()
            for p in prepared {
                switch p {
                case .rejected(let r): reject(&d, r, kind, submitter)
                case .activity(let a): decideActivity(&s, &d, a, submitter, arrival: arrivalDate, at: timestamp)
                case .death(let index, let record, let messageId, let hash, let event):
                    decideDeath(&s, &d, index, record, messageId, hash, event, submitter)
                case .population(let index, let record, let messageId, let hash, let event):
                    decidePopulation(&s, &d, index, record, messageId, hash, event, submitter)
                case .unit(let u): decideUnit(&s, &d, u)
                }
            }
            d.quality = d.qualityInstitutions.sorted().map { ($0, s.quality[$0]!) }
            return d
        }
    }

    func rollback(_ d: Decision) {
        state.withLock { s in
            for (k, v) in d.undoMessages.reversed() { s.messages[k] = v }
            for (k, v) in d.undoRoutes.reversed() { s.routes[k] = v }
            for (k, v) in d.undoUnits.reversed() { s.units[k] = v }
            for (k, v) in d.undoQuality.reversed() { s.quality[k] = v }
        }
    }

    /// A rejected record: in the submitter's receipt, counted under the submitter (never under a value
    /// from the record), and on the dead-letter topic redacted.
    private func reject(_ d: inout Decision, _ r: Rejection, _ kind: RecordKind, _ submitter: Submitter) {
        d.receipt.rejected.append(.init(index: r.index, messageId: r.messageId, errors: r.errors))
        d.outcomes.append(.init(institution: submitter.reporter, outcome: "rejected", codes: r.errors.map(\.code.rawValue)))
        let letter = DeadLetter(
            service: "intake", channel: submitter.channel, kind: kind.rawValue, origin: submitter.origin(of: r.index),
            messageIdHash: r.messageId.map(keyedHash), reporter: submitter.reporter,
            errors: r.errors.map { .init(field: $0.field, code: $0.code.rawValue, message: $0.message) }, record: r.record)
        if let m = try? OutgoingMessage.json(topic: Topic.deadLetter, key: submitter.reporter, letter) { d.outputs.append(m) }
    }

    private func accept(_ d: inout Decision, institution: String) {
        d.receipt.accepted += 1
        d.outcomes.append(.init(institution: institution, outcome: "accepted"))
    }

    private func duplicate(_ d: inout Decision, institution: String) {
        d.receipt.duplicates += 1
        d.outcomes.append(.init(institution: institution, outcome: "duplicate"))
    }

    /// The ledger key of a message id: activities are identified per institution, register messages per
    /// kind (spec: *idempotency scope*).
    private func messageKey(_ kind: RecordKind, _ messageId: String, institution: String?) -> String {
        institution.map { "\(kind.rawValue)|\($0)|\(messageId)" } ?? "\(kind.rawValue)|\(messageId)"
    }

    /// Idempotency: nil to go on, or true for a duplicate, false for a conflict.
    private func checkMessage(_ s: inout State, _ key: String, _ hash: String) -> Bool? {
        // inout, not a copy of the state: a copy alive while `remember` inserts would copy the whole table.
        switch s.messages[key] {
        case nil: return nil
        case hash?: return true
        default: return false
        }
    }

    private func remember(_ s: inout State, _ d: inout Decision, _ k: String, _ hash: String) {
        d.undoMessages.append((k, s.messages[k]))
        s.messages[k] = hash
        d.rows.append(StateStore.Row(namespace: Self.messageNamespace, key: k, value: Data(hash.utf8)))
    }

    private func decideActivity(
        _ s: inout State, _ d: inout Decision, _ a: PreparedActivity, _ submitter: Submitter,
        arrival: LocalDate, at timestamp: String
    ) {
        let m = a.message, index = a.index
        func rejected(_ errors: [FieldError]) -> Rejection {
            Rejection(index: index, messageId: m.messageId, errors: errors, record: redacted(a.record))
        }
        let ledgerKey = messageKey(.activity, m.messageId, institution: m.institutionId)
        switch checkMessage(&s, ledgerKey, a.hash) {
        case true?:
            duplicate(&d, institution: m.institutionId)
            return
        case false?:
            reject(&d, rejected([.conflict]), .activity, submitter)
            return
        case nil: break
        }
        let episodeKey = EpisodeKey(institutionId: m.institutionId, episodeId: m.episodeId)
        var route = s.routes[episodeKey.description] ?? EpisodeRoute()
        if m.status != .annulment, let existing = route.revisions[m.revision], existing != a.versionHash {
            reject(
                &d,
                rejected([
                    FieldError(
                        field: "revision", code: .revisionConflict,
                        message: "a different version of this episode was already accepted at this revision; send a higher revision")
                ]),
                .activity, submitter)
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
        // Reporting quality: a route that did not exist is the episode's first message. Changed in place (a copy
        // would copy the institution's delay histogram per record); the undo keeps each institution's state
        // from before the request once.
        let before = s.routes[episodeKey.description].map { $0.quality ?? EpisodeQualityState() }
        if d.qualityInstitutions.insert(m.institutionId).inserted { d.undoQuality.append((m.institutionId, s.quality[m.institutionId])) }
        route.quality = s.quality[m.institutionId, default: InstitutionQuality()].accept(
            status: m.status, revision: m.revision, episode: a.episode, before: before, arrival: arrival, at: timestamp)
        d.undoRoutes.append((episodeKey.description, s.routes[episodeKey.description]))
        s.routes[episodeKey.description] = route
        d.routes.append((episodeKey.description, route))
        remember(&s, &d, ledgerKey, a.hash)
        let causes = Provenance.activity(m.status, institution: m.institutionId)
        for e in events {
            if let o = try? OutgoingMessage.json(topic: Topic.activities, key: e.patientKey.rawValue, e, causes: causes) { d.outputs.append(o) }
        }
        accept(&d, institution: m.institutionId)
        for w in a.warnings {
            d.receipt.warnings.append(.init(index: index, messageId: m.messageId, field: w.field, code: w.code.rawValue, message: w.message))
        }
    }

    private func decideDeath(
        _ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String, _ hash: String,
        _ event: DeathEvent, _ submitter: Submitter
    ) {
        let key = messageKey(.death, messageId, institution: nil)
        switch checkMessage(&s, key, hash) {
        case true?:
            duplicate(&d, institution: "register")
            return
        case false?:
            reject(&d, Rejection(index: index, messageId: messageId, errors: [.conflict], record: redacted(record)), .death, submitter)
            return
        case nil: break
        }
        let causes = Provenance(.init(event.status == .annulment ? .deathAnnulment : .death))
        if let o = try? OutgoingMessage.json(topic: Topic.deaths, key: event.pseudonym, event, causes: causes) { d.outputs.append(o) }
        remember(&s, &d, key, hash)
        accept(&d, institution: "register")
    }

    private func decidePopulation(
        _ s: inout State, _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?, _ hash: String,
        _ event: PopulationEvent, _ submitter: Submitter
    ) {
        if let id = messageId {
            let key = messageKey(.population, id, institution: nil)
            switch checkMessage(&s, key, hash) {
            case true?:
                duplicate(&d, institution: "register")
                return
            case false?:
                reject(&d, Rejection(index: index, messageId: id, errors: [.conflict], record: redacted(record)), .population, submitter)
                return
            case nil: break
            }
            remember(&s, &d, key, hash)
        }
        if let o = try? OutgoingMessage.json(topic: Topic.population, key: event.key, event, causes: Provenance(.init(.population))) {
            d.outputs.append(o)
        }
        accept(&d, institution: "register")
    }

    /// Unit register upsert (admin only): validated, stored, published compacted by unitId.
    private func decideUnit(_ s: inout State, _ d: inout Decision, _ u: NPRCore.Unit) {
        d.undoUnits.append((u.unitId, s.units[u.unitId]))
        s.units[u.unitId] = u
        if let row = try? StateNamespace.units.row(u.unitId, u) { d.rows.append(row) }
        if let o = try? OutgoingMessage.json(topic: Topic.units, key: u.unitId, u, causes: Provenance(.init(.unitRegister))) { d.outputs.append(o) }
        accept(&d, institution: "register")
    }
}

/// Lowercase hex of a digest, without a formatted string per byte.
func lowercaseHex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The pseudonym key as configured: 32 bytes or more, written as hex (64+ digits) or base64, surrounding
/// whitespace (a key file's newline) ignored. Text used as it is would make a weak, ambiguous key.
enum PseudonymKey {
    static let minimumBytes = 32

    static func parse(_ text: String, variable: String) throws -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = hexBytes(trimmed) ?? Data(base64Encoded: trimmed).map(Array.init) else {
            throw ConfigurationError(variable: variable, problem: "must be hex or base64 (generate one with `openssl rand -hex 32`)")
        }
        guard bytes.count >= minimumBytes else {
            throw ConfigurationError(variable: variable, problem: "must hold at least \(minimumBytes) bytes, has \(bytes.count)")
        }
        return SymmetricKey(data: bytes)
    }
}

/// The bytes of a hex string (either case), or nil.
func hexBytes(_ s: String) -> [UInt8]? {
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
