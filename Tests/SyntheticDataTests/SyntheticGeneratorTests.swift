import NPRCore
import Testing

@testable import SyntheticData

/// One small dataset shared by the tests (generation is deterministic, so sharing is safe).
let smallConfig = SyntheticConfig.small(year: 2024, seed: 42)
let smallSet = SyntheticGenerator.generate(smallConfig)

func episodeKey(_ m: ActivityMessage) -> String { m.institutionId + "|" + m.episodeId }

/// Each episode's visible content after all messages, by the rule of messages.md: the highest revision
/// wins, an annulment at equal revision wins; nil = annulled.
func finalEpisodes(_ messages: [ActivityMessage]) -> [String: ActivityMessage?] {
    var state: [String: (revision: Int, content: ActivityMessage?)] = [:]
    for m in messages {
        let content: ActivityMessage? = m.status == .annulment ? nil : m
        if let current = state[episodeKey(m)] {
            if m.revision > current.revision || (m.revision == current.revision && content == nil) {
                state[episodeKey(m)] = (m.revision, content)
            }
        } else {
            state[episodeKey(m)] = (m.revision, content)
        }
    }
    return state.mapValues(\.content)
}

/// Originals (status N) starting in the statistics year: one per episode.
func statisticsYearEpisodes(_ set: SyntheticDataset, _ c: SyntheticConfig) -> [ActivityMessage] {
    set.activities.filter { $0.status == .new && $0.start.date.year == c.year }
}

@Suite struct Determinism {
    @Test func sameSeedGivesTheSameDataset() {
        #expect(SyntheticGenerator.generate(smallConfig) == smallSet)
    }

    @Test func anotherSeedGivesOtherActivitiesAndDeaths() {
        let other = SyntheticGenerator.generate(.small(year: 2024, seed: 43))
        #expect(other.activities != smallSet.activities)
        #expect(other.deaths != smallSet.deaths)
        #expect(other.units == smallSet.units)  // reference data do not depend on the seed
        #expect(other.population == smallSet.population)
    }

    @Test func streamingAndSeparateDeathsMatchGenerate() {
        var streamed: [ActivityMessage] = []
        SyntheticGenerator.activities(smallConfig, units: smallSet.units) { streamed.append($0) }
        #expect(streamed == smallSet.activities)
        #expect(SyntheticGenerator.deaths(smallConfig) == smallSet.deaths)
        #expect(SyntheticGenerator.population(year: smallConfig.year) == smallSet.population)
    }
}

@Suite struct Sizes {
    @Test func smallConfigHasAbout300PatientsAndTheConfiguredEpisodesPerPatient() {
        let episodes = statisticsYearEpisodes(smallSet, smallConfig)
        let patients = Set(episodes.compactMap(\.patient.personId))
        // A few patients die before their activity of the year, or have only id-less episodes.
        #expect((270...300).contains(patients.count), "patients \(patients.count)")
        let perPatient = Double(episodes.count) / Double(patients.count)
        #expect(abs(perPatient / smallConfig.episodesPerPatient - 1) < 0.15, "episodes per patient \(perPatient)")
    }

    @Test func smallConfigHistoryCoversTheCohortYears() {
        let years = Set(smallSet.activities.map(\.start.date.year))
        #expect(years == Set((smallConfig.year - smallConfig.cohortYears)...smallConfig.year))
    }

    /// The national preset at the size NPR reports for TSB (≈ 34 000 patients, ≈ 600 000 episodes).
    @Test func nationalYearHasNationalSize() {
        let c = SyntheticConfig.nationalYear(year: 2024)
        var episodes = 0, inpatient = 0, messages = 0
        var patients = Set<String>()
        SyntheticGenerator.activities(c, units: SyntheticGenerator.units) { m in
            messages += 1
            guard m.status == .new, m.start.date.year == c.year else { return }
            episodes += 1
            if m.careLevel == 1 { inpatient += 1 }
            if let id = m.patient.personId { patients.insert(id) }
        }
        #expect((31_000...35_000).contains(patients.count), "patients \(patients.count)")
        #expect((540_000...660_000).contains(episodes), "episodes \(episodes)")
        // NPR 2023: 15 400 stays of 1–2 episodes each.
        #expect((12_000...30_000).contains(inpatient), "inpatient episodes \(inpatient)")
        #expect(messages > episodes)
    }
}

@Suite struct Validity {
    @Test func everyActivityIsValid() {
        let units = Dictionary(uniqueKeysWithValues: smallSet.units.map { ($0.unitId, $0) })
        for m in smallSet.activities {
            let problems = WireRules.problems(m, units: units)
            #expect(problems.isEmpty, "\(m.messageId): \(problems)")
        }
    }

    @Test func messageIdsAreUnique() {
        #expect(Set(smallSet.activities.map(\.messageId)).count == smallSet.activities.count)
        #expect(Set(smallSet.deaths.map(\.messageId)).count == smallSet.deaths.count)
    }

    @Test func patientsAreAged15To80AtEveryEpisode() {
        for m in smallSet.activities {
            guard let birth = WireRules.birthDate(of: m.patient.personId) ?? m.patient.birthDate else { continue }
            #expect((15...80).contains(birth.age(on: m.start.date)), "\(m.messageId)")
        }
    }

    @Test func everyDeathRecordIsValid() {
        for d in smallSet.deaths {
            let problems = WireRules.problems(d)
            #expect(problems.isEmpty, "\(d.messageId): \(problems)")
            #expect(d.deathDate.year <= smallConfig.year)
        }
    }

    @Test func populationHasEveryMunicipalitySexAndAgeOnce() {
        var seen = Set<String>()
        for p in smallSet.population {
            #expect(p.year == smallConfig.year && p.count >= 0)
            #expect(MunicipalityRegister.byNumber[p.municipality] != nil)
            #expect([1, 2].contains(p.sex) && (0...100).contains(p.age))
            seen.insert("\(p.municipality)|\(p.sex)|\(p.age)")
        }
        #expect(seen.count == smallSet.population.count)
        #expect(seen.count == MunicipalityRegister.byNumber.count * 2 * 101)
        let total = smallSet.population.reduce(0) { $0 + $1.count }
        #expect((5_300_000...5_800_000).contains(total), "total \(total)")
        let oslo = smallSet.population.filter { $0.municipality == "0301" }.reduce(0) { $0 + $1.count }
        #expect((600_000...800_000).contains(oslo))
    }

    @Test func unitRegisterIsPlausible() {
        let units = smallSet.units
        #expect((40...60).contains(units.count))
        #expect(Set(units.map(\.unitId)).count == units.count)
        #expect(units.allSatisfy { $0.unitId.hasPrefix("TSB-") && $0.unitId.count == 7 })
        #expect(units.allSatisfy { WireRules.isDigits($0.institutionId, count: 9) && WireRules.isDigits($0.hfId, count: 9) })
        #expect(Set(units.map(\.rhf)) == Set(RHF.allCases))
        #expect(units.filter(\.detox).count >= 5)
        let privateUnits = units.filter { $0.ownership != .public }
        #expect(privateUnits.count >= 5)
        #expect(Set(privateUnits.map(\.ownership)) == [.privateOperatingAgreement, .privatePurchaseAgreement, .freeChoice])
        // A private institution is its own HF; an institution belongs to one HF.
        #expect(privateUnits.allSatisfy { $0.hfId == $0.institutionId && $0.hfName == $0.institutionName })
        #expect(Set(units.filter { $0.ownership == .public }.map(\.hfName)).count == 19)
        #expect(units.allSatisfy { $0.validFrom.year <= smallConfig.year - smallConfig.cohortYears })
    }
}

@Suite struct Versions {
    @Test func everyEpisodeStartsWithItsOriginalAndRevisionsNeverGoBack() {
        var latest: [String: ActivityMessage] = [:]
        for m in smallSet.activities {
            if let previous = latest[episodeKey(m)] {
                #expect(m.status != .new, "\(m.messageId) repeats N")
                #expect(m.revision >= previous.revision, "\(m.messageId)")
                if m.status == .correction { #expect(m.revision > previous.revision || previous.status == .annulment) }
                #expect(m.unitId == previous.unitId && m.institutionId == previous.institutionId)
            } else {
                #expect(m.status == .new && m.revision == 1, "\(m.messageId) arrives before its original")
            }
            latest[episodeKey(m)] = m
        }
    }

    @Test func correctionsAndAnnulmentsFollowTheConfiguredRates() {
        var previous: [String: ActivityMessage] = [:]
        var episodes = 0, corrected = Set<String>(), annulled = Set<String>(), closedLater = 0
        for m in smallSet.activities {
            let key = episodeKey(m)
            switch m.status {
            case .new: episodes += 1
            case .annulment: annulled.insert(key)
            case .correction:
                let before = previous[key]!
                if before.status == .annulment { break }  // reported again after an annulment
                if before.end == nil && m.end != nil && before.careLevel == 1 {
                    closedLater += 1
                }  // an open stay closed
                else {
                    corrected.insert(key)
                }
            }
            previous[key] = m
        }
        let expectedCorrected = smallConfig.correctionRate * Double(episodes)
        let expectedAnnulled = smallConfig.annulmentRate * Double(episodes)
        #expect(abs(Double(corrected.count) / expectedCorrected - 1) < 0.3, "corrected \(corrected.count) of \(episodes)")
        #expect(abs(Double(annulled.count) / expectedAnnulled - 1) < 0.4, "annulled \(annulled.count) of \(episodes)")
        #expect(closedLater > 0)
    }

    @Test func someAnnulmentsRepeatTheRevisionAndSomeEpisodesComeBack() {
        var previous: [String: ActivityMessage] = [:]
        var sameRevision = 0, raised = 0, reinstated = 0
        for m in smallSet.activities {
            if let before = previous[episodeKey(m)] {
                if m.status == .annulment { if m.revision == before.revision { sameRevision += 1 } else { raised += 1 } }
                if m.status == .correction && before.status == .annulment { reinstated += 1 }
            }
            previous[episodeKey(m)] = m
        }
        #expect(sameRevision > 0 && raised > 0)
        let finals = finalEpisodes(smallSet.activities)
        #expect(finals.values.filter { $0 == nil }.count > 0)
        _ = reinstated  // rare at this size; the national set has them
    }
}

@Suite struct Realism {
    let finals = finalEpisodes(smallSet.activities).values.compactMap { $0 }

    @Test func inpatientStaysChainAcrossUnitsAndSomeAreOpen() {
        let inpatient = finals.filter { $0.careLevel == 1 }
        let share =
            Double(statisticsYearEpisodes(smallSet, smallConfig).filter { $0.careLevel == 1 }.count)
            / Double(statisticsYearEpisodes(smallSet, smallConfig).count)
        #expect((0.08...0.18).contains(share), "inpatient share \(share)")
        #expect(inpatient.contains { $0.end == nil })
        var chainedAcrossUnits = 0
        for (_, episodes) in Dictionary(grouping: inpatient.filter { $0.patient.personId != nil }, by: { $0.patient.personId! }) {
            let sorted = episodes.sorted { $0.start < $1.start }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                if let end = a.end, b.start.date <= end.date.adding(days: 1), a.unitId != b.unitId { chainedAcrossUnits += 1 }
            }
        }
        #expect(chainedAcrossUnits >= 10)
        let detoxUnits = Set(smallSet.units.filter(\.detox).map(\.unitId))
        #expect(inpatient.contains { detoxUnits.contains($0.unitId) })
        #expect(Set(inpatient.compactMap(\.endType)).isSuperset(of: [1, 2, 3, 4]))
        #expect(inpatient.contains { $0.end != nil && $0.endType == nil })
    }

    @Test func careLevelsSectorsAndCodesAreSpread() {
        #expect(Set(finals.map(\.careLevel)) == [1, 2, 3, 8])
        let sectors = Set(finals.map(\.sector))
        #expect(sectors.contains("TSB") && sectors.count >= 3)
        #expect(Double(finals.filter { $0.sector == "TSB" }.count) / Double(finals.count) > 0.95)
        #expect(Set(finals.compactMap(\.contactType)).count >= 8)
        #expect(Set(finals.compactMap(\.activityPlace)).count >= 6)
        #expect(Set(finals.compactMap(\.indirectActivity)).isSuperset(of: [22, 23, 71]))
        #expect(Set(finals.compactMap(\.tariffs).joined()).count >= 10)
        let main = finals.compactMap { $0.conditions?.first }
        #expect(main.contains("Z5030"))
        #expect(Set(main.map { String($0.prefix(3)) }).isSuperset(of: ["F10", "F11", "F12", "F13", "F15", "F19"]))
        #expect(finals.contains { $0.conditions == nil })
        let rights = finals.compactMap(\.referral?.rightToHealthcare)
        #expect(Double(rights.filter { $0 == 3 || $0 == 4 }.count) / Double(rights.count) > 0.75)
    }

    @Test func patientsAreMostlyMenWithValidIdsAndAFewAnonymousEpisodes() {
        let episodes = statisticsYearEpisodes(smallSet, smallConfig)
        let withoutId = episodes.filter { $0.patient.personId == nil }
        #expect((0.003...0.03).contains(Double(withoutId.count) / Double(episodes.count)))
        #expect(withoutId.allSatisfy { $0.patient.birthDate != nil })
        let ids = Set(finals.compactMap(\.patient.personId))
        #expect(ids.contains { $0.first! >= "4" })  // D-numbers: day + 40
        // Synthetic test numbers only (month + 80): no real person's id in test data.
        #expect((ids.union(smallSet.deaths.map(\.personId))).allSatisfy { Int($0.dropFirst(2).prefix(2))! > 80 })
        let men = Double(episodes.filter { $0.patient.sex == 1 }.count) / Double(episodes.count)
        #expect((0.55...0.78).contains(men), "men \(men)")
    }

    @Test func municipalitiesIncludeOlderNumbersNullsAndOsloDistricts() {
        let municipalities = finals.map(\.patient.municipality)
        #expect(municipalities.contains { $0 == nil })
        #expect(municipalities.contains { $0 != nil && MunicipalityRegister.byNumber[$0!] == nil })  // an older number
        #expect(finals.contains { $0.patient.district != nil })
        #expect(finals.contains { $0.patient.municipality == "0301" && $0.patient.district == nil })
        let regions = Set(municipalities.compactMap { MunicipalityRegister.region(of: $0)?.rhf })
        #expect(regions == Set(RHF.allCases))
    }
}

@Suite struct Deaths {
    /// Each person's registration after all death records (N registers or replaces, C removes).
    var finalDeaths: [String: LocalDate] {
        var state: [String: LocalDate] = [:]
        for d in smallSet.deaths { state[d.personId] = d.status == .registration ? d.deathDate : nil }
        return state
    }

    @Test func deathsIncludeTreatedPersonsAndAnnulments() {
        let treated = Set(smallSet.activities.compactMap(\.patient.personId))
        let dead = finalDeaths
        let treatedDead = dead.keys.filter { treated.contains($0) }
        #expect(treatedDead.count >= 10, "treated persons who died: \(treatedDead.count)")
        #expect(smallSet.deaths.contains { $0.status == .annulment })
        // An annulment cancels a registration that arrived before it.
        var registered = Set<String>()
        for d in smallSet.deaths {
            if d.status == .registration { registered.insert(d.personId) } else { #expect(registered.contains(d.personId)) }
        }
    }

    @Test func nobodyIsTreatedAfterTheirDeath() {
        let dead = finalDeaths
        for m in finalEpisodes(smallSet.activities).values.compactMap({ $0 }) {
            guard let id = m.patient.personId, let deathDate = dead[id] else { continue }
            #expect(!(deathDate < m.start.date), "\(m.messageId) starts after the death on \(deathDate)")
            if m.careLevel == 1 { #expect(m.end != nil) }
        }
    }

    /// Deaths in the rest of the population aged 15–50 on 1 January at a plausible rate (Norway:
    /// roughly 0.05–0.1 % a year), computed against the generated population.
    @Test func generalPopulationDeathRateIsPlausible() {
        let treated = Set(smallSet.activities.compactMap(\.patient.personId))
        let january1 = LocalDate(year: smallConfig.year, month: 1, day: 1)!
        let deaths = finalDeaths.filter { id, date in
            !treated.contains(id) && date.year == smallConfig.year && (15...50).contains(WireRules.birthDate(of: id)!.age(on: january1))
        }.count
        let population = smallSet.population.filter { (15...50).contains($0.age) }.reduce(0) { $0 + $1.count }
        let rate = Double(deaths) / Double(population)
        #expect((0.0004...0.0015).contains(rate), "rate \(rate)")
        #expect(smallSet.deaths.contains { $0.municipality == nil })
    }
}
