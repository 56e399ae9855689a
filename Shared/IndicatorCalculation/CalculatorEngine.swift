import NPRCore

/// The incremental indicator calculator for `tsb-avbrudd`, `tsb-nokkeltall` and `tsb-poliklinikk`.
///
/// Per patient bucket it keeps the linker's last state and the contributions computed from it
/// (`PatientContributions`), as the patient's shares of its cells. A changelog retracts the old parts of
/// the sources it changes (episodes, stays, §4 contacts whose year moved) and adds their new parts; the
/// cells whose contribution from the patient changed move their running totals. So an event costs the
/// cells it touches plus a pass over that patient's own data, never the total history. Indexes limit the
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
        /// The patient's part of `stayEndTypes`.
        var stayEndTypes: [String: StayEndTypeCounts] = [:]
    }

    private var patients: [PatientKey: PatientEntry] = [:]
    private var units = UnitRegister()
    private var population = PopulationTable()
    /// Closed treatment stays and those without an end type, per institution: a data-quality figure (not a
    /// published cell) the service serves beside intake's reporting quality.
    private var stayEndTypes = StayEndTypeTally()
    private var cells = CellDirectory()
    /// Totals by cell id; nil where no contribution is left.
    private var totals: [CellTotals?] = []
    /// Scratch space: the difference an event makes to one patient's shares.
    private var accumulator = ContributionAccumulator()

    private var patientsByUnit: [String: Set<PatientKey>] = [:]
    private var patientsWithOpenEpisodes: Set<PatientKey> = []
    private var cellsByDependency: [CellDependency: Set<CellId>] = [:]

    /// Cells touched since the last `takeChangedCells`, as a list and as flags by cell id.
    private var changedCells: [CellId] = []
    /// What caused the changes of the changed cells (`takeChangedCellsWithCauses`).
    private var causes = ProvenanceTracker<CellId>()
    private var isChanged: [Bool] = []
    /// Persisted state changed since the last `takeStateChanges` / `takeDirty`: episodes whose stored content
    /// changed, by patient, and patients whose head (sequence, stays) changed.
    private var dirtyEpisodes: [PatientKey: Set<EpisodeKey>] = [:]
    private var dirtyHeads: Set<PatientKey> = []
    private var dirtyUnits: Set<String> = []
    private var dirtyPopulation: Set<String> = []

    public init(asOf: LocalDate) { self.asOf = asOf }

    // MARK: events

    /// Applies the linker's changelog of one patient; a sequence not above the stored one is a redelivery
    /// and is ignored. `causes`: what the changelog stands for (the cells it touches record them).
    public mutating func apply(_ changelog: StayChangelog, causes changelogCauses: Provenance = Provenance()) {
        causes.current = changelogCauses
        defer { causes.current = Provenance() }
        let key = changelog.patientKey
        guard let index = patients.index(forKey: key) else {
            var entry = PatientEntry(state: PatientCalcState(changelog, after: nil))
            markPersistedChanges(key, before: changelog.episodes.map { ($0.key, nil) }, after: entry.state)
            recompute(key, &entry)
            reindex(key, &entry)
            updateStayEndTypes(&entry)
            patients[key] = entry
            return
        }
        guard changelog.sequence > patients.values[index].state.sequence else { return }
        var entry = takeEntry(at: index)
        // Only the sources the changelog changes are retracted and added again.
        let replaced = ReplacedSources(changelog, in: entry.state)
        entry.state.apply(changelog)
        markPersistedChanges(key, before: replaced.episodes, after: entry.state)
        let register = units
        accumulator.reset()
        entry.years = PatientContributions.accumulateChange(
            patient: key, replaced: replaced, state: entry.state, yearsBefore: entry.years,
            unit: { register[$0] }, asOf: asOf, cells: &cells, into: &accumulator)
        applyAccumulated(to: &entry.shares)
        reindex(key, &entry, after: replaced)
        updateStayEndTypes(&entry)
        patients.values[index] = entry
    }

    public mutating func apply(unit: Unit) {
        causes.current = Provenance(.init(.unitRegister))
        defer { causes.current = Provenance() }
        guard let changedMetadata = units.upsert(unit) else { return }
        dirtyUnits.insert(unit.unitId)
        for patient in patientsByUnit[unit.unitId] ?? [] { recompute(patient) }
        markCells(dependingOn: changedMetadata)
    }

    public mutating func apply(population row: PopulationEvent) {
        causes.current = Provenance(.init(.population))
        defer { causes.current = Provenance() }
        guard let changedTotals = population.upsert(row) else { return }
        dirtyPopulation.insert(row.key)
        markCells(dependingOn: changedTotals)
    }

    /// Moves the evaluation date: recomputes only patients with open inpatient episodes, and reports
    /// every cell, since each carries the evaluation date.
    public mutating func setAsOf(_ date: LocalDate) {
        guard date != asOf else { return }
        causes.current = Provenance(.init(.evaluationDate))
        defer { causes.current = Provenance() }
        asOf = date
        for patient in patientsWithOpenEpisodes { recompute(patient) }
        for id in existingCells { markChanged(id) }
    }

    // MARK: reading

    /// How many cells `takeChangedCells` would return now.
    public var changedCellCount: Int { changedCells.count }

    /// Absolute content of every cell touched since the last call (cell nil = no contributions left),
    /// ordered by key.
    public mutating func takeChangedCells() -> [CellUpdate] { takeChangedCellsWithCauses().map(\.update) }

    /// As `takeChangedCells`, each with the causes of the inputs that touched it since the last call.
    public mutating func takeChangedCellsWithCauses() -> [(update: CellUpdate, causes: Provenance)] {
        defer {
            for id in changedCells { isChanged[Int(id)] = false }
            changedCells = []
        }
        var collected = causes.takeAll()
        // Sorted by each key's string (the order of `CellKey`), built once per cell rather than per comparison.
        let ordered = changedCells.map { (order: cells.keys[Int($0)].string, id: $0) }.sorted { $0.order < $1.order }
        return ordered.map {
            (CellUpdate(key: cells.keys[Int($0.id)], cell: cell(id: $0.id)), collected.removeValue(forKey: $0.id) ?? Provenance())
        }
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

    /// The complete state of every patient whose persisted state changed, units and population rows changed
    /// since the last call (of this or `takeStateChanges`, which share what they report).
    public mutating func takeDirty() -> (patients: [PatientKey: PatientCalcState], units: [Unit], population: [PopulationEvent]) {
        let dirty = takeDirtyKeys()
        var changedPatients: [PatientKey: PatientCalcState] = [:]
        for key in dirty.heads.union(dirty.episodes.keys) { changedPatients[key] = patients[key]?.state }
        return (changedPatients, dirty.units, dirty.population)
    }

    /// What changed in the persisted state since the last call (of this or `takeDirty`): one row per changed
    /// episode and per changed head, so a changelog costs a service the rows it changed, not the patient's
    /// whole state. Ordered by key.
    public mutating func takeStateChanges() -> CalculatorStateChanges {
        let dirty = takeDirtyKeys()
        var episodes: [(patient: PatientKey, episode: EpisodeKey, content: Episode?)] = []
        // Rows are large (a whole episode each): one allocation, not a doubling series of copies.
        episodes.reserveCapacity(dirty.episodes.values.reduce(0) { $0 + $1.count })
        for (patient, keys) in dirty.episodes.sorted(by: { $0.key < $1.key }) {
            let stored = patients[patient]?.state.episodes ?? [:]
            for key in keys.sorted() { episodes.append((patient, key, stored[key])) }
        }
        let heads = dirty.heads.sorted().compactMap { key in patients[key].map { (patient: key, head: $0.state.head) } }
        return CalculatorStateChanges(episodes: episodes, heads: heads, units: dirty.units, population: dirty.population)
    }

    /// Records what a changelog changed in a patient's persisted state: each assigned episode whose stored
    /// content differs from `before`, and the head, whose sequence moves with every applied changelog.
    private mutating func markPersistedChanges(
        _ key: PatientKey, before: [(key: EpisodeKey, episode: Episode?)],
        after state: PatientCalcState
    ) {
        dirtyHeads.insert(key)
        for (episodeKey, old) in before where state.episodes[episodeKey] != old {
            dirtyEpisodes[key, default: []].insert(episodeKey)
        }
    }

    /// The dirty sets, emptied.
    private mutating func takeDirtyKeys() -> (
        episodes: [PatientKey: Set<EpisodeKey>], heads: Set<PatientKey>,
        units: [Unit], population: [PopulationEvent]
    ) {
        defer {
            dirtyEpisodes = [:]
            dirtyHeads = []
            dirtyUnits = []
            dirtyPopulation = []
        }
        return (
            dirtyEpisodes, dirtyHeads,
            dirtyUnits.sorted().compactMap { units[$0] },
            dirtyPopulation.sorted().compactMap { population.rows[$0] }
        )
    }

    /// `restore(patients:units:population:)` from the rows `takeStateChanges` reported (the latest per key).
    /// Episode rows of a patient without a head row (a store that lost it) get sequence 0 and no stays, so
    /// the patient's next changelog replaces them.
    public mutating func restore(
        episodes: [(patient: PatientKey, episode: EpisodeKey, content: Episode)],
        heads: [(patient: PatientKey, head: PatientStaysHead)], units restoredUnits: [Unit],
        population restoredPopulation: [PopulationEvent]
    ) {
        var states: [PatientKey: PatientCalcState] = [:]
        for row in heads { states[row.patient] = PatientCalcState(sequence: row.head.sequence, stays: row.head.stays) }
        for row in episodes { states[row.patient, default: PatientCalcState(sequence: 0)].episodes[row.episode] = row.content }
        restore(patients: states, units: restoredUnits, population: restoredPopulation)
    }

    /// Replaces the whole state (keeping the evaluation date) and re-derives every aggregate from the
    /// patients. Every cell is reported as changed: re-publishing absolute cells is harmless, and it
    /// keeps the output complete whatever order the service persisted state and published cells in.
    public mutating func restore(
        patients restored: [PatientKey: PatientCalcState], units restoredUnits: [Unit],
        population restoredPopulation: [PopulationEvent]
    ) {
        let previousCells = existingCells.map { cells.keys[Int($0)] }
        self = CalculatorEngine(asOf: asOf)
        units = UnitRegister(restoredUnits)
        population = PopulationTable(restoredPopulation)
        for (key, state) in restored {
            var entry = PatientEntry(state: state)
            recompute(key, &entry)
            reindex(key, &entry)
            updateStayEndTypes(&entry)
            patients[key] = entry
        }
        for key in previousCells { markChanged(cells.id(key)) }
        for id in existingCells { markChanged(id) }
    }

    // MARK: incremental core

    /// Recomputes all of a stored patient's contributions (after a register or evaluation-date change).
    private mutating func recompute(_ key: PatientKey) {
        guard let index = patients.index(forKey: key) else { return }
        var entry = takeEntry(at: index)
        recompute(key, &entry)
        patients.values[index] = entry
    }

    private mutating func recompute(_ key: PatientKey, _ entry: inout PatientEntry) {
        let register = units
        accumulator.reset()
        for share in entry.shares { accumulator.subtract(share) }
        entry.years = PatientContributions.accumulate(
            patient: key, state: entry.state, unit: { register[$0] }, asOf: asOf, cells: &cells, into: &accumulator)
        applyAccumulated(to: &entry.shares)
    }

    /// Replaces the patient's part of the per-institution stay end-type figures (they follow its stays and
    /// their last episodes only, not the registers or the evaluation date).
    private mutating func updateStayEndTypes(_ entry: inout PatientEntry) {
        let counts = StayEndTypeCounts.of(entry.state)
        stayEndTypes.replace(entry.stayEndTypes, with: counts)
        entry.stayEndTypes = counts
    }

    /// Closed treatment stays and those without an end type per institution of the last episode, suppressed.
    public var stayEndTypeRows: [StayEndTypeRow] { stayEndTypes.rows }
    /// The same unsuppressed (tests).
    var stayEndTypeTotals: [String: StayEndTypeTally.Totals] { stayEndTypes.institutions }

    /// `stayEndTypeRows` when they changed since the last call (nil otherwise).
    public mutating func takeStayEndTypeRowsIfChanged() -> [StayEndTypeRow]? { stayEndTypes.takeRowsIfChanged() }

    /// Moves a stored entry out, so that it is changed in place rather than copied (its slot holds an
    /// empty entry until it is put back).
    private mutating func takeEntry(at index: [PatientKey: PatientEntry].Index) -> PatientEntry {
        var entry = PatientEntry(state: PatientCalcState(sequence: 0))
        swap(&entry, &patients.values[index])
        return entry
    }

    /// Adds the accumulated difference to a patient's shares, and moves the totals of every cell whose
    /// contribution from the patient changed: retract what went, add what came, replace what changed.
    /// One pass over the shares (sequential, unlike a search per change), then the cells new to the patient.
    private mutating func applyAccumulated(to shares: inout [CellShare]) {
        var emptied = false
        for position in shares.indices {
            guard let change = accumulator.claim(shares[position].cell) else { continue }
            let before = shares[position]
            shares[position].add(change)
            moveTotals(from: before, to: shares[position])
            emptied = emptied || shares[position].isEmpty
        }
        if emptied { shares.removeAll(where: \.isEmpty) }
        var newShares: [CellShare] = []
        for change in accumulator.shares where !change.isEmpty && !accumulator.isClaimed(change.cell) {
            moveTotals(from: CellShare(cell: change.cell), to: change)
            newShares.append(change)
        }
        if !newShares.isEmpty {
            // A new array of exactly the needed size (patients' shares are much of the engine's memory);
            // the sort merges the two sorted runs.
            newShares.sort { $0.cell < $1.cell }
            shares = (shares + newShares).sorted { $0.cell < $1.cell }
        }
    }

    /// Moves a cell's totals by the change of one patient's share of it.
    private mutating func moveTotals(from before: CellShare, to after: CellShare) {
        assert(after.numerator >= 0 && after.denominator >= 0 && after.numeratorMarks >= 0 && after.denominatorMarks >= 0)
        guard after.contribution != before.contribution else { return }
        switch (before.isEmpty, after.isEmpty) {
        case (true, _): add(after)
        case (_, true): retract(before)
        default: replace(before, by: after)
        }
    }

    /// Keeps the indexes by unit and by open episode in step with a patient's changed state. After a
    /// changelog they are recomputed only when what it `replaced` or brought in can move them: most
    /// changelogs add an episode at a unit the patient already uses.
    private mutating func reindex(_ key: PatientKey, _ entry: inout PatientEntry, after replaced: ReplacedSources? = nil) {
        let state = entry.state
        var (unitsMayMove, openMayMove) = (true, true)
        if let replaced {
            let before = replaced.episodes.compactMap(\.episode), after = replaced.episodes.compactMap { state.episodes[$0.key] }
            let unitsBefore = before.map(\.unitId) + replaced.stays.map(\.unitId)
            let unitsAfter = after.map(\.unitId) + state.stays.map(\.unitId)
            // A unit can only come with what came in, and only go with what was replaced.
            unitsMayMove = unitsAfter.contains { !entry.unitIds.contains($0) } || unitsBefore.contains { !unitsAfter.contains($0) }
            openMayMove = (before + after).contains(where: \.isInpatient)
        }
        if unitsMayMove {
            let unitIds = state.unitIds
            if unitIds != entry.unitIds {
                for unitId in entry.unitIds.subtracting(unitIds) {
                    patientsByUnit[unitId]?.remove(key)
                    if patientsByUnit[unitId]?.isEmpty == true { patientsByUnit[unitId] = nil }
                }
                for unitId in unitIds.subtracting(entry.unitIds) { patientsByUnit[unitId, default: []].insert(key) }
                entry.unitIds = unitIds
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
        causes.mark(id)
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

/// What changed in a `CalculatorEngine`'s persisted state since the last `takeStateChanges`.
public struct CalculatorStateChanges: Sendable {
    /// Episodes whose stored content changed since the last call; nil = removed (delete the row).
    public var episodes: [(patient: PatientKey, episode: EpisodeKey, content: Episode?)]
    /// Patients whose sequence or stays changed since the last call.
    public var heads: [(patient: PatientKey, head: PatientStaysHead)]
    public var units: [Unit]
    public var population: [PopulationEvent]
}
