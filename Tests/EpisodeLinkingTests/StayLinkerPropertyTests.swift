import EpisodeLinking
import NPRCore
import SyntheticData
import Testing

/// StayLinker against an independent formulation of the chaining rule: mark every calendar day an
/// episode covers (start date through end date; an open episode covers everything after its start);
/// a stay is the set of episodes starting in one maximal run of covered days. "Next day" joins because
/// the runs touch; a one-day hole splits.
@Suite("StayLinker property: day-coverage oracle")
struct StayLinkerPropertyTests {
    static let origin = LocalDate(year: 2024, month: 1, day: 1)!
    static let detoxUnits: Set<String> = ["U2"]
    static let register = [unit("U1", detox: false), unit("U2", detox: true), unit("U3", inst: instB, detox: false)]

    @Test func matchesDayCoverageOracle() {
        var rng = SplitMix64(seed: 0x5_7A75)
        for _ in 0..<400 {
            let episodes = (0..<Int.random(in: 1...10, using: &rng)).map { randomEpisode(index: $0, using: &rng) }
            let byUnit: (String) -> Unit? = { id in Self.register.first { $0.unitId == id } }
            let treatmentCandidates = episodes.filter { $0.isTSB && $0.careLevel == 1 && !Self.detoxUnits.contains($0.unitId) }
            #expect(
                StayLinker.treatmentStays(patientKey: patient1, episodes: episodes.shuffled(using: &rng), unit: byUnit)
                    == oracle(.treatment, treatmentCandidates))
            let institutionCandidates = episodes.filter { $0.isTSB && $0.careLevel == 1 }
            let expectedInstitution = Dictionary(grouping: institutionCandidates, by: \.institutionId).values
                .flatMap { oracle(.institution, $0) }
            #expect(
                StayLinker.institutionStays(patientKey: patient1, episodes: episodes.shuffled(using: &rng))
                    == sortedByStartThenId(expectedInstitution))
        }
    }

    func randomEpisode(index: Int, using rng: inout SplitMix64) -> Episode {
        let startDay = Int.random(in: 0...40, using: &rng)
        let start = LocalDateTime(
            date: Self.origin.adding(days: startDay), hour: Int.random(in: 0...23, using: &rng),
            minute: Int.random(in: 0...59, using: &rng))!
        let isOpen = Int.random(in: 0..<10, using: &rng) == 0
        // Same-day ends are kept after the start time.
        let length = Int.random(in: 0...6, using: &rng)
        let end =
            isOpen
            ? nil
            : LocalDateTime(
                date: start.date.adding(days: length),
                hour: length == 0 ? start.hour : Int.random(in: 0...23, using: &rng), minute: 59)
        let inst = Bool.random(using: &rng) ? instA : instB
        var e = episode(
            String(index), inst: inst, unit: ["U1", "U2", "U3", "U4"].randomElement(using: &rng)!,
            "2024-01-01", nil, endType: [nil, 1, 2, 3, 4, 5, 6].randomElement(using: &rng)!,
            sector: Int.random(in: 0..<8, using: &rng) == 0 ? "PHV" : "TSB",
            careLevel: Int.random(in: 0..<5, using: &rng) == 0 ? [2, 3, 8].randomElement(using: &rng)! : 1)
        e.start = start
        e.end = end
        return e
    }

    /// Stays of `candidates` (all of one chaining scope) by day coverage.
    func oracle(_ kind: Stay.Kind, _ candidates: [Episode]) -> [Stay] {
        let forever = 10_000
        var covered = Set<Int>()
        for e in candidates {
            let first = e.start.date.dayNumber
            covered.formUnion(first...(e.end?.date.dayNumber ?? first + forever))
        }
        // The first day of the run of covered days containing `day`.
        func runStart(_ day: Int) -> Int {
            var d = day
            while covered.contains(d - 1) { d -= 1 }
            return d
        }
        let groups = Dictionary(grouping: candidates) { runStart($0.start.date.dayNumber) }.values
        return sortedByStartThenId(
            groups.map { members in
                let first = members.min { ($0.start, $0.institutionId, $0.episodeId) < ($1.start, $1.institutionId, $1.episodeId) }!
                // Rank by "ends last": open first of all, then end, start, institutionId, episodeId.
                func rank(_ e: Episode) -> (Int, LocalDateTime, LocalDateTime, String, String) {
                    (e.end == nil ? 1 : 0, e.end ?? e.start, e.start, e.institutionId, e.episodeId)
                }
                let last = members.max { rank($0) < rank($1) }!
                let keys = members.sorted { ($0.start, $0.institutionId, $0.episodeId) < ($1.start, $1.institutionId, $1.episodeId) }.map(\.key)
                return Stay(
                    id: "\(kind.rawValue):\(first.institutionId)|\(first.episodeId)", kind: kind, patientKey: patient1,
                    episodes: keys, start: first.start, end: last.end, lastEpisode: last.key, endType: last.endType,
                    unitId: last.unitId, institutionId: last.institutionId)
            })
    }

    func sortedByStartThenId(_ stays: [Stay]) -> [Stay] { stays.sorted { ($0.start, $0.id) < ($1.start, $1.id) } }
}
