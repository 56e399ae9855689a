import NPRCore

/// The incremental indicator calculator for `tsb-avbrudd`, `tsb-nokkeltall` and `tsb-poliklinikk`.
///
/// Per patient bucket it keeps the linker's last state and the contributions computed from it
/// (`PatientContributions`); a change retracts the old set and adds the new one to the running cell
/// totals, so every event costs that patient's data plus the cells it touches. Indexes limit the
/// recomputation a reference change needs: unit → patients using it, patients with open inpatient
/// episodes (the only ones an evaluation-date change affects), and cells by what their metadata or
/// rate denominator depends on.
public struct CalculatorEngine: Sendable {
    public private(set) var asOf: LocalDate

    private struct PatientEntry: Sendable {
        var state: PatientCalcState
        var contributions: [CellKey: Contribution] = [:]
        var unitIds: Set<String> = []
    }

    private var patients: [PatientKey: PatientEntry] = [:]
    private var units = UnitRegister()
    private var population = PopulationTable()
    private var totals: [CellKey: CellTotals] = [:]

    private var patientsByUnit: [String: Set<PatientKey>] = [:]
    private var patientsWithOpenEpisodes: Set<PatientKey> = []
    private var cellsByDependency: [CellDependency: Set<CellKey>] = [:]

    private var changedCells: Set<CellKey> = []
    private var dirtyPatients: Set<PatientKey> = []
    private var dirtyUnits: Set<String> = []
    private var dirtyPopulation: Set<String> = []

    public init(asOf: LocalDate) { self.asOf = asOf }

    // MARK: events

    /// Applies the linker's changelog of one patient; a sequence not above the stored one is a redelivery
    /// and is ignored.
    public mutating func apply(_ changelog: StayChangelog) {
        let key = changelog.patientKey
        let previous = patients[key]?.state
        if let previous, changelog.sequence <= previous.sequence { return }
        let state = PatientCalcState(changelog, after: previous)
        if patients[key] == nil { patients[key] = PatientEntry(state: state) } else { patients[key]!.state = state }
        recompute(key)
        dirtyPatients.insert(key)
    }

    public mutating func apply(unit: Unit) {
        guard let changedMetadata = units.upsert(unit) else { return }
        dirtyUnits.insert(unit.unitId)
        for patient in patientsByUnit[unit.unitId] ?? [] { recompute(patient) }
        markCells(dependingOn: changedMetadata)
    }

    public mutating func apply(population row: PopulationEvent) {
        guard let changedTotals = population.upsert(row) else { return }
        dirtyPopulation.insert(row.key)
        markCells(dependingOn: changedTotals)
    }

    /// Moves the evaluation date: recomputes only patients with open inpatient episodes, and reports
    /// every cell, since each carries the evaluation date.
    public mutating func setAsOf(_ date: LocalDate) {
        guard date != asOf else { return }
        asOf = date
        for patient in patientsWithOpenEpisodes { recompute(patient) }
        changedCells.formUnion(totals.keys)
    }

    // MARK: reading

    /// Absolute content of every cell touched since the last call (cell nil = no contributions left),
    /// ordered by key.
    public mutating func takeChangedCells() -> [CellUpdate] {
        defer { changedCells = [] }
        return changedCells.sorted().map { CellUpdate(key: $0, cell: cell($0)) }
    }

    public func cell(_ key: CellKey) -> Cell? {
        totals[key].map { CellAssembly.cell(key, totals: $0, units: units, population: population, asOf: asOf) }
    }

    public var allCells: [CellKey: Cell] {
        Dictionary(uniqueKeysWithValues: totals.map { key, t in
            (key, CellAssembly.cell(key, totals: t, units: units, population: population, asOf: asOf))
        })
    }

    // MARK: persistence

    /// Per-patient state, units and population rows changed since the last call.
    public mutating func takeDirty() -> (patients: [PatientKey: PatientCalcState], units: [Unit], population: [PopulationEvent]) {
        defer { dirtyPatients = []; dirtyUnits = []; dirtyPopulation = [] }
        var changedPatients: [PatientKey: PatientCalcState] = [:]
        for key in dirtyPatients { changedPatients[key] = patients[key]?.state }
        return (changedPatients,
                dirtyUnits.sorted().compactMap { units[$0] },
                dirtyPopulation.sorted().compactMap { population.rows[$0] })
    }

    /// Replaces the whole state (keeping the evaluation date) and re-derives every aggregate from the
    /// patients. Every cell is reported as changed: re-publishing absolute cells is harmless, and it
    /// keeps the output complete whatever order the service persisted state and published cells in.
    public mutating func restore(patients restored: [PatientKey: PatientCalcState], units restoredUnits: [Unit],
                                 population restoredPopulation: [PopulationEvent]) {
        let previousCells = Set(totals.keys)
        self = CalculatorEngine(asOf: asOf)
        units = UnitRegister(restoredUnits)
        population = PopulationTable(restoredPopulation)
        for (key, state) in restored {
            patients[key] = PatientEntry(state: state)
            recompute(key)
        }
        changedCells = previousCells.union(totals.keys)
    }

    // MARK: incremental core

    private mutating func recompute(_ key: PatientKey) {
        guard var entry = patients[key] else { return }
        let fresh = PatientContributions.compute(patient: key, state: entry.state, unit: { units[$0] }, asOf: asOf)
        for (cell, old) in entry.contributions where fresh[cell] != old { retract(old, from: cell) }
        for (cell, new) in fresh where entry.contributions[cell] != new { add(new, to: cell) }
        entry.contributions = fresh

        let unitIds = entry.state.unitIds
        for unitId in entry.unitIds.subtracting(unitIds) {
            patientsByUnit[unitId]?.remove(key)
            if patientsByUnit[unitId]?.isEmpty == true { patientsByUnit[unitId] = nil }
        }
        for unitId in unitIds.subtracting(entry.unitIds) { patientsByUnit[unitId, default: []].insert(key) }
        entry.unitIds = unitIds

        if entry.state.dependsOnEvaluationDate { patientsWithOpenEpisodes.insert(key) } else { patientsWithOpenEpisodes.remove(key) }
        patients[key] = entry
    }

    private mutating func add(_ contribution: Contribution, to key: CellKey) {
        changedCells.insert(key)
        if totals[key] == nil {
            for dependency in CellDependency.of(key) { cellsByDependency[dependency, default: []].insert(key) }
        }
        totals[key, default: CellTotals()].add(contribution)
    }

    private mutating func retract(_ contribution: Contribution, from key: CellKey) {
        changedCells.insert(key)
        totals[key]?.retract(contribution)
        guard totals[key]?.patients == 0 else { return }
        totals[key] = nil
        for dependency in CellDependency.of(key) {
            cellsByDependency[dependency]?.remove(key)
            if cellsByDependency[dependency]?.isEmpty == true { cellsByDependency[dependency] = nil }
        }
    }

    private mutating func markCells(dependingOn dependencies: Set<CellDependency>) {
        for dependency in dependencies { changedCells.formUnion(cellsByDependency[dependency] ?? []) }
    }
}
