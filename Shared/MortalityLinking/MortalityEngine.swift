import NPRCore

/// The pure core of the mortality linker (`tsb-overdodelighet`, indicators.md §2).
///
/// Every person's data yields one contribution per year it touches (`Contribution.of(_:)`), each adding
/// to (year, unit, sex) aggregates; a change to a person retracts the contributions that changed and adds
/// their replacements, and a population upsert does the same for its count. An event therefore costs
/// only that person's data (one pass over their episodes, no sorting) and the aggregates it touches.
/// Statistics years are the years with population counts; each has cells for national, the four RHFs
/// and the 19 helsefellesskap and all nine measures, even when empty.
/// Aggregates of other years are kept too, so a year's cells are complete the moment its first
/// population count arrives.
///
/// Decisions where the spec is silent:
/// - `N2` = population − cohort persons aged 15–50 on 1 January; it may be ≤ 0 while population counts
///   are missing, and `ExcessMortality.estimate` then gives no value (undefined).
/// - A cohort person with sex 0/9 is subtracted from the total `N2` only, as they count in `N1` totals only.
/// - A cohort member is in no `D2` anywhere, even when the death record's municipality lies in another
///   region; their `D1` counts in the region of their latest qualifying episode.
/// - A municipality number that is neither a 2024 nor a known older number (intake rejects these) makes
///   no cohort episode and no `D2`.
public struct MortalityEngine: Sendable {
    /// Stamped on every cell; the rules themselves do not depend on it.
    public let asOf: LocalDate
    private var persons: [String: PersonMortalityState] = [:]
    private var populationCounts: [String: PopulationEvent] = [:]
    private var tallies: [TallyKey: Tally] = [:]
    private var statisticsYears: Set<Int> = []

    private var changedTallies: Set<TallyKey> = []
    private var newStatisticsYears: Set<Int> = []
    /// What caused the changes of the changed tallies (a new statistics year touches every tally of the year).
    private var tallyCauses = ProvenanceTracker<TallyKey>()
    /// What changed since the last `takeStateChanges()` / `takeDirty()`: slots changed by activity,
    /// persons whose death registration changed, population keys.
    private var dirtySlots: Set<PersonEpisodeKey> = []
    private var dirtyHeads: Set<String> = []
    private var dirtyPopulation: Set<String> = []

    public init(asOf: LocalDate) { self.asOf = asOf }

    /// An episode version, annulment or foreign placeholder. Buckets without a pseudonym are left out:
    /// such episodes belong to no cohort.
    /// `causes`: what the event stands for (the cells it touches record them).
    public mutating func apply(_ event: ActivityEvent, causes: Provenance = Provenance()) {
        setCauses(causes)
        defer { setCauses(Provenance()) }
        guard let pseudonym = event.patientKey.pseudonym else { return }
        let reduced = CohortRules.reduced(event)
        // Contributions read qualifying content only: when the slot holds none and the event brings none,
        // only a revision changes.
        let readsCohortData = { (person: PersonMortalityState) in
            reduced.episode != nil || person.episodes[reduced.episodeKey]?.episode != nil
        }
        // Any stored change counts, compact slots included: their revision must survive a restart.
        if update(pseudonym, readsCohortData: readsCohortData, { $0.apply(reduced: reduced) }) {
            dirtySlots.insert(PersonEpisodeKey(person: pseudonym, episode: reduced.episodeKey))
        }
    }

    public mutating func apply(death: DeathEvent) {
        setCauses(Provenance(.init(death.status == .annulment ? .deathAnnulment : .death)))
        defer { setCauses(Provenance()) }
        if update(death.pseudonym, { $0.apply(death) }) { dirtyHeads.insert(death.pseudonym) }
    }

    /// Upsert keyed by (year, 2024 municipality, sex, age); the year becomes a statistics year.
    public mutating func apply(population: PopulationEvent) {
        setCauses(Provenance(.init(.population)))
        defer { setCauses(Provenance()) }
        upsert(population, markDirty: true)
    }

    private mutating func setCauses(_ causes: Provenance) { tallyCauses.current = causes }

    /// About how many cells `takeChangedCells` would return now (a changed tally is read by up to three measures).
    public var changedCellEstimate: Int { changedTallies.count * 3 + newStatisticsYears.count * MortalityUnit.all.count * MortalityMeasure.all.count }

    /// Absolute content of every cell touched since the last call (all cells of a statistics year when
    /// the year first appears), ordered by key.
    public mutating func takeChangedCells() -> [CellUpdate] { takeChangedCellsWithCauses().map(\.update) }

    /// As `takeChangedCells`, each with the causes of the inputs that touched it since the last call: those of
    /// the one tally it reads.
    public mutating func takeChangedCellsWithCauses() -> [(update: CellUpdate, causes: Provenance)] {
        var keys: [CellKey: Provenance] = [:]
        let byTally = tallyCauses.takeAll()
        func causes(_ year: Int, _ unit: MortalityUnit, _ sex: Sex) -> Provenance { byTally[TallyKey(year: year, unit: unit, sex: sex)] ?? Provenance() }
        for year in newStatisticsYears {
            for unit in MortalityUnit.all {
                for measure in MortalityMeasure.all { keys[measure.key(year: year, unit: unit)] = causes(year, unit, measure.sex) }
            }
        }
        for tally in changedTallies where statisticsYears.contains(tally.year) {
            for measure in MortalityMeasure.reading(tally.sex) {
                keys[measure.key(year: tally.year, unit: tally.unit)] = causes(tally.year, tally.unit, tally.sex)
            }
        }
        newStatisticsYears = []
        changedTallies = []
        // Sorted by each key's string once (comparing keys directly would build both strings per comparison).
        return keys.map { ($0.key.string, $0.key, $0.value) }.sorted { $0.0 < $1.0 }.map { (CellUpdate(key: $0.1, cell: cell($0.1)), $0.2) }
    }

    public func cell(_ key: CellKey) -> Cell? {
        guard key.indicator == .overdodelighet, case .year(let year) = key.period, statisticsYears.contains(year),
            let measure = MortalityMeasure.named(key.measure), measure.sex == key.sex
        else { return nil }
        let unit = MortalityUnit(level: key.level, code: key.unit)
        guard MortalityUnit.known.contains(unit) else { return nil }
        return cell(measure, year: year, unit: unit)
    }

    public var allCells: [CellKey: Cell] {
        var out: [CellKey: Cell] = [:]
        for year in statisticsYears {
            for unit in MortalityUnit.all {
                for measure in MortalityMeasure.all { out[measure.key(year: year, unit: unit)] = cell(measure, year: year, unit: unit) }
            }
        }
        return out
    }

    /// The rows to persist since the last call (of this or `takeDirty`, which share what changed): each
    /// changed slot, each changed death registration and each changed population count. Costs only what
    /// changed, unlike `takeDirty`, which copies every changed person whole.
    public mutating func takeStateChanges() -> MortalityStateChanges {
        // A slot is missing only when `restore(persons:)` replaced its person since; the restored state is
        // already persisted.
        let slots = dirtySlots.sorted().compactMap { key in
            persons[key.person]?.episodes[key.episode].map { (person: key.person, episode: key.episode, slot: $0) }
        }
        let heads = dirtyHeads.sorted().map { (person: $0, head: persons[$0]?.head ?? PersonMortalityHead(death: nil)) }
        let population = dirtyPopulation.sorted().compactMap { populationCounts[$0] }
        dirtySlots = []
        dirtyHeads = []
        dirtyPopulation = []
        return MortalityStateChanges(slots: slots, heads: heads, population: population)
    }

    /// The state to persist since the last call, whole persons: every changed person (an empty state means
    /// the person may be deleted) and every changed population count.
    public mutating func takeDirty() -> (persons: [String: PersonMortalityState], population: [PopulationEvent]) {
        let changes = takeStateChanges()
        var changed: [String: PersonMortalityState] = [:]
        for person in changes.slots.map(\.person) + changes.heads.map(\.person) {
            changed[person] = persons[person] ?? PersonMortalityState()
        }
        return (changed, changes.population)
    }

    /// Rebuilds from persisted rows (the latest per key; a later row of the same key wins), on a fresh
    /// engine or on top of the current one; like `restore(persons:population:)`, nothing restored is
    /// reported dirty but the cells it touches are reported changed. Each person's contributions are
    /// recomputed once, however many of their rows are given.
    public mutating func restore(
        slots: [(person: String, episode: EpisodeKey, slot: EpisodeSlot)],
        heads: [(person: String, head: PersonMortalityHead)], population: [PopulationEvent]
    ) {
        var rows: [String: (slots: [(EpisodeKey, EpisodeSlot)], head: PersonMortalityHead?)] = [:]
        for row in slots { rows[row.person, default: ([], nil)].slots.append((row.episode, row.slot)) }
        for row in heads { rows[row.person, default: ([], nil)].head = row.head }
        for (pseudonym, row) in rows {
            update(pseudonym) { state in
                var changed = false
                for (episode, slot) in row.slots where state.episodes[episode] != slot {
                    state.episodes[episode] = slot
                    changed = true
                }
                if let head = row.head, state.head != head {
                    state.head = head
                    changed = true
                }
                return changed
            }
        }
        for count in population { upsert(count, markDirty: false) }
    }

    /// Loads persisted state (on a fresh engine, or on top of the current one: a given person's state
    /// replaces theirs). Restored data is not reported dirty, as it is already persisted, but the cells it
    /// touches are reported changed: republishing absolute cells is harmless and heals a crash between
    /// persisting state and publishing cells.
    public mutating func restore(persons restored: [String: PersonMortalityState], population: [PopulationEvent]) {
        for (pseudonym, state) in restored {
            update(pseudonym) { current in
                defer { current = state }
                return current != state
            }
        }
        for count in population { upsert(count, markDirty: false) }
    }

    // MARK: - Incremental maintenance

    /// `change` mutates the person's state and returns whether it changed; `readsCohortData` tells
    /// whether it may change the person's contributions (when not, they are not recomputed). Returns
    /// whether the state changed; callers record what is dirty.
    @discardableResult
    private mutating func update(
        _ pseudonym: String,
        readsCohortData: (PersonMortalityState) -> Bool = { _ in true },
        _ change: (inout PersonMortalityState) -> Bool
    ) -> Bool {
        // Changed in place in the dictionary: a copy would make the first write copy the whole history.
        let (changed, contributions, isEmpty) = Self.update(
            &persons[pseudonym, default: PersonMortalityState()],
            readsCohortData: readsCohortData, change)
        if isEmpty { persons[pseudonym] = nil }
        guard changed else { return false }
        apply(contributions)
        return true
    }

    private static func update(
        _ state: inout PersonMortalityState, readsCohortData: (PersonMortalityState) -> Bool,
        _ change: (inout PersonMortalityState) -> Bool
    )
        -> (changed: Bool, contributions: Contributions, isEmpty: Bool)
    {
        guard readsCohortData(state) else { return (change(&state), Contributions(), state.isEmpty) }
        let before = Contribution.of(state)
        guard change(&state) else { return (false, Contributions(), state.isEmpty) }
        return (true, Contributions.change(from: before, to: Contribution.of(state)), state.isEmpty)
    }

    private mutating func upsert(_ count: PopulationEvent, markDirty: Bool) {
        let key = count.key
        let old = populationCounts[key]
        guard old != count else { return }
        populationCounts[key] = count
        if markDirty { dirtyPopulation.insert(key) }
        if statisticsYears.insert(count.year).inserted {
            newStatisticsYears.insert(count.year)
            for unit in MortalityUnit.all { for sex in Sex.allCases { tallyCauses.mark(TallyKey(year: count.year, unit: unit, sex: sex)) } }
        }
        apply(Contributions.change(from: Contribution.of(old), to: Contribution.of(count)))
    }

    /// Adds a change to the aggregates; only aggregates whose parts actually change count as touched.
    private mutating func apply(_ change: Contributions) {
        for (key, delta) in change.tallies where !delta.isZero {
            let total = tallies[key, default: Tally()] + delta
            tallies[key] = total.isZero ? nil : total
            changedTallies.insert(key)
            tallyCauses.mark(key)
        }
    }

    private func cell(_ measure: MortalityMeasure, year: Int, unit: MortalityUnit) -> Cell {
        measure.cell(year: year, unit: unit, tally: tallies[TallyKey(year: year, unit: unit, sex: measure.sex)] ?? Tally(), asOf: asOf)
    }
}
