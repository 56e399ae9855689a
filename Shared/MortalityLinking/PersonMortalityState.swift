import NPRCore

/// What the mortality linker keeps about one person (keyed by pseudonym): their episodes resolved by
/// revision and their current death registration. The service persists it; `MortalityEngine.restore`
/// rebuilds every aggregate from it.
public struct PersonMortalityState: Codable, Sendable, Hashable {
    /// Every episode of the person seen so far, at its highest revision. A slot holds content only when
    /// that version qualifies for a cohort (`CohortRules.qualifies`), reduced to the fields the rules read;
    /// any other version is kept as an empty slot at its revision, so older versions arriving late stay
    /// ignored. This matches resolving the full episodes because intake accepts one content per revision.
    public var episodes: [EpisodeKey: EpisodeSlot]
    /// The current death registration: the latest `N`, unless a `C` came after it.
    public var death: DeathEvent?

    public init(episodes: [EpisodeKey: EpisodeSlot] = [:], death: DeathEvent? = nil) {
        self.episodes = episodes
        self.death = death
    }

    /// Nothing left to keep: the service may delete the person's stored state.
    public var isEmpty: Bool { episodes.isEmpty && death == nil }

    /// Applies an event as `CohortRules.reduced` gives it; returns whether the state changed (a slot's
    /// revision or content).
    mutating func apply(reduced: ActivityEvent) -> Bool {
        guard let slot = episodes.index(forKey: reduced.episodeKey) else {
            episodes[reduced.episodeKey] = .initial(reduced)
            return true
        }
        let revision = episodes.values[slot].revision
        let contentChanged = episodes.values[slot].apply(reduced)
        return contentChanged || episodes.values[slot].revision != revision
    }

    /// messages.md §2: per person in arrival order, `N` registers (replacing an earlier registration),
    /// `C` removes the registration. Returns whether the state changed.
    mutating func apply(_ event: DeathEvent) -> Bool {
        let previous = death
        switch event.status {
        case .registration: death = event
        case .annulment: death = nil
        }
        return death != previous
    }

    /// The latest qualifying episode (start, then `institutionId`, then `episodeId`) of each start year,
    /// latest year first: the latest episode within a span of years is the first one in the span.
    /// One pass over the slots that reads their start times in place and copies only the winners.
    var latestQualifyingEpisodePerStartYear: [(year: Int, episode: Episode)] {
        var latest: [(year: Int, start: LocalDateTime, slot: Dictionary<EpisodeKey, EpisodeSlot>.Index)] = []
        var slot = episodes.startIndex
        while slot != episodes.endIndex {
            defer { episodes.formIndex(after: &slot) }
            guard let start = episodes.values[slot].episode?.start else { continue }
            guard let i = latest.firstIndex(where: { $0.year == start.date.year }) else {
                latest.append((start.date.year, start, slot))
                continue
            }
            if latest[i].start < start
                || (latest[i].start == start && episodes.values[latest[i].slot].episode!.key < episodes.values[slot].episode!.key)
            {
                latest[i] = (start.date.year, start, slot)
            }
        }
        return latest.sorted { $0.year > $1.year }.map { ($0.year, episodes.values[$0.slot].episode!) }
    }
}

/// The year-independent part of the cohort definition (indicators.md §2) and the age band shared by the
/// cohort, the population and `D2`.
enum CohortRules {
    static let ages = 15...50
    /// `rightToHealthcare` granted: 1 (old list), 3 and 4.
    static let grantedRights: Set<Int> = [1, 3, 4]
    /// A cohort of year Y looks at episodes starting in Y−5 … Y−1.
    static let lookBackYears = 5

    /// A TSB episode with a granted right, of a person with a pseudonym, with a Norwegian municipality,
    /// at whose start the person was aged 15–50. A number neither 2024 nor a known older one (intake
    /// rejects those) is not a Norwegian municipality.
    static func qualifies(_ episode: Episode) -> Bool {
        guard episode.isTSB, episode.pseudonym != nil,
            let right = episode.rightToHealthcare, grantedRights.contains(right),
            let municipality = episode.municipality, MunicipalityRegister.resolve(municipality).isKnown
        else { return false }
        return ages.contains(episode.birthDate.age(on: episode.start.date))
    }

    /// The statistics years whose cohort window contains an episode starting in `startYear`.
    static func cohortYears(ofEpisodeStartingIn startYear: Int) -> ClosedRange<Int> {
        (startYear + 1)...(startYear + lookBackYears)
    }

    static func cohortWindow(of year: Int) -> ClosedRange<Int> { (year - lookBackYears)...(year - 1) }

    /// The event as the person's slot records it: a qualifying version keeps the fields the rules read;
    /// a non-qualifying version hides the episode at its revision, exactly like an annulment.
    static func reduced(_ event: ActivityEvent) -> ActivityEvent {
        guard event.kind == .version, let e = event.episode, qualifies(e) else {
            return ActivityEvent(
                kind: event.kind == .foreign ? .foreign : .annulment, patientKey: event.patientKey,
                episodeKey: event.episodeKey, revision: event.revision, episode: nil)
        }
        let kept = Episode(
            institutionId: e.institutionId, episodeId: e.episodeId, unitId: e.unitId, sector: e.sector,
            pseudonym: e.pseudonym, sex: e.sex, birthDate: e.birthDate, municipality: e.municipality,
            rightToHealthcare: e.rightToHealthcare, careLevel: e.careLevel, start: e.start, end: nil)
        return ActivityEvent(
            kind: .version, patientKey: event.patientKey, episodeKey: event.episodeKey,
            revision: event.revision, episode: kept)
    }
}
