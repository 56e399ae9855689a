import Foundation
// indicator-calculator: tsb-avbrudd, tsb-nokkeltall and tsb-poliklinikk as running aggregates, from
// the linker's changelog, the unit register and population counts; absolute cells on npr.cells.
import IndicatorCalculation
import Kafka
import NPRCore
import ServiceRuntime
import Synchronization

extension StateNamespace where Value == EpisodeRow<Episode> {
    /// Each patient's current TSB episodes as the linker assigned them, by patient and episode.
    static var episodes: Self { Self("episode") }
}

final class CalculatorHandler: Republishing, @unchecked Sendable {
    // Touched only from the stream thread.
    var engine: CalculatorEngine
    let evaluationDate: @Sendable () -> LocalDate
    var asOf: LocalDate
    let inputTopics = Topic.inputs(of: "indicator-calculator")
    var headerReader = ProvenanceHeaderReader()
    /// The stay end-type rows as of the last flush, for HTTP readers (the engine is the stream thread's).
    let stayEndTypeRows = Mutex<[StayEndTypeRow]>([])

    init(evaluationDate: @escaping @Sendable () -> LocalDate) {
        self.evaluationDate = evaluationDate
        asOf = evaluationDate()
        engine = CalculatorEngine(asOf: asOf)
    }

    func restore(from store: StateStore) throws {
        let episodes = try StateNamespace.episodes.loadRows(from: store)
        let heads = try StateNamespace.stayHeads.load(from: store)
        let units = try StateNamespace.units.load(from: store)
        let population = try StateNamespace.population.load(from: store)
        engine.restore(
            episodes: episodes.map { (PatientKey(rawValue: $0.owner), $0.episode, $0.content) },
            heads: heads.map { (PatientKey(rawValue: $0.key), $0.value) },
            units: Array(units.values), population: Array(population.values))
        let rows = engine.stayEndTypeRows
        stayEndTypeRows.withLock { $0 = rows }
    }

    enum Input: Sendable { case unit(NPRCore.Unit), population(PopulationEvent), changelog(StayChangelog) }

    func decode(_ m: ConsumedMessage) throws -> Input {
        switch m.topic {
        case Topic.units: return .unit(try m.decode(NPRCore.Unit.self))
        case Topic.population: return .population(try m.decodePopulation())
        default: return .changelog(try m.decode(StayChangelog.self))
        }
    }

    func apply(_ input: Input, from m: ConsumedMessage) {
        switch input {
        case .unit(let u): engine.apply(unit: u)
        case .population(let p): engine.apply(population: p)
        case .changelog(let c): engine.apply(c, causes: headerReader.causes(m.headers))
        }
    }

    /// The evaluation date moves on (daily, or as configured): open stays' cells update without input.
    func tick() throws {
        let today = evaluationDate()
        guard today != asOf else { return }
        asOf = today
        engine.setAsOf(today)
    }

    var pendingOutputs: Int { engine.changedCellCount }

    // A consumer of npr.cells that lost input rebuilds from every current cell.
    let republishedTopic = Topic.cells
    let owns = Topic.republishers[Topic.cells]!.first { $0.service == "indicator-calculator" }!.owns
    func republish() throws -> [OutgoingMessage] { try OutgoingMessage.cells(engine.allCells) }

    func flush() throws -> StepResult {
        // Only what changed: the episodes a changelog assigned (nil deletes) and the heads that moved.
        let changes = engine.takeStateChanges()
        var rows = try BatchCodec.map(changes.episodes) { try StateNamespace.episodes.row(owner: $0.patient.rawValue, episode: $0.episode, $0.content) }
        rows += try BatchCodec.map(changes.heads) { try StateNamespace.stayHeads.row($0.patient.rawValue, $0.head) }
        rows += try changes.units.map { try StateNamespace.units.row($0.unitId, $0) }
        rows += try BatchCodec.map(changes.population) { try StateNamespace.population.row($0.key, $0) }
        if let quality = engine.takeStayEndTypeRowsIfChanged() { stayEndTypeRows.withLock { $0 = quality } }
        return StepResult(
            outputs: try BatchCodec.map(engine.takeChangedCellsWithCauses()) { try OutgoingMessage.cell($0.update, causes: $0.causes) },
            rows: rows)
    }
}

let host: ServiceHost
do { host = try ServiceHost.start(service: "indicator-calculator") } catch { exit(ServiceHost.exitStatus(reporting: error, service: "indicator-calculator")) }
host.ensureTopics()
let store = try StateStore(path: host.configuration.storePath)
let evaluationDate: @Sendable () -> LocalDate = { [host] in host.evaluationDate() }
let handler = CalculatorHandler(evaluationDate: evaluationDate)
/// Closed treatment stays without an end type per reporting institution, which the publisher joins to intake's
/// reporting quality at its GET /v1/quality.
host.router.get("/v1/quality/stays") { _, _ in
    json(try JSONCodec.data(handler.stayEndTypeRows.withLock { $0 }))
}
let processor = try StreamProcessor(
    handler: handler, store: store,
    configuration: host.configuration, producer: try host.makeProducer(),
    readiness: host.readiness, logger: host.logger)
exit(await host.run(services: [processor]))
