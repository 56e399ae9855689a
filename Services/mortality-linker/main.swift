// mortality-linker: five-year TSB cohorts, deaths and population → excess mortality cells
// (indicators.md §2) on npr.cells.
import Foundation
import Kafka
import MortalityLinking
import NPRCore
import ServiceRuntime

extension StateNamespace where Value == PersonMortalityHead {
    /// Each person's death and cohort facts, by pseudonym (none kept for a person without a death).
    static var personHeads: Self { Self("head") }
}

/// The mortality-linker as the stream runtime drives it: activities, deaths and population in, cells out.
struct MortalityStage: StreamStage {
    var engine: MortalityEngine

    init(asOf: LocalDate) { engine = MortalityEngine(asOf: asOf) }

    enum Input: Sendable { case population(PopulationEvent), death(DeathEvent), activity(ActivityEvent) }
    let inputs = StreamInputs<Input>(
        service: "mortality-linker",
        [
            Topic.population: { .population(try $0.decodePopulation()) },
            Topic.deaths: { .death(try $0.decode(DeathEvent.self)) },
            Topic.activities: { .activity(try $0.decode(ActivityEvent.self)) },
        ])

    mutating func restore(from store: StateStore) throws {
        let slots = try StateNamespace.episodeSlots.loadRows(from: store)
        let heads = try StateNamespace.personHeads.load(from: store)
        let population = try StateNamespace.population.load(from: store)
        engine.restore(
            slots: slots.map { ($0.owner, $0.episode, $0.content) }, heads: heads.map { ($0.key, $0.value) },
            population: Array(population.values))
    }

    mutating func apply(_ input: Input, causes: Provenance) {
        switch input {
        case .population(let p): engine.apply(population: p)
        case .death(let d): engine.apply(death: d)
        case .activity(let e): engine.apply(e, causes: causes)
        }
    }

    var pendingOutputs: Int { engine.changedCellEstimate }

    // A consumer of npr.cells that lost input rebuilds from every current cell.
    let republication: Republication? = Republication(topic: Topic.cells, service: "mortality-linker")
    func republish() throws -> [OutgoingMessage] { try OutgoingMessage.cells(engine.allCells) }

    mutating func flush() throws -> StepResult {
        // Only what changed: the episode slots touched and the death registrations (an empty one deletes its row).
        let changes = engine.takeStateChanges()
        var rows = try BatchCodec.map(changes.slots) { try StateNamespace.episodeSlots.row(owner: $0.person, episode: $0.episode, $0.slot) }
        rows += try BatchCodec.map(changes.heads) { try StateNamespace.personHeads.row($0.person, $0.head.death == nil ? nil : $0.head) }
        rows += try BatchCodec.map(changes.population) { try StateNamespace.population.row($0.key, $0) }
        return StepResult(
            outputs: try BatchCodec.map(engine.takeChangedCellsWithCauses()) { try OutgoingMessage.cell($0.update, causes: $0.causes) },
            rows: rows)
    }
}

exit(
    await ServiceHost.main(service: "mortality-linker") { host in
        host.ensureTopics()
        return [try host.streamProcessor(MortalityStage(asOf: host.evaluationDate()), store: try StateStore(path: host.configuration.storePath))]
    })
