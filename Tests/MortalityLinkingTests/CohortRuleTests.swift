import MortalityLinking
import NPRCore
import Testing

/// Cohort membership (indicators.md §2): who is in `N1` of a statistics year, and the `N2` subtraction.
struct CohortRuleTests {
    /// An engine where 2022 and 2023 are statistics years (1000 men aged 30 in Oslo each year).
    static func engine() -> MortalityEngine {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(population: population(2022, count: 1000))
        engine.apply(population: population(2023, count: 1000))
        return engine
    }

    @Test func ageAtTheEpisodeStartMustBe15To50() {
        var engine = Self.engine()
        let start = at("2021-06-15")
        engine.apply(version(episode("turns-15-that-day", start: start, born: "2006-06-15")))  // 15: in
        engine.apply(version(episode("still-14", start: start, born: "2006-06-16")))  // 14: out
        engine.apply(version(episode("50-last-day", start: start, born: "1970-06-16")))  // 50: in
        engine.apply(version(episode("turns-51-that-day", start: start, born: "1970-06-15")))  // 51: out
        // In the cohort: the 15-year-old (16 on 2023-01-01, subtracted from the population) and the
        // 50-year-old (52 on 2023-01-01, not in the 15–50 population, so not subtracted).
        #expect(engine.parts(2023) == Parts(d1: 0, n1: 2, d2: 0, n2: 1000 - 1))
    }

    @Test func episodesInTheFiveYearsBeforeTheStatisticsYear() {
        var engine = Self.engine()
        engine.apply(version(episode("dec31-of-y-1", start: at("2022-12-31", 23, 59))))  // 2023 only (of 2022/2023)
        engine.apply(version(episode("jan1-of-y-5", start: at("2018-01-01", 0, 0))))  // 2022 and 2023
        engine.apply(version(episode("dec31-of-y-6", start: at("2017-12-31", 23, 59))))  // 2022 only
        engine.apply(version(episode("jan1-of-y", start: at("2023-01-01", 0, 0))))  // neither
        #expect(engine.parts(2023)?.n1 == 2)
        #expect(engine.parts(2022)?.n1 == 2)
    }

    @Test func rightToHealthcareMustBeGranted() {
        var engine = Self.engine()
        for right in [1, 2, 3, 4, 5, 9, nil] as [Int?] {
            engine.apply(version(episode("right-\(right.map(String.init) ?? "missing")", start: at("2021-03-01"), right: right)))
        }
        #expect(engine.parts(2023)?.n1 == 3)  // 1, 3 and 4
    }

    @Test func otherExclusions() {
        var engine = Self.engine()
        let start = at("2021-03-01")
        engine.apply(version(episode("no-municipality", start: start, municipality: nil)))
        engine.apply(version(episode("not-tsb", start: start, sector: "PHV")))
        engine.apply(version(episode(nil, "anonymous", start: start)))  // no pseudonym: its own bucket, no cohort
        #expect(engine.parts(2023)?.n1 == 0)
        // Any care level counts, and one qualifying episode among others is enough.
        engine.apply(version(episode("inpatient", start: start, careLevel: 1)))
        engine.apply(version(episode("mixed", "e1", start: start, right: 2)))
        engine.apply(version(episode("mixed", "e2", start: at("2020-03-01"))))
        #expect(engine.parts(2023)?.n1 == 2)
    }

    @Test func deathBeforeTheStatisticsYearLeavesTheCohort() {
        var engine = Self.engine()
        engine.apply(version(episode("dies-dec31", start: at("2020-05-01"))))
        engine.apply(version(episode("dies-jan1", start: at("2020-05-01"))))
        engine.apply(death: death("dies-dec31", "2022-12-31"))
        engine.apply(death: death("dies-jan1", "2023-01-01"))
        // 2022: both in the cohort, one dies in 2022; neither death is a D2.
        #expect(engine.parts(2022) == Parts(d1: 1, n1: 2, d2: 0, n2: 1000 - 2))
        // 2023: the person who died on 31 December 2022 is gone; the one dying on 1 January is in and a D1.
        #expect(engine.parts(2023) == Parts(d1: 1, n1: 1, d2: 0, n2: 1000 - 1))
    }

    @Test func cohortSubtractionUsesAgeOnFirstJanuary() {
        var engine = Self.engine()
        // Born 1971-12-31: 48 at the episode, 50 on 2022-01-01, 51 on 2023-01-01.
        engine.apply(version(episode("ages-out", start: at("2020-03-01"), born: "1971-12-31")))
        #expect(engine.parts(2023) == Parts(d1: 0, n1: 1, d2: 0, n2: 1000))
        #expect(engine.parts(2022) == Parts(d1: 0, n1: 1, d2: 0, n2: 999))
    }

    @Test func sexZeroAndNineCountInTheTotalsOnly() {
        var engine = Self.engine()
        engine.apply(population: population(2023, sex: 2, count: 500))
        engine.apply(version(episode("man", start: at("2021-03-01"), sex: 1)))
        engine.apply(version(episode("woman", start: at("2021-03-01"), sex: 2)))
        engine.apply(version(episode("unknown", start: at("2021-03-01"), sex: 0)))
        engine.apply(version(episode("unspecified", start: at("2021-03-01"), sex: 9)))
        engine.apply(death: death("unknown", "2023-05-05", sex: 2))  // the episode's sex decides D1, not the death record's
        #expect(engine.parts(2023) == Parts(d1: 1, n1: 4, d2: 0, n2: 1500 - 4))
        #expect(engine.parts(2023, .national, "NO", .male) == Parts(d1: 0, n1: 1, d2: 0, n2: 1000 - 1))
        #expect(engine.parts(2023, .national, "NO", .female) == Parts(d1: 0, n1: 1, d2: 0, n2: 500 - 1))
    }

    @Test func latestQualifyingEpisodeDecidesRegionAndSex() {
        var engine = Self.engine()
        engine.apply(population: population(2020, count: 10))
        engine.apply(population: population(2024, count: 10))
        engine.apply(version(episode("p", "bergen", start: at("2019-05-01"), sex: 2, municipality: "4601")))
        engine.apply(version(episode("p", "oslo", start: at("2021-05-01"), sex: 1, municipality: "0301")))
        // Later, but not qualifying (right not granted): it does not decide.
        engine.apply(version(episode("p", "tromso", start: at("2022-05-01"), sex: 2, municipality: "5501", right: 2)))
        for year in [2022, 2023, 2024] {
            #expect(engine.parts(year, .helsefellesskap, "Oslo", .male)?.n1 == 1)
            #expect(engine.parts(year, .rhf, "vest")?.n1 == 0)
            #expect(engine.parts(year, .national, "NO", .female)?.n1 == 0)
        }
        // 2020 looks at 2015–2019 only: the Bergen episode, a woman.
        #expect(engine.parts(2020, .helsefellesskap, "Bergen", .female)?.n1 == 1)
        #expect(engine.parts(2020, .rhf, "sor-ost")?.n1 == 0)
        #expect(engine.parts(2020)?.n1 == 1)
    }

    @Test func tiesOnStartGoToTheHighestInstitutionThenEpisodeId() {
        var engine = Self.engine()
        let start = at("2021-05-01", 12, 0)
        engine.apply(version(episode("inst", "e1", institution: institutionB, start: start, municipality: "4601")))
        engine.apply(version(episode("inst", "e2", institution: institutionA, start: start, municipality: "0301")))
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.n1 == 1)
        #expect(engine.parts(2023, .helsefellesskap, "Oslo")?.n1 == 0)
        // Same institution: episode ids compare as strings, so "e9" > "e10".
        engine.apply(version(episode("epi", "e9", start: start, municipality: "5501")))
        engine.apply(version(episode("epi", "e10", start: start, municipality: "1103")))
        #expect(engine.parts(2023, .helsefellesskap, "UNN")?.n1 == 1)
        #expect(engine.parts(2023, .helsefellesskap, "Stavanger")?.n1 == 0)
        // A later time of day on the same date wins over any id.
        engine.apply(version(episode("time", "e1", institution: institutionB, start: start, municipality: "4601")))
        engine.apply(version(episode("time", "e0", institution: institutionA, start: at("2021-05-01", 12, 1), municipality: "1103")))
        #expect(engine.parts(2023, .helsefellesskap, "Stavanger")?.n1 == 1)
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.n1 == 1)
    }

    @Test func revisionsAnnulmentsAndForeignPlaceholders() {
        var engine = Self.engine()
        let qualifying = episode("p", start: at("2021-05-01"))
        var notGranted = qualifying
        notGranted.rightToHealthcare = 2
        engine.apply(version(qualifying, revision: 1))
        #expect(engine.parts(2023)?.n1 == 1)
        engine.apply(version(notGranted, revision: 2))
        #expect(engine.parts(2023)?.n1 == 0)
        engine.apply(version(qualifying, revision: 1))  // older revision arriving late: ignored
        #expect(engine.parts(2023)?.n1 == 0)
        engine.apply(version(qualifying, revision: 3))
        #expect(engine.parts(2023)?.n1 == 1)
        engine.apply(annulment(qualifying, revision: 2))  // annulment below the current revision: ignored
        #expect(engine.parts(2023)?.n1 == 1)
        engine.apply(annulment(qualifying, revision: 3))  // at equal revision the annulment wins
        #expect(engine.parts(2023)?.n1 == 0)
        engine.apply(version(qualifying, revision: 4))
        #expect(engine.parts(2023)?.n1 == 1)
        engine.apply(foreign(qualifying, revision: 5))  // moved to another pseudonym
        #expect(engine.parts(2023)?.n1 == 0)
    }
}
