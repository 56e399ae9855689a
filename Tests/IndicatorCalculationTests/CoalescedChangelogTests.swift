import EpisodeLinking
import NPRCore
import SyntheticData
import Testing

@testable import IndicatorCalculation

/// The episode-linker coalesces its changelogs per flush (`StayChangelog.merging`): one merged changelog per
/// patient, in patient order. Whatever the flush boundaries, the calculator must end with the same cells as
/// one that applied every changelog as it was made.
@Suite struct CoalescedChangelogTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func mergedChangelogsGiveTheSameCells(seed: UInt64) {
        var config = SyntheticConfig.small(year: 2024, seed: seed)
        config.patients = 120
        let data = SyntheticGenerator.generate(config)
        var rng = SplitMix64(seed: seed &* 977)
        var linker = LinkerEngine()
        for u in data.units { _ = linker.apply(unit: u) }
        var changelogs: [StayChangelog] = []
        for m in data.activities.shuffled(using: &rng) {
            let valid = m.patient.personId.map(PersonId.isValid) ?? false
            let birth = valid ? (try! PersonId.birthDate(of: m.patient.personId!).get()) : m.patient.birthDate!
            let event = ActivityEvent(m.status, revision: m.revision, episode: Episode(m, pseudonym: valid ? m.patient.personId : nil, birthDate: birth))
            if let c = linker.apply(event) { changelogs.append(c) }
        }
        let asOf = LocalDate(year: 2024, month: 12, day: 31)!
        var eachOne = CalculatorEngine(asOf: asOf), coalesced = CalculatorEngine(asOf: asOf)
        for u in data.units {
            eachOne.apply(unit: u)
            coalesced.apply(unit: u)
        }
        for c in changelogs { eachOne.apply(c) }
        var start = 0, flushes = 0
        while start < changelogs.count {
            let end = min(changelogs.count, start + rng.int(1...200))
            var merged: [PatientKey: StayChangelog] = [:]
            for c in changelogs[start..<end] { merged[c.patientKey] = merged[c.patientKey].map { $0.merging(c) } ?? c }
            for c in merged.values.sorted(by: { $0.patientKey < $1.patientKey }) { coalesced.apply(c) }
            start = end
            flushes += 1
        }
        #expect(flushes > 1 && changelogs.count > flushes, "the stream must be split into several flushes of several changelogs")
        #expect(coalesced.allCells == eachOne.allCells)
    }

    /// Merging keeps the later stays and sequence, every episode assignment (later wins) and the stays
    /// retracted relative to the state before the first changelog.
    @Test func mergingKeepsLaterStaysAndAllAssignments() {
        let p = PatientKey(rawValue: "p")
        let e1 = EpisodeKey(institutionId: "1", episodeId: "a"), e2 = EpisodeKey(institutionId: "1", episodeId: "b")
        let first = StayChangelog(
            patientKey: p, sequence: 3, episodes: [EpisodeAssignment(key: e1, episode: nil)], stays: [],
            retracted: ["s-old"], asserted: ["s-new"])
        let later = StayChangelog(
            patientKey: p, sequence: 5, episodes: [EpisodeAssignment(key: e2, episode: nil)], stays: [],
            retracted: ["s-new"], asserted: [])
        let m = first.merging(later)
        #expect(m.sequence == 5 && m.stays == later.stays)
        #expect(Set(m.episodes.map(\.key)) == [e1, e2])
        #expect(m.retracted == ["s-old"] && m.asserted.isEmpty)
    }
}
