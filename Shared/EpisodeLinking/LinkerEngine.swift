import NPRCore

/// Everything the episode-linker keeps about one patient bucket (persisted as slot rows plus a head row,
/// see `LinkerEngine.takeStateChanges`).
public struct PatientLinkState: Codable, Sendable, Hashable {
    /// Revision resolution per episode (also remembers annulments, so a late lower revision stays hidden).
    public var slots: [EpisodeKey: EpisodeSlot]
    /// Current treatment and institution stays, in `StayLinker` order.
    public var stays: [Stay]
    /// Sequence of the patient's last changelog (0 before the first).
    public var sequence: Int

    public init(slots: [EpisodeKey: EpisodeSlot] = [:], stays: [Stay] = [], sequence: Int = 0) {
        self.slots = slots
        self.stays = stays
        self.sequence = sequence
    }

    /// The episodes that currently count (highest revision, not annulled), in no particular order.
    public var visibleEpisodes: [Episode] { slots.values.compactMap(\.episode) }

    /// The part that is not per episode.
    public var head: PatientStaysHead {
        get { PatientStaysHead(sequence: sequence, stays: stays) }
        set {
            stays = newValue.stays
            sequence = newValue.sequence
        }
    }
}

/// Rows changed since the last `takeStateChanges`/`takeDirty`: persisting them (latest per key) keeps the
/// store equal to the engine's state.
public struct LinkerStateChanges: Sendable {
    /// Episode slots that changed (only those), ordered by patient, then episode.
    public var slots: [(patient: PatientKey, episode: EpisodeKey, slot: EpisodeSlot)]
    /// Patients whose stays or sequence changed, in patient order.
    public var heads: [(patient: PatientKey, head: PatientStaysHead)]
    public var units: [Unit]
}

/// Pure incremental engine of the episode-linker service: accepted episode versions and unit upserts in,
/// per-patient `StayChangelog`s out. Every event costs work proportional to its own patient's episodes
/// (a unit upsert: to the episodes of the patients with a linkable episode at that unit).
///
/// Downstream an episode is "there" only when it is visible and TSB: a non-TSB episode and a removed
/// one are both published as nil, so changes among non-TSB contents produce no changelog.
public struct LinkerEngine: Sendable {
    public private(set) var units: [String: Unit] = [:]
    private var patients: [PatientKey: PatientLinkState] = [:]
    /// unitId → patients with a visible linkable episode there: the only patients a detox flip can affect.
    private var patientsByUnit: [String: Set<PatientKey>] = [:]
    /// Slots changed since the last take, per patient (the one record of what changed in `slots`).
    private var dirtySlots: [PatientKey: Set<EpisodeKey>] = [:]
    /// Patients whose stays or sequence changed since the last take.
    private var dirtyHeads: Set<PatientKey> = []
    private var dirtyUnits: Set<String> = []

    public init() {}

    public func patient(_ key: PatientKey) -> PatientLinkState? { patients[key] }

    /// Applies one accepted version; returns the patient's changelog, or nil when nothing visible changed
    /// (exact resends and superseded revisions are no-ops).
    public mutating func apply(_ event: ActivityEvent) -> StayChangelog? {
        let key = event.patientKey
        // Taken out of the dictionary while it changes: a second reference would make the first write to
        // `slots` copy the patient's whole history.
        var state = patients.removeValue(forKey: key) ?? PatientLinkState()
        defer { patients[key] = state }
        let previousSlot = state.slots[event.episodeKey]
        var slot = previousSlot ?? .initial(event)
        slot.apply(event)
        guard slot != previousSlot else { return nil }
        // The slot changed (possibly only its revision, e.g. an annulment of an absent episode): persist it.
        state.slots[event.episodeKey] = slot
        dirtySlots[key, default: []].insert(event.episodeKey)

        let before = previousSlot?.episode, after = slot.episode
        reindex(key, state: state, before: before, after: after)
        let published = Self.downstream(after)
        guard Self.downstream(before) != published else {
            // Stays depend only on what downstream sees, so an unchanged projection cannot move them.
            return nil
        }
        // Stays are built from linkable episodes only: when the episode was not linkable before and is
        // not now, the patient's current stays still hold and need no relinking.
        let linkingChanged = before.map(StayLinker.isLinkable) == true || after.map(StayLinker.isLinkable) == true
        return relink(
            key, state: &state, assignments: [EpisodeAssignment(key: event.episodeKey, episode: published)],
            linkingChanged: linkingChanged)
    }

    /// Upserts a unit; relinks only the patients with a linkable episode at that unit and returns their
    /// changelogs (only where stays changed), in patient-key order.
    public mutating func apply(unit: Unit) -> [StayChangelog] {
        let previous = units[unit.unitId]
        guard previous != unit else { return [] }
        units[unit.unitId] = unit
        dirtyUnits.insert(unit.unitId)
        // Only the detox flag of a unit enters linking.
        guard StayLinker.isDetox(previous) != StayLinker.isDetox(unit) else { return [] }
        var changelogs: [StayChangelog] = []
        for key in (patientsByUnit[unit.unitId] ?? []).sorted() {
            guard var state = patients[key] else { continue }
            if let changelog = relink(key, state: &state, assignments: [], linkingChanged: true) {
                patients[key] = state
                changelogs.append(changelog)
            }
        }
        return changelogs
    }

    /// Whole states of the patients touched and the units changed since the last call (of this or of
    /// `takeStateChanges`). Prefer `takeStateChanges`: this re-encodes every episode of a touched patient.
    public mutating func takeDirty() -> (patients: [PatientKey: PatientLinkState], units: [Unit]) {
        let changes = takeStateChanges()
        var dirty: [PatientKey: PatientLinkState] = [:]
        for key in changes.slots.map(\.patient) + changes.heads.map(\.patient) { dirty[key] = patients[key] }
        return (dirty, changes.units)
    }

    /// What changed since the last call (of this or of `takeDirty`), for the service to persist with its
    /// offsets: only the changed slots, the heads of patients whose stays or sequence moved, and the units.
    /// Costs in proportion to what changed.
    public mutating func takeStateChanges() -> LinkerStateChanges {
        var slots: [(patient: PatientKey, episode: EpisodeKey, slot: EpisodeSlot)] = []
        // Rows are large (a whole episode each): one allocation, not a doubling series of copies.
        slots.reserveCapacity(dirtySlots.values.reduce(0) { $0 + $1.count })
        for (key, episodes) in dirtySlots.sorted(by: { $0.key < $1.key }) {
            guard let state = patients[key] else { continue }
            for episode in episodes.sorted() { if let slot = state.slots[episode] { slots.append((key, episode, slot)) } }
        }
        let heads = dirtyHeads.sorted().compactMap { key in patients[key].map { (patient: key, head: $0.head) } }
        let changedUnits = dirtyUnits.sorted().compactMap { units[$0] }
        dirtySlots = [:]
        dirtyHeads = []
        dirtyUnits = []
        return LinkerStateChanges(slots: slots, heads: heads, units: changedUnits)
    }

    /// Rebuilds the engine from persisted rows (indexes are derived, not stored).
    public mutating func restore(patients: [PatientKey: PatientLinkState], units: [Unit]) {
        self = LinkerEngine()
        self.patients = patients
        for unit in units { self.units[unit.unitId] = unit }
        for (key, state) in patients {
            for episode in state.visibleEpisodes where StayLinker.isLinkable(episode) {
                patientsByUnit[episode.unitId, default: []].insert(key)
            }
        }
    }

    /// Rebuilds the engine from the rows `takeStateChanges` produced: every slot row and head row ever
    /// written (latest per key). A patient without a head row never had a changelog (sequence 0, no stays).
    public mutating func restore(
        slots: [(patient: PatientKey, episode: EpisodeKey, slot: EpisodeSlot)],
        heads: [(patient: PatientKey, head: PatientStaysHead)], units: [Unit]
    ) {
        var states: [PatientKey: PatientLinkState] = [:]
        for row in slots { states[row.patient, default: PatientLinkState()].slots[row.episode] = row.slot }
        for row in heads { states[row.patient, default: PatientLinkState()].head = row.head }
        restore(patients: states, units: units)
    }

    // MARK: - Private

    /// What downstream sees of an episode: its content when visible and TSB, else nil.
    private static func downstream(_ episode: Episode?) -> Episode? { episode?.isTSB == true ? episode : nil }

    /// Recomputes the patient's stays (when `linkingChanged`, i.e. a linkable episode or a unit's detox
    /// flag changed; otherwise they stand); when an assignment or the stay set changed, advances the
    /// patient's sequence and returns the changelog.
    private mutating func relink(
        _ key: PatientKey, state: inout PatientLinkState, assignments: [EpisodeAssignment],
        linkingChanged: Bool
    ) -> StayChangelog? {
        var retracted: [String] = [], asserted: [String] = []
        if linkingChanged {
            let units = self.units
            let stays = StayLinker.stays(
                patientKey: key, episodes: state.visibleEpisodes.filter(StayLinker.isLinkable),
                unit: { units[$0] })
            guard !assignments.isEmpty || stays != state.stays else { return nil }
            let previous = Dictionary(uniqueKeysWithValues: state.stays.map { ($0.id, $0) })
            let current = Dictionary(uniqueKeysWithValues: stays.map { ($0.id, $0) })
            retracted = previous.filter { current[$0.key] != $0.value }.keys.sorted()
            asserted = current.filter { previous[$0.key] != $0.value }.keys.sorted()
            state.stays = stays
        }
        state.sequence += 1
        // The only place stays and sequence change, so the only place a head becomes dirty.
        dirtyHeads.insert(key)
        return StayChangelog(
            patientKey: key, sequence: state.sequence, episodes: assignments, stays: state.stays,
            retracted: retracted, asserted: asserted)
    }

    /// Keeps `patientsByUnit` in step when one episode of the patient changed.
    private mutating func reindex(_ key: PatientKey, state: PatientLinkState, before: Episode?, after: Episode?) {
        let unitBefore = before.flatMap(Self.linkableUnit), unitAfter = after.flatMap(Self.linkableUnit)
        guard unitBefore != unitAfter else { return }
        if let unitAfter { patientsByUnit[unitAfter, default: []].insert(key) }
        if let unitBefore, !state.visibleEpisodes.contains(where: { Self.linkableUnit($0) == unitBefore }) {
            patientsByUnit[unitBefore]?.remove(key)
            if patientsByUnit[unitBefore]?.isEmpty == true { patientsByUnit[unitBefore] = nil }
        }
    }

    private static func linkableUnit(_ episode: Episode) -> String? {
        StayLinker.isLinkable(episode) ? episode.unitId : nil
    }
}
