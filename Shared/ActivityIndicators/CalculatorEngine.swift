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
        var contributions: [InternedContribution] = []
        var unitIds: Set<String> = []
    }

    private var patients: [PatientKey: PatientEntry] = [:]
    private var units = UnitRegister()
    private var population = PopulationTable()
    private var cellIds = CellInterner()
    /// Totals by cell id; nil where no contribution is left.
    private var totals: [CellTotals?] = []

    private var patientsByUnit: [String: Set<PatientKey>] = [:]
    private var patientsWithOpenEpisodes: Set<PatientKey> = []
    private var cellsByDependency: [CellDependency: Set<CellId>] = [:]

    private var changedCells: Set<CellId> = []
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
        changedCells.formUnion(existingCells)
    }

    // MARK: reading

    /// Absolute content of every cell touched since the last call (cell nil = no contributions left),
    /// ordered by key.
    public mutating func takeChangedCells() -> [CellUpdate] {
        defer { changedCells = [] }
        return changedCells.map { cellIds.keys[Int($0)] }.sorted().map { CellUpdate(key: $0, cell: cell($0)) }
    }

    public func cell(_ key: CellKey) -> Cell? {
        guard let id = cellIds.ids[key], let t = totals(id) else { return nil }
        return CellAssembly.cell(key, totals: t, units: units, population: population, asOf: asOf)
    }

    public var allCells: [CellKey: Cell] {
        var cells: [CellKey: Cell] = [:]
        for id in existingCells {
            let key = cellIds.keys[Int(id)]
            cells[key] = CellAssembly.cell(key, totals: totals[Int(id)]!, units: units, population: population, asOf: asOf)
        }
        return cells
    }

    private var existingCells: [CellId] { totals.indices.filter { totals[$0] != nil }.map { CellId($0) } }

    /// A cell's totals; ids interned without a contribution (yet) have none.
    private func totals(_ id: CellId) -> CellTotals? { Int(id) < totals.count ? totals[Int(id)] : nil }

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
        let previousCells = Set(existingCells.map { cellIds.keys[Int($0)] })
        self = CalculatorEngine(asOf: asOf)
        units = UnitRegister(restoredUnits)
        population = PopulationTable(restoredPopulation)
        for (key, state) in restored {
            patients[key] = PatientEntry(state: state)
            recompute(key)
        }
        for key in previousCells { changedCells.insert(cellIds.id(key)) }
        changedCells.formUnion(existingCells)
    }

    // MARK: incremental core

    private mutating func recompute(_ key: PatientKey) {
        guard var entry = patients[key] else { return }
        let register = units
        let computed = PatientContributions.compute(patient: key, state: entry.state, unit: { register[$0] }, asOf: asOf)
        let fresh = computed.map { InternedContribution(cellIds.id($0.key), $0.value) }.sorted { $0.cell < $1.cell }
        // Merge walk over both id-ordered lists: retract what went or changed, add what came or changed.
        var (i, j) = (0, 0)
        let old = entry.contributions
        while i < old.count || j < fresh.count {
            if j == fresh.count || (i < old.count && old[i].cell < fresh[j].cell) {
                retract(old[i]); i += 1
            } else if i == old.count || fresh[j].cell < old[i].cell {
                add(fresh[j]); j += 1
            } else {
                if old[i] != fresh[j] { retract(old[i]); add(fresh[j]) }
                i += 1; j += 1
            }
        }
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

    private mutating func add(_ c: InternedContribution) {
        let id = c.cell, index = Int(id)
        changedCells.insert(id)
        if index >= totals.count { totals.append(contentsOf: repeatElement(nil, count: index - totals.count + 1)) }
        if totals(id) == nil {
            totals[index] = CellTotals()
            for dependency in CellDependency.of(cellIds.keys[index]) { cellsByDependency[dependency, default: []].insert(id) }
        }
        totals[index]!.add(c.contribution)
    }

    private mutating func retract(_ c: InternedContribution) {
        let id = c.cell, index = Int(id)
        changedCells.insert(id)
        totals[index]!.retract(c.contribution)
        guard totals[index]!.patients == 0 else { return }
        totals[index] = nil
        for dependency in CellDependency.of(cellIds.keys[index]) {
            cellsByDependency[dependency]?.remove(id)
            if cellsByDependency[dependency]?.isEmpty == true { cellsByDependency[dependency] = nil }
        }
    }

    private mutating func markCells(dependingOn dependencies: Set<CellDependency>) {
        for dependency in dependencies { changedCells.formUnion(cellsByDependency[dependency] ?? []) }
    }
}

/// Cells are numbered once per engine, so patients keep their contributions as small id-ordered arrays
/// instead of dictionaries keyed by strings.
typealias CellId = Int32

struct CellInterner: Sendable {
    private(set) var ids: [CellKey: CellId] = [:]
    private(set) var keys: [CellKey] = []

    mutating func id(_ key: CellKey) -> CellId {
        if let id = ids[key] { return id }
        let id = CellId(keys.count)
        ids[key] = id
        keys.append(key)
        return id
    }
}

/// A patient's contribution to one interned cell (12 bytes instead of a dictionary entry keyed by strings).
struct InternedContribution: Hashable, Sendable {
    var cell: CellId
    var numerator: Int32
    var denominator: Int32
    init(_ cell: CellId, _ c: Contribution) { self.cell = cell; numerator = Int32(c.numerator); denominator = Int32(c.denominator) }
    var contribution: Contribution { Contribution(numerator: Int(numerator), denominator: Int(denominator)) }
}
