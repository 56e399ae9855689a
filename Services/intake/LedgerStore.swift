import Foundation
import IntakeLedger
import IntakeValidation
import Kafka
import NPRCore
import ServiceRuntime
import Synchronization

extension StateNamespace where Value == EpisodeRoute {
    /// Each episode's revisions and partition route, by institution and episode.
    static var routes: Self { Self("route") }
}
extension StateNamespace where Value == InstitutionQuality {
    /// Each institution's reporting quality, by institution id.
    static var reportingQuality: Self { Self("quality") }
}

/// How the ledger lives in intake's store.
enum LedgerStore {
    /// The hash of each accepted message's content, by `Ledger.messageKey`: one row per message, kept as the
    /// bare hash (not JSON) since there are millions of them.
    static let messageNamespace = "message"

    static func load(from store: StateStore) throws -> LedgerState {
        var state = LedgerState(units: try StateNamespace.units.load(from: store), quality: try StateNamespace.reportingQuality.load(from: store))
        for (key, hash) in try store.rows(namespace: messageNamespace) { state.remember(messageKey: key, contentHash: String(decoding: hash, as: UTF8.self)) }
        for (key, route) in try StateNamespace.routes.load(from: store) {
            // "<institutionId>|<episodeId>": the institution id is nine digits, so the first bar separates them.
            guard let bar = key.firstIndex(of: "|") else { continue }
            state.routes[EpisodeKey(institutionId: String(key[..<bar]), episodeId: String(key[key.index(after: bar)...]))] = route
        }
        return state
    }

    /// The rows a decision's changes write (one per key, the last), the routes encoded on every core.
    static func rows(_ changes: Decision.Changes) throws -> [StateStore.Row] {
        changes.messages.map { StateStore.Row(namespace: messageNamespace, key: $0.0, value: Data($0.1.utf8)) }
            + (try changes.units.map { try StateNamespace.units.row($0.unitId, $0) })
            + (try BatchCodec.map(changes.latestRoutes) { try StateNamespace.routes.row($0.0.description, $0.1) })
            + (try changes.quality.map { try StateNamespace.reportingQuality.row($0.0, $0.1) })
    }
}

extension OutgoingMessage {
    /// One of intake's outputs as a record on its topic.
    init(_ output: IntakeOutput) throws {
        switch output {
        case .activity(let e, let causes): self = try .json(topic: output.topic, key: output.key, e, causes: causes)
        case .death(let e, let causes): self = try .json(topic: output.topic, key: output.key, e, causes: causes)
        case .population(let e, let causes): self = try .json(topic: output.topic, key: output.key, e, causes: causes)
        case .unit(let u, let causes): self = try .json(topic: output.topic, key: output.key, u, causes: causes)
        case .deadLetter(let letter): self = try .json(topic: output.topic, key: output.key, letter)
        }
    }
}

/// The ledger shared by HTTP requests and the inbound stream: validation reads the unit register without
/// holding the lock; decisions and rollbacks take it.
final class SharedLedger: Sendable {
    private let ledger: Mutex<Ledger>
    let pseudonymizer: Pseudonymizer

    init(_ ledger: Ledger) {
        pseudonymizer = ledger.pseudonymizer
        self.ledger = Mutex(ledger)
    }

    func prepare(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], mayReport: @escaping @Sendable (Int, String) -> Bool) throws -> [Prepared] {
        try ledger.withLock { $0.preparer }.prepare(kind: kind, records: records, mayReport: mayReport)
    }

    func decide(kind: RecordKind, prepared: [Prepared], submitter: Submitter) -> Decision {
        ledger.withLock { $0.decide(kind: kind, prepared: prepared, submitter: submitter, arrival: Date()) }
    }

    /// Undoes decisions taken in this order (the newest first).
    func rollback(_ decisions: [Decision]) {
        ledger.withLock { l in for d in decisions.reversed() { l.rollback(d) } }
    }

    func qualityReport() -> [QualityReportRow] { ledger.withLock { $0.qualityReport() } }
}
