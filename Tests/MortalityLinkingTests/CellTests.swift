import MortalityLinking
import NPRCore
import Testing

/// Which cells exist, what they contain beyond the parts, and what `takeChangedCells` / `takeDirty` report.
struct CellTests {
    /// The 19 helsefellesskap and their RHF (reference/helsefellesskap.csv).
    static let helsefellesskap: [String: String] = [
        "Finnmark": "nord", "UNN": "nord", "Nordland": "nord", "Helgeland": "nord",
        "Nord-Trøndelag": "midt-norge", "St. Olav": "midt-norge", "Møre og Romsdal": "midt-norge",
        "Førde": "vest", "Bergen": "vest", "Fonna": "vest", "Stavanger": "vest",
        "Østfold": "sor-ost", "Akershus": "sor-ost", "Oslo": "sor-ost", "Innlandet": "sor-ost",
        "Vestre Viken": "sor-ost", "Vestfold": "sor-ost", "Telemark": "sor-ost", "Sørlandet": "sor-ost",
    ]
    static let measures: [(String, ValueFormula, Sex)] = [
        ("hovedmaltall", .excessMortality, .all), ("maltall-2", .rate, .all), ("maltall-3", .count, .all),
        ("maltall-4", .excessMortality, .male), ("maltall-5", .excessMortality, .female),
        ("maltall-6", .rate, .male), ("maltall-7", .rate, .female), ("maltall-8", .count, .male), ("maltall-9", .count, .female),
    ]

    @Test func everyCellOfAStatisticsYearExistsEvenWhenEmpty() throws {
        var engine = MortalityEngine(asOf: asOf)
        // Activity and deaths alone make no statistics year.
        engine.apply(version(episode("p", start: at("2021-01-01"))))
        engine.apply(death: death("q", "2023-02-02"))
        #expect(engine.takeChangedCells().isEmpty)
        #expect(engine.allCells.isEmpty)
        #expect(engine.cell(mortalityKey("hovedmaltall", 2023)) == nil)

        engine.apply(population: population(2023, "5501", sex: 2, age: 80, count: 3))  // any count makes the year
        let updates = engine.takeChangedCells()
        #expect(updates.count == 24 * 9)
        #expect(Set(updates.map(\.key)) == Set(engine.allCells.keys))
        #expect(updates.allSatisfy { $0.cell != nil && $0.cell == engine.cell($0.key) })
        #expect(engine.takeChangedCells().isEmpty)

        for (measure, formula, sex) in Self.measures {
            let national = try #require(engine.cell(mortalityKey(measure, 2023, .national, "NO", sex)))
            #expect(national.formula == formula && national.parent == nil && national.unitName == "Norge")
            #expect(national.scale == (formula == .rate ? 100_000 : nil))
            #expect(national.asOf == asOf && national.key.period == .year(2023))
            for (rhf, name) in [("sor-ost", "Helse Sør-Øst"), ("vest", "Helse Vest"), ("midt-norge", "Helse Midt-Norge"), ("nord", "Helse Nord")] {
                let cell = try #require(engine.cell(mortalityKey(measure, 2023, .rhf, rhf, sex)))
                #expect(cell.parent == "NO" && cell.unitName == name)
            }
            for (hf, rhf) in Self.helsefellesskap {
                let cell = try #require(engine.cell(mortalityKey(measure, 2023, .helsefellesskap, hf, sex)))
                #expect(cell.unitName == hf && cell.parent == rhf)
            }
        }
        // What arrived before the year appeared is already counted: p is in the 2023 cohort (subtracted from
        // Oslo's population, which has no count yet: N2 = 0 − 1), q (33 on 1 January) is a D2 in Oslo.
        let head = try #require(engine.cell(mortalityKey("hovedmaltall", 2023, .helsefellesskap, "Oslo")))
        #expect(head.numerator == 0 && head.denominator == 1 && head.patients == 1 && head.size == 1)
        #expect(head.d1 == 0 && head.n1 == 1 && head.d2 == 1 && head.n2 == -1)
        // No cells for a wrong sex, an unknown unit, a tertial or another indicator.
        #expect(engine.cell(mortalityKey("maltall-4", 2023, .national, "NO", .all)) == nil)
        #expect(engine.cell(mortalityKey("hovedmaltall", 2023, .helsefellesskap, "Atlantis")) == nil)
        #expect(engine.cell(mortalityKey("hovedmaltall", 2023, .hf, "Oslo")) == nil)
        #expect(engine.cell(CellKey(indicator: .overdodelighet, measure: "hovedmaltall", period: .tertial(2023, 1), level: .national, unit: "NO")) == nil)
        #expect(engine.cell(CellKey(indicator: .avbrudd, measure: "hovedmaltall", period: .year(2023), level: .national, unit: "NO")) == nil)
    }

    @Test func onlyTouchedCellsAreReported() {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(population: population(2023, count: 100))
        _ = engine.takeChangedCells()
        // A man in Oslo enters the 2023 cohort: total and male measures of NO, sor-ost and Oslo.
        engine.apply(version(episode("p", start: at("2022-01-01"), sex: 1, municipality: "0301")))
        let expected = Set(
            [(Level.national, "NO"), (.rhf, "sor-ost"), (.helsefellesskap, "Oslo")].flatMap { level, unit in
                Self.measures.filter { $0.2 != .female }.map { mortalityKey($0.0, 2023, level, unit, $0.2) }
            })
        let updates = engine.takeChangedCells()
        #expect(Set(updates.map(\.key)) == expected)
        #expect(updates.count == 18)
        #expect(updates.map(\.key) == updates.map(\.key).sorted())
        // A correction that changes nothing the rules read touches no cell.
        var corrected = episode("p", start: at("2022-01-01"), sex: 1, municipality: "0301")
        corrected.mainCondition = "F102"
        engine.apply(version(corrected, revision: 2))
        #expect(engine.takeChangedCells().isEmpty)
        // A woman's population count touches the total and female measures of her region.
        engine.apply(population: population(2023, "4601", sex: 2, age: 20, count: 5))
        #expect(
            Set(engine.takeChangedCells().map(\.key))
                == Set(
                    [(Level.national, "NO"), (.rhf, "vest"), (.helsefellesskap, "Bergen")].flatMap { level, unit in
                        Self.measures.filter { $0.2 != .male }.map { mortalityKey($0.0, 2023, level, unit, $0.2) }
                    }))
        // Cohort years without population counts are not reported.
        engine.apply(version(episode("r", start: at("2015-01-01"))))
        #expect(engine.takeChangedCells().isEmpty)
    }

    @Test func dirtyStateIsWhatChanged() {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(version(episode("p", start: at("2022-01-01"))))
        engine.apply(version(episode(nil, "anon", start: at("2022-01-01"))))
        engine.apply(death: death("q", "2023-01-01"))
        engine.apply(population: population(2023, count: 5))
        engine.apply(population: population(2023, count: 6))
        var dirty = engine.takeDirty()
        #expect(Set(dirty.persons.keys) == ["p", "q"])
        #expect(dirty.persons["q"]?.death?.deathDate == day("2023-01-01"))
        #expect(dirty.population == [population(2023, count: 6)])
        dirty = engine.takeDirty()
        #expect(dirty.persons.isEmpty && dirty.population.isEmpty)
        // Re-applying the same facts changes nothing.
        engine.apply(population: population(2023, count: 6))
        engine.apply(death: death("q", "2023-01-01"))
        dirty = engine.takeDirty()
        #expect(dirty.persons.isEmpty && dirty.population.isEmpty)
        // An annulled death leaves nothing to keep.
        engine.apply(death: death("q", "2023-01-01", status: .annulment))
        dirty = engine.takeDirty()
        #expect(dirty.persons["q"]?.isEmpty == true)
    }
}
