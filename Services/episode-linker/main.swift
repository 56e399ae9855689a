// episode-linker: links each patient's episodes into treatment and institution stays
// (indicators.md §1, §3) and publishes a per-patient changelog on npr.stays.
import Foundation
import Kafka
import NPRCore
import ServiceRuntime
import StayLinking

final class LinkerHandler: StreamHandler, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine = LinkerEngine()
    let inputTopics = [Topic.units, Topic.activities]

    func restore(from store: StateStore) throws {
        let patients = try StateRows.load(PatientLinkState.self, namespace: "patient", from: store)
        let units = try StateRows.load(NPRCore.Unit.self, namespace: "unit", from: store)
        engine.restore(patients: Dictionary(uniqueKeysWithValues: patients.map { (PatientKey(rawValue: $0.key), $0.value) }),
                       units: Array(units.values))
    }

    func process(_ batch: [ConsumedMessage]) throws -> StepResult {
        var changelogs: [StayChangelog] = []
        for m in batch {
            switch m.topic {
            case Topic.units: changelogs += engine.apply(unit: try m.decode(NPRCore.Unit.self))
            default: if let c = engine.apply(try m.decode(ActivityEvent.self)) { changelogs.append(c) }
            }
        }
        return try step(changelogs)
    }

    func tick() throws -> StepResult { StepResult() }

    func step(_ changelogs: [StayChangelog]) throws -> StepResult {
        let dirty = engine.takeDirty()
        var rows = try dirty.patients.map { try StateRows.row("patient", $0.key.rawValue, $0.value) }
        rows += try dirty.units.map { try StateRows.row("unit", $0.unitId, $0) }
        let outputs = try changelogs.map { try OutgoingMessage.json(topic: Topic.stays, key: $0.patientKey.rawValue, $0) }
        return StepResult(outputs: outputs, rows: rows)
    }
}

let host = ServiceHost.start(service: "episode-linker")
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let processor = StreamProcessor(handler: LinkerHandler(), store: store, configuration: host.configuration,
                                producer: try host.makeProducer(), readiness: host.readiness, logger: host.logger)
await host.run(services: [processor])
