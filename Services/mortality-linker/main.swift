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

final class MortalityHandler: Republishing, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine: MortalityEngine
    let inputTopics = Topic.inputs(of: "mortality-linker")
    var headerReader = ProvenanceHeaderReader()

    init(asOf: LocalDate) { engine = MortalityEngine(asOf: asOf) }

    func restore(from store: StateStore) throws {
        let slots = try StateNamespace.episodeSlots.loadRows(from: store)
        let heads = try StateNamespace.personHeads.load(from: store)
        let population = try StateNamespace.population.load(from: store)
        engine.restore(
            slots: slots.map { ($0.owner, $0.episode, $0.content) }, heads: heads.map { ($0.key, $0.value) },
            population: Array(population.values))
    }

    enum Input: Sendable { case population(PopulationEvent), death(DeathEvent), activity(ActivityEvent) }

    func decode(_ m: ConsumedMessage) throws -> Input {
        switch m.topic {
        case Topic.population: return .population(try m.decodePopulation())
        case Topic.deaths: return .death(try m.decode(DeathEvent.self))
        default: return .activity(try m.decode(ActivityEvent.self))
        }
    }

    func apply(_ input: Input, from m: ConsumedMessage) {
        switch input {
        case .population(let p): engine.apply(population: p)
        case .death(let d): engine.apply(death: d)
        case .activity(let e): engine.apply(e, causes: headerReader.causes(m.headers))
        }
    }

    var pendingOutputs: Int { engine.changedCellEstimate }

    // A consumer of npr.cells that lost input rebuilds from every current cell.
    let republishedTopic = Topic.cells
    let owns = Topic.republishers[Topic.cells]!.first { $0.service == "mortality-linker" }!.owns
    func republish() throws -> [OutgoingMessage] { try OutgoingMessage.cells(engine.allCells) }

    func flush() throws -> StepResult {
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

let host: ServiceHost
do { host = try ServiceHost.start(service: "mortality-linker") } catch { exit(ServiceHost.exitStatus(reporting: error, service: "mortality-linker")) }
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let processor = try StreamProcessor(
    handler: MortalityHandler(asOf: host.evaluationDate()), store: store,
    configuration: host.configuration, producer: try host.makeProducer(),
    readiness: host.readiness, logger: host.logger)
exit(await host.run(services: [processor]))
