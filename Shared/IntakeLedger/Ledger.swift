import Foundation
import IntakeValidation
import NPRCore

/// What intake publishes for one decided record: typed, so the service encodes outside the ledger's lock
/// (on every core) and tests read events, not bytes.
public enum IntakeOutput: Sendable, Equatable {
    case activity(ActivityEvent, causes: Provenance)
    case death(DeathEvent, causes: Provenance)
    case population(PopulationEvent, causes: Provenance)
    case unit(NPRCore.Unit, causes: Provenance)
    case deadLetter(DeadLetter)

    public var topic: String {
        switch self {
        case .activity: Topic.activities
        case .death: Topic.deaths
        case .population: Topic.population
        case .unit: Topic.units
        case .deadLetter: Topic.deadLetter
        }
    }

    /// The record key: the patient bucket, the pseudonym, the population cell, the unit, or the dead letter's reporter.
    public var key: String {
        switch self {
        case .activity(let e, _): e.patientKey.rawValue
        case .death(let e, _): e.pseudonym
        case .population(let e, _): e.key
        case .unit(let u, _): u.unitId
        case .deadLetter(let d): d.reporter ?? ""
        }
    }
}

/// Everything the ledger keeps, and what it persists: accepted message ids with their content hashes
/// (idempotency), each episode's route (revision conflicts, buckets), the unit register (validation) and each
/// institution's reporting quality.
public struct LedgerState: Sendable, Equatable {
    /// `Ledger.messageKey` → content hash, both as `Digest128` (the store keeps them in full).
    public var messages: [Digest128: Digest128] = [:]
    public var routes: [EpisodeKey: EpisodeRoute] = [:]
    public var units: [String: NPRCore.Unit] = [:]
    /// Institution id → reporting quality.
    public var quality: [String: InstitutionQuality] = [:]

    public init(
        messages: [Digest128: Digest128] = [:], routes: [EpisodeKey: EpisodeRoute] = [:], units: [String: NPRCore.Unit] = [:],
        quality: [String: InstitutionQuality] = [:]
    ) {
        self.messages = messages
        self.routes = routes
        self.units = units
        self.quality = quality
    }

    /// This state with `changes` written over it, as a store applies them (last write per key wins).
    public mutating func apply(_ changes: Decision.Changes) {
        for (k, v) in changes.messages { remember(messageKey: k, contentHash: v) }
        for (k, v) in changes.routes { routes[k] = v }
        for u in changes.units { units[u.unitId] = u }
        for (k, v) in changes.quality { quality[k] = v }
    }

    /// Records a message as the store holds it: its full ledger key and content hash (hex).
    public mutating func remember(messageKey: String, contentHash: String) {
        messages[Digest128(sha256Of: messageKey)] = Digest128(hex: contentHash)
    }
}

/// The outcome of deciding one submission: records to publish, the receipt, and the ledger's changes to
/// persist once the broker has the records (or to undo with `Ledger.rollback` if it does not).
public struct Decision: Sendable {
    /// Per record: the institution it reports for ("register" for deaths, population and units), its
    /// outcome and, when rejected, the error codes — for the per-institution metrics.
    public struct Outcome: Sendable, Equatable {
        public var institution: String
        public var outcome: String
        public var codes: [String] = []
    }
    /// What the decision changed in the ledger, in order.
    public struct Changes: Sendable {
        /// Ledger key → content hash (hex), in full.
        public var messages: [(String, String)] = []
        /// Episode routes, every change in order (`latestRoutes` for one per episode).
        public var routes: [(EpisodeKey, EpisodeRoute)] = []
        public var units: [NPRCore.Unit] = []
        /// The reporting quality of each institution the decision touched, as the decision ended.
        public var quality: [(String, InstitutionQuality)] = []

        /// The last route written per episode, in the order of those last writes.
        public var latestRoutes: [(EpisodeKey, EpisodeRoute)] {
            var position: [EpisodeKey: Int] = [:]
            for (i, c) in routes.enumerated() { position[c.0] = i }
            return position.values.sorted().map { routes[$0] }
        }
    }
    public var outcomes: [Outcome] = []
    public var outputs: [IntakeOutput] = []
    public var changes = Changes()
    public var receipt = Receipt()

    var qualityInstitutions: Set<String> = []
    var undoMessages: [(Digest128, Digest128?)] = []
    var undoRoutes: [(EpisodeKey, EpisodeRoute?)] = []
    var undoUnits: [(String, NPRCore.Unit?)] = []
    var undoQuality: [(String, InstitutionQuality?)] = []
}

/// Intake's decisions, pure: idempotency per message id, revision conflicts per episode, the patient buckets
/// an episode is routed to (with foreign placeholders when its person id changes), the unit register and the
/// reporting quality. No I/O: the service persists `Decision.changes`, publishes `Decision.outputs`, and rolls
/// a decision back when either fails.
public struct Ledger: Sendable {
    public private(set) var state: LedgerState
    public let pseudonymizer: Pseudonymizer

    public init(pseudonymizer: Pseudonymizer, restoring state: LedgerState = LedgerState()) {
        self.pseudonymizer = pseudonymizer
        self.state = state
    }

    /// Validation against the unit register as it is now, to run outside the ledger's lock.
    public var preparer: RecordPreparer { RecordPreparer(units: state.units, pseudonymizer: pseudonymizer) }

    public func unit(_ id: String) -> NPRCore.Unit? { state.units[id] }

    /// The data-quality report per institution (suppressed; names from the unit register), by institution id.
    public func qualityReport() -> [QualityReportRow] {
        var names: [String: String] = [:]
        for u in state.units.values where names[u.institutionId] == nil || u.institutionName < names[u.institutionId]! {
            names[u.institutionId] = u.institutionName
        }
        return state.quality.sorted { $0.key < $1.key }.map { QualityReportRow(institutionId: $0.key, institutionName: names[$0.key], quality: $0.value) }
    }

    /// The ledger key of a message id: activities are identified per institution, register messages per
    /// kind (spec: *idempotency scope*).
    public static func messageKey(_ kind: RecordKind, _ messageId: String, institution: String?) -> String {
        institution.map { "\(kind.rawValue)|\($0)|\(messageId)" } ?? "\(kind.rawValue)|\(messageId)"
    }

    /// `messageKey` with its digest, the form the ledger keeps in memory.
    static func ledgerKey(_ kind: RecordKind, _ messageId: String, institution: String?) -> (text: String, digest: Digest128) {
        let text = messageKey(kind, messageId, institution: institution)
        return (text, Digest128(sha256Of: text))
    }

    /// The decisions of prepared records, in order; `arrival` is when they arrived.
    public mutating func decide(kind: RecordKind, prepared: [Prepared], submitter: Submitter, arrival: Date) -> Decision {
        let timestamp = ISO8601DateFormatter().string(from: arrival)
        let arrivalDate = LocalDate(String(timestamp.prefix(10)))!
        var d = Decision()
        for p in prepared {
            switch p {
            case .rejected(let r): reject(&d, r, kind, submitter)
            case .activity(let a): decideActivity(&d, a, submitter, arrival: arrivalDate, at: timestamp)
            case .death(let index, let record, let messageId, let hash, let event):
                decideDeath(&d, index, record, messageId, hash, event, submitter)
            case .population(let index, let record, let messageId, let hash, let event):
                decidePopulation(&d, index, record, messageId, hash, event, submitter)
            case .unit(let u): decideUnit(&d, u)
            }
        }
        d.changes.quality = d.qualityInstitutions.sorted().map { ($0, state.quality[$0]!) }
        return d
    }

    /// Undoes a decision: decisions taken after it must be rolled back first (newest first).
    public mutating func rollback(_ d: Decision) {
        for (k, v) in d.undoMessages.reversed() { state.messages[k] = v }
        for (k, v) in d.undoRoutes.reversed() { state.routes[k] = v }
        for (k, v) in d.undoUnits.reversed() { state.units[k] = v }
        for (k, v) in d.undoQuality.reversed() { state.quality[k] = v }
    }

    /// A rejected record: in the submitter's receipt, counted under the submitter (never under a value
    /// from the record), and on the dead-letter topic redacted.
    private func reject(_ d: inout Decision, _ r: Rejection, _ kind: RecordKind, _ submitter: Submitter) {
        d.receipt.rejected.append(.init(index: r.index, messageId: r.messageId, errors: r.errors))
        d.outcomes.append(.init(institution: submitter.reporter, outcome: "rejected", codes: r.errors.map(\.code.rawValue)))
        d.outputs.append(
            .deadLetter(
                DeadLetter(
                    service: "intake", channel: submitter.channel, kind: kind.rawValue, origin: submitter.origin(of: r.index),
                    messageIdHash: r.messageId.map(pseudonymizer.keyedHash), reporter: submitter.reporter,
                    errors: r.errors.map { .init(field: $0.field, code: $0.code.rawValue, message: $0.message) }, record: r.record)))
    }

    private func accept(_ d: inout Decision, institution: String) {
        d.receipt.accepted += 1
        d.outcomes.append(.init(institution: institution, outcome: "accepted"))
    }

    private func duplicate(_ d: inout Decision, institution: String) {
        d.receipt.duplicates += 1
        d.outcomes.append(.init(institution: institution, outcome: "duplicate"))
    }

    /// Idempotency: true when the message id is new; otherwise the record is answered as a duplicate (same
    /// content) or rejected as a conflict (other content under the same id), and false is returned.
    private func isNew(
        _ d: inout Decision, _ key: Digest128, _ hash: String, institution: String, _ kind: RecordKind, _ submitter: Submitter,
        conflict: @autoclosure () -> Rejection
    ) -> Bool {
        guard let accepted = state.messages[key] else { return true }
        if accepted == Digest128(hex: hash) { duplicate(&d, institution: institution) } else { reject(&d, conflict(), kind, submitter) }
        return false
    }

    /// `key`: the message's ledger key (`messageKey`), with its digest.
    private mutating func remember(_ d: inout Decision, _ key: (text: String, digest: Digest128), _ hash: String) {
        d.undoMessages.append((key.digest, state.messages[key.digest]))
        state.messages[key.digest] = Digest128(hex: hash)
        d.changes.messages.append((key.text, hash))
    }

    private mutating func decideActivity(_ d: inout Decision, _ a: PreparedActivity, _ submitter: Submitter, arrival: LocalDate, at timestamp: String) {
        let m = a.message, index = a.index
        func rejected(_ errors: [FieldError]) -> Rejection {
            Rejection(index: index, messageId: m.messageId, errors: errors, record: pseudonymizer.redacted(a.record))
        }
        let ledgerKey = Self.ledgerKey(.activity, m.messageId, institution: m.institutionId)
        guard isNew(&d, ledgerKey.digest, a.hash, institution: m.institutionId, .activity, submitter, conflict: rejected([.conflict])) else { return }
        let episodeKey = EpisodeKey(institutionId: m.institutionId, episodeId: m.episodeId)
        let routeKey = episodeKey
        let previous = state.routes[routeKey]
        var route = previous ?? EpisodeRoute()
        if m.status != .annulment, let existing = route.revisions[m.revision], existing != a.version {
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
        if m.status != .annulment { route.revisions[m.revision] = a.version }
        // Reporting quality: a route that did not exist is the episode's first message. Changed in place (a copy
        // would copy the institution's delay histogram per record); the undo keeps each institution's state
        // from before the submission once.
        let before = previous.map { $0.quality ?? EpisodeQualityState() }
        if d.qualityInstitutions.insert(m.institutionId).inserted { d.undoQuality.append((m.institutionId, state.quality[m.institutionId])) }
        route.quality = state.quality[m.institutionId, default: InstitutionQuality()].accept(
            status: m.status, revision: m.revision, episode: a.episode, before: before, arrival: arrival, at: timestamp)
        d.undoRoutes.append((routeKey, previous))
        state.routes[routeKey] = route
        d.changes.routes.append((routeKey, route))
        remember(&d, ledgerKey, a.hash)
        let causes = Provenance.activity(m.status, institution: m.institutionId)
        for e in events { d.outputs.append(.activity(e, causes: causes)) }
        accept(&d, institution: m.institutionId)
        for w in a.warnings {
            d.receipt.warnings.append(.init(index: index, messageId: m.messageId, field: w.field, code: w.code.rawValue, message: w.message))
        }
    }

    private mutating func decideDeath(
        _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String, _ hash: String, _ event: DeathEvent, _ submitter: Submitter
    ) {
        let key = Self.ledgerKey(.death, messageId, institution: nil)
        guard
            isNew(
                &d, key.digest, hash, institution: "register", .death, submitter,
                conflict: Rejection(index: index, messageId: messageId, errors: [.conflict], record: pseudonymizer.redacted(record)))
        else { return }
        d.outputs.append(.death(event, causes: Provenance(.init(event.status == .annulment ? .deathAnnulment : .death))))
        remember(&d, key, hash)
        accept(&d, institution: "register")
    }

    private mutating func decidePopulation(
        _ d: inout Decision, _ index: Int, _ record: JSONValue, _ messageId: String?, _ hash: String, _ event: PopulationEvent, _ submitter: Submitter
    ) {
        if let id = messageId {
            let key = Self.ledgerKey(.population, id, institution: nil)
            guard
                isNew(
                    &d, key.digest, hash, institution: "register", .population, submitter,
                    conflict: Rejection(index: index, messageId: id, errors: [.conflict], record: pseudonymizer.redacted(record)))
            else { return }
            remember(&d, key, hash)
        }
        d.outputs.append(.population(event, causes: Provenance(.init(.population))))
        accept(&d, institution: "register")
    }

    /// Unit register upsert (admin only): stored and published compacted by unitId.
    private mutating func decideUnit(_ d: inout Decision, _ u: NPRCore.Unit) {
        d.undoUnits.append((u.unitId, state.units[u.unitId]))
        state.units[u.unitId] = u
        d.changes.units.append(u)
        d.outputs.append(.unit(u, causes: Provenance(.init(.unitRegister))))
        accept(&d, institution: "register")
    }
}
