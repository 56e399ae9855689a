// mortality-linker: five-year TSB cohorts, deaths and population → excess mortality cells
// (indicators.md §2) on npr.cells.
import Foundation
import Kafka
import MortalityIndicators
import NPRCore
import ServiceRuntime

final class MortalityHandler: StreamHandler, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine: MortalityEngine
    let inputTopics = [Topic.population, Topic.deaths, Topic.activities]

    init(asOf: LocalDate) { engine = MortalityEngine(asOf: asOf) }

    func restore(from store: StateStore) throws {
        let persons = try StateRows.load(PersonMortalityState.self, namespace: "person", from: store)
        let population = try StateRows.load(PopulationEvent.self, namespace: "population", from: store)
        engine.restore(persons: persons, population: Array(population.values))
    }

    func process(_ batch: [ConsumedMessage]) throws -> StepResult {
        for m in batch {
            switch m.topic {
            case Topic.population: engine.apply(population: try m.decode(PopulationEvent.self))
            case Topic.deaths: engine.apply(death: try m.decode(DeathEvent.self))
            default: engine.apply(try m.decode(ActivityEvent.self))
            }
        }
        let dirty = engine.takeDirty()
        var rows = try dirty.persons.map { try StateRows.row("person", $0.key, $0.value) }
        rows += try dirty.population.map { try StateRows.row("population", $0.key, $0) }
        return StepResult(outputs: try engine.takeChangedCells().map(OutgoingMessage.cell), rows: rows)
    }

    func tick() throws -> StepResult { StepResult() }
}

let host = ServiceHost.start(service: "mortality-linker")
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let processor = StreamProcessor(handler: MortalityHandler(asOf: host.evaluationDate()), store: store,
                                configuration: host.configuration, producer: try host.makeProducer(),
                                readiness: host.readiness, logger: host.logger)
await host.run(services: [processor])
