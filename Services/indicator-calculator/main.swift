import Foundation
// indicator-calculator: tsb-avbrudd, tsb-nokkeltall and tsb-poliklinikk as running aggregates, from
// the linker's changelog, the unit register and population counts; absolute cells on npr.cells.
import IndicatorCalculation
import Kafka
import NPRCore
import ServiceRuntime

extension StateNamespace where Value == EpisodeRow<Episode> {
    /// Each patient's current TSB episodes as the linker assigned them, by patient and episode.
    static var episodes: Self { Self("episode") }
}

/// The calculator as the stream runtime drives it: stay changelogs, units and population in, cells out.
struct CalculatorStage: StreamStage {
    var engine: CalculatorEngine
    let evaluationDate: @Sendable () -> LocalDate
    var asOf: LocalDate
    /// The stay end-type rows as of the last flush, for HTTP readers (the engine is the stream thread's).
    let stayEndTypeRows: Snapshot<[StayEndTypeRow]>

    init(evaluationDate: @escaping @Sendable () -> LocalDate, stayEndTypeRows: Snapshot<[StayEndTypeRow]>) {
        self.evaluationDate = evaluationDate
        self.stayEndTypeRows = stayEndTypeRows
        asOf = evaluationDate()
        engine = CalculatorEngine(asOf: asOf)
    }

    enum Input: Sendable { case unit(NPRCore.Unit), population(PopulationEvent), changelog(StayChangelog) }
    let inputs = StreamInputs<Input>(
        service: "indicator-calculator",
        [
            Topic.units: { .unit(try $0.decode(NPRCore.Unit.self)) },
            Topic.population: { .population(try $0.decodePopulation()) },
            Topic.stays: { .changelog(try $0.decode(StayChangelog.self)) },
        ])

    mutating func restore(from store: StateStore) throws {
        let episodes = try StateNamespace.episodes.loadRows(from: store)
        let heads = try StateNamespace.stayHeads.load(from: store)
        let units = try StateNamespace.units.load(from: store)
        let population = try StateNamespace.population.load(from: store)
        engine.restore(
            episodes: episodes.map { (PatientKey(rawValue: $0.owner), $0.episode, $0.content) },
            heads: heads.map { (PatientKey(rawValue: $0.key), $0.value) },
            units: Array(units.values), population: Array(population.values))
        stayEndTypeRows.set(engine.stayEndTypeRows)
    }

    mutating func apply(_ input: Input, causes: Provenance) {
        switch input {
        case .unit(let u): engine.apply(unit: u)
        case .population(let p): engine.apply(population: p)
        case .changelog(let c): engine.apply(c, causes: causes)
        }
    }

    /// The evaluation date moves on (daily, or as configured): open stays' cells update without input.
    mutating func tick() throws {
        let today = evaluationDate()
        guard today != asOf else { return }
        asOf = today
        engine.setAsOf(today)
    }

    var pendingOutputs: Int { engine.changedCellCount }

    // A consumer of npr.cells that lost input rebuilds from every current cell.
    let republication: Republication? = Republication(topic: Topic.cells, service: "indicator-calculator")
    func republish() throws -> [OutgoingMessage] { try OutgoingMessage.cells(engine.allCells) }

    mutating func flush() throws -> StepResult {
        // Only what changed: the episodes a changelog assigned (nil deletes) and the heads that moved.
        let changes = engine.takeStateChanges()
        var rows = try BatchCodec.map(changes.episodes) { try StateNamespace.episodes.row(owner: $0.patient.rawValue, episode: $0.episode, $0.content) }
        rows += try BatchCodec.map(changes.heads) { try StateNamespace.stayHeads.row($0.patient.rawValue, $0.head) }
        rows += try changes.units.map { try StateNamespace.units.row($0.unitId, $0) }
        rows += try BatchCodec.map(changes.population) { try StateNamespace.population.row($0.key, $0) }
        if let quality = engine.takeStayEndTypeRowsIfChanged() { stayEndTypeRows.set(quality) }
        return StepResult(
            outputs: try BatchCodec.map(engine.takeChangedCellsWithCauses()) { try OutgoingMessage.cell($0.update, causes: $0.causes) },
            rows: rows)
    }
}

exit(
    await ServiceHost.main(service: "indicator-calculator") { host in
        host.ensureTopics()
        let stayEndTypeRows = Snapshot<[StayEndTypeRow]>([])
        /// Closed treatment stays without an end type per reporting institution, which the publisher joins to
        /// intake's reporting quality at its GET /v1/quality.
        host.router.get("/v1/quality/stays") { _, _ in json(try JSONCodec.data(stayEndTypeRows.current)) }
        let stage = CalculatorStage(evaluationDate: { [host] in host.evaluationDate() }, stayEndTypeRows: stayEndTypeRows)
        return [try host.streamProcessor(stage, store: try StateStore(path: host.configuration.storePath))]
    })
