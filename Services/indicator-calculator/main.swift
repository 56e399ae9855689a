// indicator-calculator: tsb-avbrudd, tsb-nokkeltall and tsb-poliklinikk as running aggregates, from
// the linker's changelog, the unit register and population counts; absolute cells on npr.cells.
import ActivityIndicators
import Foundation
import Kafka
import NPRCore
import ServiceRuntime

final class CalculatorHandler: StreamHandler, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine: CalculatorEngine
    let evaluationDate: @Sendable () -> LocalDate
    var asOf: LocalDate
    let inputTopics = [Topic.units, Topic.population, Topic.stays]

    init(evaluationDate: @escaping @Sendable () -> LocalDate) {
        self.evaluationDate = evaluationDate
        asOf = evaluationDate()
        engine = CalculatorEngine(asOf: asOf)
    }

    func restore(from store: StateStore) throws {
        let patients = try StateRows.load(PatientCalcState.self, namespace: "patient", from: store)
        let units = try StateRows.load(NPRCore.Unit.self, namespace: "unit", from: store)
        let population = try StateRows.load(PopulationEvent.self, namespace: "population", from: store)
        engine.restore(patients: Dictionary(uniqueKeysWithValues: patients.map { (PatientKey(rawValue: $0.key), $0.value) }),
                       units: Array(units.values), population: Array(population.values))
    }

    func process(_ batch: [ConsumedMessage]) throws -> StepResult {
        for m in batch {
            switch m.topic {
            case Topic.units: engine.apply(unit: try m.decode(NPRCore.Unit.self))
            case Topic.population: engine.apply(population: try m.decode(PopulationEvent.self))
            default: engine.apply(try m.decode(StayChangelog.self))
            }
        }
        return try step()
    }

    /// The evaluation date moves on (daily, or as configured): open stays' cells update without input.
    func tick() throws -> StepResult {
        let today = evaluationDate()
        guard today != asOf else { return StepResult() }
        asOf = today
        engine.setAsOf(today)
        return try step()
    }

    func step() throws -> StepResult {
        let dirty = engine.takeDirty()
        var rows = try dirty.patients.map { try StateRows.row("patient", $0.key.rawValue, $0.value) }
        rows += try dirty.units.map { try StateRows.row("unit", $0.unitId, $0) }
        rows += try dirty.population.map { try StateRows.row("population", $0.key, $0) }
        return StepResult(outputs: try engine.takeChangedCells().map(OutgoingMessage.cell), rows: rows)
    }
}

let host = ServiceHost.start(service: "indicator-calculator")
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let evaluationDate: @Sendable () -> LocalDate = { [host] in host.evaluationDate() }
let processor = StreamProcessor(handler: CalculatorHandler(evaluationDate: evaluationDate), store: store,
                                configuration: host.configuration, producer: try host.makeProducer(),
                                readiness: host.readiness, logger: host.logger)
await host.run(services: [processor])
