import EpisodeLinking
// episode-linker: links each patient's episodes into treatment and institution stays
// (indicators.md §1, §3) and publishes a per-patient changelog on npr.stays.
import Foundation
import Kafka
import NPRCore
import ServiceRuntime

final class LinkerHandler: StreamHandler, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine = LinkerEngine()
    let inputTopics = Topic.inputs(of: "episode-linker")

    func restore(from store: StateStore) throws {
        let slots = try StateNamespace.episodeSlots.loadRows(from: store)
        let heads = try StateNamespace.stayHeads.load(from: store)
        let units = try StateNamespace.units.load(from: store)
        engine.restore(
            slots: slots.map { (PatientKey(rawValue: $0.owner), $0.episode, $0.content) },
            heads: heads.map { (PatientKey(rawValue: $0.key), $0.value) }, units: Array(units.values))
    }

    enum Input: Sendable { case unit(NPRCore.Unit), activity(ActivityEvent) }

    /// Changelogs since the last flush, one per patient (merged in arrival order), and their causes.
    var pending: [PatientKey: StayChangelog] = [:]
    var causes = ProvenanceTracker<PatientKey>()
    var headerReader = ProvenanceHeaderReader()

    func decode(_ m: ConsumedMessage) throws -> Input {
        m.topic == Topic.units ? .unit(try m.decode(NPRCore.Unit.self)) : .activity(try m.decode(ActivityEvent.self))
    }

    func apply(_ input: Input, from m: ConsumedMessage) {
        causes.current = headerReader.causes(m.headers)
        switch input {
        case .unit(let u): for c in engine.apply(unit: u) { note(c) }
        case .activity(let e): if let c = engine.apply(e) { note(c) }
        }
    }

    func note(_ changelog: StayChangelog) {
        pending[changelog.patientKey] = pending[changelog.patientKey].map { $0.merging(changelog) } ?? changelog
        causes.mark(changelog.patientKey)
    }

    var pendingOutputs: Int { pending.count }

    func flush() throws -> StepResult {
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

let host: ServiceHost
do { host = try ServiceHost.start(service: "episode-linker") } catch { exit(ServiceHost.exitStatus(reporting: error, service: "episode-linker")) }
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let processor = try StreamProcessor(
    handler: LinkerHandler(), store: store, configuration: host.configuration,
    producer: try host.makeProducer(), readiness: host.readiness, logger: host.logger)
exit(await host.run(services: [processor]))
