import EpisodeLinking
// episode-linker: links each patient's episodes into treatment and institution stays
// (indicators.md §1, §3) and publishes a per-patient changelog on npr.stays.
import Foundation
import Kafka
import NPRCore
import ServiceRuntime

/// The linker as the stream runtime drives it: units and activities in, each patient's stay changelog out.
struct LinkerStage: StreamStage {
    var engine = LinkerEngine()

    enum Input: Sendable { case unit(NPRCore.Unit), activity(ActivityEvent) }
    let inputs = StreamInputs<Input>(
        service: "episode-linker",
        [
            Topic.units: { .unit(try $0.decode(NPRCore.Unit.self)) },
            Topic.activities: { .activity(try $0.decode(ActivityEvent.self)) },
        ])

    mutating func restore(from store: StateStore) throws {
        let slots = try StateNamespace.episodeSlots.loadRows(from: store)
        let heads = try StateNamespace.stayHeads.load(from: store)
        let units = try StateNamespace.units.load(from: store)
        engine.restore(
            slots: slots.map { (PatientKey(rawValue: $0.owner), $0.episode, $0.content) },
            heads: heads.map { (PatientKey(rawValue: $0.key), $0.value) }, units: Array(units.values))
    }

    /// Changelogs since the last flush, one per patient (merged in arrival order), and their causes.
    var pending: [PatientKey: StayChangelog] = [:]
    var causes = ProvenanceTracker<PatientKey>()

    mutating func apply(_ input: Input, causes current: Provenance) {
        causes.current = current
        switch input {
        case .unit(let u): for c in engine.apply(unit: u) { note(c) }
        case .activity(let e): if let c = engine.apply(e) { note(c) }
        }
    }

    mutating func note(_ changelog: StayChangelog) {
        pending[changelog.patientKey] = pending[changelog.patientKey].map { $0.merging(changelog) } ?? changelog
        causes.mark(changelog.patientKey)
    }

    var pendingOutputs: Int { pending.count }

    mutating func flush() throws -> StepResult {
        // Only what changed: the episode slots touched and the heads (stays, sequence) that moved.
        let changes = engine.takeStateChanges()
        var rows = try BatchCodec.map(changes.slots) { try StateNamespace.episodeSlots.row(owner: $0.patient.rawValue, episode: $0.episode, $0.slot) }
        rows += try BatchCodec.map(changes.heads) { try StateNamespace.stayHeads.row($0.patient.rawValue, $0.head) }
        rows += try changes.units.map { try StateNamespace.units.row($0.unitId, $0) }
        let changelogs = pending.values.sorted { $0.patientKey < $1.patientKey }
        pending = [:]
        let changelogCauses = changelogs.map { causes.take($0.patientKey) }
        let outputs = try BatchCodec.map(Array(zip(changelogs, changelogCauses))) {
            try OutgoingMessage.json(topic: Topic.stays, key: $0.0.patientKey.rawValue, $0.0, causes: $0.1)
        }
        return StepResult(outputs: outputs, rows: rows)
    }
}

exit(
    await ServiceHost.main(service: "episode-linker") { host in
        host.ensureTopics()
        return [try host.streamProcessor(LinkerStage(), store: try StateStore(path: host.configuration.storePath))]
    })
