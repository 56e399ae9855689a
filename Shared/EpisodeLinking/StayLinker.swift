import NPRCore

/// Pure stay linking (indicators.md §1 treatment stays, §3 institution stays). No I/O.
///
/// Chaining rule shared by both kinds: the candidate episodes, ordered by start (then key), form one stay
/// while each next episode's start DATE is no later than the day after the latest end DATE so far in the
/// stay; an open episode keeps the stay open, so every later episode joins it. Times of day are ignored
/// when chaining ("samme dag eller neste dag") but do decide which episode ends last.
///
/// Choices where the spec is silent:
/// - An open stay still names a last episode (the open one) and copies its unit and `endType`; consumers
///   only read `endType` of closed stays.
/// - Among open episodes, "ends last" falls through to the start/key tie rules.
public enum StayLinker {
    /// Treatment stays (§1) of one patient bucket from the patient's current episodes (any sectors and
    /// care levels may be passed; the rules pick TSB inpatient episodes at non-detox units).
    /// `unit` looks up the unit register; an unknown unit counts as not detox.
    public static func treatmentStays(patientKey: PatientKey, episodes: [Episode], unit: (String) -> Unit?) -> [Stay] {
        let candidates = episodes.filter { isLinkable($0) && !isDetox(unit($0.unitId)) }
        return ordered(chains(of: candidates).map { makeStay(.treatment, patientKey: patientKey, members: $0) })
    }

    /// Institution stays (§3): the same chaining within one institution, without the detox exclusion.
    public static func institutionStays(patientKey: PatientKey, episodes: [Episode]) -> [Stay] {
        let byInstitution = Dictionary(grouping: episodes.filter(isLinkable), by: \.institutionId)
        let stays = byInstitution.values.flatMap { institutionEpisodes in
            chains(of: institutionEpisodes).map { makeStay(.institution, patientKey: patientKey, members: $0) }
        }
        return ordered(stays)
    }

    /// Both kinds of stays of one patient bucket, in the canonical order (start, then id).
    public static func stays(patientKey: PatientKey, episodes: [Episode], unit: (String) -> Unit?) -> [Stay] {
        ordered(
            treatmentStays(patientKey: patientKey, episodes: episodes, unit: unit)
                + institutionStays(patientKey: patientKey, episodes: episodes))
    }

    /// Episodes that can belong to a stay of either kind: TSB inpatient episodes.
    public static func isLinkable(_ episode: Episode) -> Bool { episode.isTSB && episode.isInpatient }

    /// Whether a unit is a pure detoxification unit; a unit missing from the register is not.
    public static func isDetox(_ unit: Unit?) -> Bool { unit?.detox ?? false }

    /// Splits the episodes into stays by the chaining rule; each chain is ordered by start, then key.
    static func chains(of episodes: [Episode]) -> [[Episode]] {
        var chains: [[Episode]] = []
        var current: [Episode] = []
        var latestEndDay = Int.min  // day number of the latest end so far in `current`
        var isOpen = false  // `current` holds an episode without an end
        for episode in episodes.sorted(by: startsBefore) {
            let joins = !current.isEmpty && (isOpen || episode.start.date.dayNumber <= latestEndDay + 1)
            if !joins {
                if !current.isEmpty { chains.append(current) }
                current = []
                latestEndDay = Int.min
                isOpen = false
            }
            current.append(episode)
            if let end = episode.end { latestEndDay = max(latestEndDay, end.date.dayNumber) } else { isOpen = true }
        }
        if !current.isEmpty { chains.append(current) }
        return chains
    }

    /// `members` is non-empty and ordered by start, then key.
    static func makeStay(_ kind: Stay.Kind, patientKey: PatientKey, members: [Episode]) -> Stay {
        let first = members[0]
        let last = members.max(by: endsBefore)!
        return Stay(
            id: kind.rawValue + ":" + first.key.description, kind: kind, patientKey: patientKey,
            episodes: members.map(\.key), start: first.start, end: last.end, lastEpisode: last.key,
            endType: last.endType, unitId: last.unitId, institutionId: last.institutionId)
    }

    static func startsBefore(_ a: Episode, _ b: Episode) -> Bool { (a.start, a.key) < (b.start, b.key) }

    /// Order in which the maximum is the stay's last episode: ends last (open is latest), then later
    /// start, then higher key (institutionId, then episodeId, as strings). Public because the calculator's
    /// "last episode" rules (§1, the §4 patient group) are the same order.
    public static func endsBefore(_ a: Episode, _ b: Episode) -> Bool {
        if a.end != b.end {
            guard let aEnd = a.end else { return false }
            guard let bEnd = b.end else { return true }
            return aEnd < bEnd
        }
        return startsBefore(a, b)
    }

    static func ordered(_ stays: [Stay]) -> [Stay] { stays.sorted { ($0.start, $0.id) < ($1.start, $1.id) } }
}
