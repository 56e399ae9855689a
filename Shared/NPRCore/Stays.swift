/// Stays built by the episode-linker (indicators.md §1 treatment stays, §3 institution stays).
public struct Stay: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable { case treatment, institution }
    /// Stable id: kind + the key of the stay's first episode (earliest start, then key).
    public var id: String
    public var kind: Kind
    public var patientKey: PatientKey
    /// Member episodes, ordered by start then key.
    public var episodes: [EpisodeKey]
    public var start: LocalDateTime
    /// nil while the stay is open (its last episode has no end).
    public var end: LocalDateTime?
    public var lastEpisode: EpisodeKey
    /// End type of the last episode (nil = missing).
    public var endType: Int?
    public var unitId: String
    public var institutionId: String
    public init(
        id: String, kind: Kind, patientKey: PatientKey, episodes: [EpisodeKey], start: LocalDateTime,
        end: LocalDateTime?, lastEpisode: EpisodeKey, endType: Int?, unitId: String, institutionId: String
    ) {
        self.id = id
        self.kind = kind
        self.patientKey = patientKey
        self.episodes = episodes
        self.start = start
        self.end = end
        self.lastEpisode = lastEpisode
        self.endType = endType
        self.unitId = unitId
        self.institutionId = institutionId
    }
    public var isClosed: Bool { end != nil }
}

/// What the episode-linker publishes on `npr.stays`, keyed by patient, after each change to a patient.
///
/// `episodes` assigns the current content of every episode whose content changed (nil = gone).
/// `stays` is the patient's complete current set of stays, so applying a changelog is idempotent and a
/// replay after a crash converges to the same state; `retracted`/`asserted` name the stays that
/// disappeared and the stays that appeared or changed relative to the previous changelog.
public struct StayChangelog: Codable, Sendable, Hashable {
    public var patientKey: PatientKey
    /// Per-patient sequence number, increasing with every changelog of the patient.
    public var sequence: Int
    public var episodes: [EpisodeAssignment]
    public var stays: [Stay]
    public var retracted: [String]
    public var asserted: [String]
    public init(patientKey: PatientKey, sequence: Int, episodes: [EpisodeAssignment], stays: [Stay], retracted: [String], asserted: [String]) {
        self.patientKey = patientKey
        self.sequence = sequence
        self.episodes = episodes
        self.stays = stays
        self.retracted = retracted
        self.asserted = asserted
    }
}

public struct EpisodeAssignment: Codable, Sendable, Hashable {
    public var key: EpisodeKey
    public var episode: Episode?
    public init(key: EpisodeKey, episode: Episode?) {
        self.key = key
        self.episode = episode
    }
}

/// The part of a patient's state that is not per episode, in the linker and in the calculator: the
/// current stays and the sequence of the last changelog. A service persists it as one small row beside
/// one row per episode, so that an event re-encodes only what it changed.
public struct PatientStaysHead: Codable, Sendable, Hashable {
    public var sequence: Int
    public var stays: [Stay]
    public init(sequence: Int, stays: [Stay]) {
        self.sequence = sequence
        self.stays = stays
    }
}

extension StayChangelog {
    /// This changelog followed by `later` of the same patient, as one: what a consumer that applies the
    /// result ends up with equals applying both in order (episode assignments merged, later wins; the stays
    /// and sequence are `later`'s). `retracted`/`asserted` stay relative to the state before `self`.
    public func merging(_ later: StayChangelog) -> StayChangelog {
        precondition(later.patientKey == patientKey, "changelogs of different patients")
        var assignments = Dictionary(episodes.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        for a in later.episodes { assignments[a.key] = a }
        let asserted = Set(asserted).subtracting(later.retracted).union(later.asserted)
        let current = Set(later.stays.map(\.id))
        return StayChangelog(
            patientKey: patientKey, sequence: later.sequence,
            episodes: assignments.values.sorted { $0.key < $1.key }, stays: later.stays,
            retracted: Set(retracted).union(Set(later.retracted).subtracting(self.asserted)).sorted(),
            asserted: asserted.intersection(current).sorted())
    }
}
