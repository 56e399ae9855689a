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
        /// The patient's shares of its cells, ordered by cell id.
        var shares: [CellShare] = []
        /// The §4 years the shares were computed with.
        var years: [Int: PatientContributions.PoliklinikkYear] = [:]
        var unitIds: Set<String> = []
    }

    private var patients: [PatientKey: PatientEntry] = [:]
    private var units = UnitRegister()
    private var population = PopulationTable()
    private var cells = CellDirectory()
    /// Totals by cell id; nil where no contribution is left.
    private var totals: [CellTotals?] = []
    /// Scratch space of `recompute`.
    private var accumulator = ContributionAccumulator()

    private var patientsByUnit: [String: Set<PatientKey>] = [:]
    private var patientsWithOpenEpisodes: Set<PatientKey> = []
    private var cellsByDependency: [CellDependency: Set<CellId>] = [:]

    /// Cells touched since the last `takeChangedCells`, as a list and as flags by cell id.
    private var changedCells: [CellId] = []
    private var isChanged: [Bool] = []
    private var dirtyPatients: Set<PatientKey> = []
    private var dirtyUnits: Set<String> = []
    private var dirtyPopulation: Set<String> = []

    public init(asOf: LocalDate) { self.asOf = asOf }

    // MARK: events

    /// Applies the linker's changelog of one patient; a sequence not above the stored one is a redelivery
    /// and is ignored.
    public mutating func apply(_ changelog: StayChangelog) {
        let key = changelog.patientKey
        if let index = patients.index(forKey: key) {
            guard changelog.sequence > patients.values[index].state.sequence else { return }
            // Only the sources the changelog changes are retracted and added again.
            let replaced = ReplacedSources(changelog, in: patients.values[index].state)
            patients.values[index].state.apply(changelog)
            let register = units
            accumulator.reset()
            patients.values[index].years = PatientContributions.accumulateChange(
                patient: key, replaced: replaced, state: patients.values[index].state, yearsBefore: patients.values[index].years,
                unit: { register[$0] }, asOf: asOf, cells: &cells, into: &accumulator)
            applyAccumulated(to: index)
            reindex(key, after: replaced)
        } else {
            patients[key] = PatientEntry(state: PatientCalcState(changelog, after: nil))
            recompute(key)
            reindex(key)
        }
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
        for id in existingCells { markChanged(id) }
    }

    // MARK: reading

    /// Absolute content of every cell touched since the last call (cell nil = no contributions left),
    /// ordered by key.
    public mutating func takeChangedCells() -> [CellUpdate] {
        defer {
            for id in changedCells { isChanged[Int(id)] = false }
            changedCells = []
        }
        // Sorted by each key's string (the order of `CellKey`), built once per cell rather than per comparison.
        let ordered = changedCells.map { (order: cells.keys[Int($0)].string, id: $0) }.sorted { $0.order < $1.order }
        return ordered.map { CellUpdate(key: cells.keys[Int($0.id)], cell: cell(id: $0.id)) }
    }

    public func cell(_ key: CellKey) -> Cell? { cells.ids[key].flatMap { cell(id: $0) } }

    private func cell(id: CellId) -> Cell? {
        guard let t = totals(id) else { return nil }
        return CellAssembly.cell(cells.keys[Int(id)], totals: t, units: units, population: population, asOf: asOf)
    }

    public var allCells: [CellKey: Cell] {
        var cells: [CellKey: Cell] = [:]
        for id in existingCells {
            let key = self.cells.keys[Int(id)]
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
        let previousCells = existingCells.map { cells.keys[Int($0)] }
        self = CalculatorEngine(asOf: asOf)
        units = UnitRegister(restoredUnits)
        population = PopulationTable(restoredPopulation)
        for (key, state) in restored {
            patients[key] = PatientEntry(state: state)
            recompute(key)
            reindex(key)
        }
        for key in previousCells { markChanged(cells.id(key)) }
        for id in existingCells { markChanged(id) }
    }

    // MARK: incremental core

    /// Recomputes all of a patient's contributions (after a register or evaluation-date change).
    private mutating func recompute(_ key: PatientKey) {
        guard let index = patients.index(forKey: key) else { return }
        let register = units
        accumulator.reset()
        for share in patients.values[index].shares { accumulator.subtract(share) }
        patients.values[index].years = PatientContributions.accumulate(
            patient: key, state: patients.values[index].state, unit: { register[$0] }, asOf: asOf, cells: &cells, into: &accumulator)
        applyAccumulated(to: index)
    }

    /// Adds the accumulated difference to the patient's shares, and moves the totals of every cell whose
    /// contribution from the patient changed: retract what went, add what came, replace what changed.
    private mutating func applyAccumulated(to index: [PatientKey: PatientEntry].Index) {
        var shares: [CellShare] = []
        swap(&shares, &patients.values[index].shares)   // mutated in place, not copied
        var (newShares, emptied) = ([CellShare](), false)
        for change in accumulator.shares where !change.isEmpty {
            let position = Self.position(of: change.cell, in: shares)
            let found = position < shares.count && shares[position].cell == change.cell
            let before = found ? shares[position] : CellShare(cell: change.cell)
            var after = before
            after.add(change)
            assert(after.numerator >= 0 && after.denominator >= 0 && after.numeratorMarks >= 0 && after.denominatorMarks >= 0)
            if after.contribution != before.contribution {
                switch (before.isEmpty, after.isEmpty) {
                case (true, _): add(after)
                case (_, true): retract(before)
                default: replace(before, by: after)
                }
            }
            if found { shares[position] = after; emptied = emptied || after.isEmpty } else { newShares.append(after) }
        }
        if emptied { shares.removeAll(where: \.isEmpty) }
        if !newShares.isEmpty {
            shares += newShares
            shares.sort { $0.cell < $1.cell }   // two sorted runs (the new ones sorted first): a merge
        }
        swap(&shares, &patients.values[index].shares)
    }

    /// Where `cell` is or would go in `shares` (ordered by cell id).
    private static func position(of cell: CellId, in shares: [CellShare]) -> Int {
        var (low, high) = (0, shares.count)
        while low < high {
            let middle = (low + high) / 2
            if shares[middle].cell < cell { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Keeps the indexes by unit and by open episode in step with a patient's changed state. After a
    /// changelog they are recomputed only when what it `replaced` or brought in can move them: most
    /// changelogs add an episode at a unit the patient already uses.
    private mutating func reindex(_ key: PatientKey, after replaced: ReplacedSources? = nil) {
        guard let index = patients.index(forKey: key) else { return }
        let state = patients.values[index].state
        var (unitsMayMove, openMayMove) = (true, true)
        if let replaced {
            let before = replaced.episodes.compactMap(\.episode), after = replaced.episodes.compactMap { state.episodes[$0.key] }
            let unitsBefore = before.map(\.unitId) + replaced.stays.map(\.unitId)
            let unitsAfter = after.map(\.unitId) + state.stays.map(\.unitId)
            let known = patients.values[index].unitIds
            // A unit can only come with what came in, and only go with what was replaced.
            unitsMayMove = unitsAfter.contains { !known.contains($0) } || unitsBefore.contains { !unitsAfter.contains($0) }
            openMayMove = (before + after).contains(where: \.isInpatient)
        }
        if unitsMayMove {
            let unitIds = state.unitIds, previous = patients.values[index].unitIds
            if unitIds != previous {
                for unitId in previous.subtracting(unitIds) {
                    patientsByUnit[unitId]?.remove(key)
                    if patientsByUnit[unitId]?.isEmpty == true { patientsByUnit[unitId] = nil }
                }
                for unitId in unitIds.subtracting(previous) { patientsByUnit[unitId, default: []].insert(key) }
                patients.values[index].unitIds = unitIds
            }
        }
        if openMayMove {
            if state.dependsOnEvaluationDate { patientsWithOpenEpisodes.insert(key) } else { patientsWithOpenEpisodes.remove(key) }
        }
    }

    private mutating func add(_ c: CellShare) {
        let id = c.cell, index = Int(id)
        markChanged(id)
        if index >= totals.count { totals.append(contentsOf: repeatElement(nil, count: index - totals.count + 1)) }
        if totals[index] == nil {
            totals[index] = CellTotals()
            for dependency in CellDependency.of(cells.keys[index]) { cellsByDependency[dependency, default: []].insert(id) }
        }
        totals[index]!.add(c.contribution)
    }

    private mutating func retract(_ c: CellShare) {
        let id = c.cell, index = Int(id)
        markChanged(id)
        totals[index]!.retract(c.contribution)
        guard totals[index]!.patients == 0 else { return }
        totals[index] = nil
        for dependency in CellDependency.of(cells.keys[index]) {
            cellsByDependency[dependency]?.remove(id)
            if cellsByDependency[dependency]?.isEmpty == true { cellsByDependency[dependency] = nil }
        }
    }

    /// `retract(old)` then `add(new)` for the same cell; the patient stays, so the cell does too.
    private mutating func replace(_ old: CellShare, by new: CellShare) {
        markChanged(new.cell)
        totals[Int(new.cell)]!.retract(old.contribution)
        totals[Int(new.cell)]!.add(new.contribution)
    }

    private mutating func markChanged(_ id: CellId) {
        let index = Int(id)
        if index >= isChanged.count { isChanged.append(contentsOf: repeatElement(false, count: index - isChanged.count + 1)) }
        guard !isChanged[index] else { return }
        isChanged[index] = true
        changedCells.append(id)
    }

    private mutating func markCells(dependingOn dependencies: Set<CellDependency>) {
        for dependency in dependencies { for id in cellsByDependency[dependency] ?? [] { markChanged(id) } }
    }
}
