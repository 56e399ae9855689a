import NPRCore

/// What the calculator keeps per patient bucket: its current TSB episodes and stays as the episode-linker
/// last reported them, and the sequence of that changelog (older or repeated changelogs are ignored).
public struct PatientCalcState: Codable, Sendable, Hashable {
    public var sequence: Int
    public var episodes: [EpisodeKey: Episode]
    /// The patient's complete current stays, both kinds.
    public var stays: [Stay]

    public init(sequence: Int, episodes: [EpisodeKey: Episode] = [:], stays: [Stay] = []) {
        self.sequence = sequence
        self.episodes = episodes
        self.stays = stays
    }

    /// The part that is not per episode, persisted as one small row per patient.
    public var head: PatientStaysHead { PatientStaysHead(sequence: sequence, stays: stays) }

    /// The state after `changelog` (whose sequence the caller has checked). Non-TSB content removes the
    /// episode: only TSB episodes count, and a correction may move an episode out of TSB.
    public init(_ changelog: StayChangelog, after previous: PatientCalcState?) {
        self = previous ?? PatientCalcState(sequence: changelog.sequence)
        apply(changelog)
    }

    /// `init(changelog, after: self)` in place, so the stored episodes are not copied.
    mutating func apply(_ changelog: StayChangelog) {
        for assignment in changelog.episodes {
            episodes[assignment.key] = assignment.episode.flatMap { $0.isTSB ? $0 : nil }
        }
        sequence = changelog.sequence
        stays = changelog.stays
    }

    /// A current TSB episode (the stored set may hold others when built directly).
    func tsbEpisode(_ key: EpisodeKey) -> Episode? { episodes[key].flatMap { $0.isTSB ? $0 : nil } }

    /// Units whose register entry the patient's contributions depend on.
    var unitIds: Set<String> {
        Set(episodes.values.map(\.unitId)).union(stays.map(\.unitId))
    }

    /// Whether the contributions depend on the evaluation date (an open inpatient episode).
    var dependsOnEvaluationDate: Bool {
        episodes.values.contains { $0.isInpatient && $0.end == nil }
    }

    enum CodingKeys: String, CodingKey { case sequence, episodes, stays }

    // Episodes are stored as an array ordered by key: stable JSON, no composite dictionary keys.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sequence = try c.decode(Int.self, forKey: .sequence)
        let list = try c.decode([Episode].self, forKey: .episodes)
        episodes = Dictionary(list.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        stays = try c.decode([Stay].self, forKey: .stays)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(episodes.values.sorted { $0.key < $1.key }, forKey: .episodes)
        try c.encode(stays, forKey: .stays)
    }
}
