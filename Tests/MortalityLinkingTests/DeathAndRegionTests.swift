import MortalityLinking
import NPRCore
import Testing

/// Deaths (`D1`, `D2`, registrations and annulments) and the region hierarchy.
struct DeathAndRegionTests {
    static func engine() -> MortalityEngine {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(population: population(2023, count: 1000))
        engine.apply(population: population(2024, count: 1000))
        return engine
    }

    @Test func restOfPopulationDeaths() {
        var engine = Self.engine()
        engine.apply(death: death("bergen-30", "2023-06-01", sex: 1, born: "1993-01-01", municipality: "4601"))
        engine.apply(death: death("aged-50", "2023-12-31", sex: 2, born: "1972-01-02", municipality: "4601"))  // 50 on 1 Jan
        engine.apply(death: death("aged-51", "2023-06-01", born: "1972-01-01", municipality: "4601"))  // 51 on 1 Jan
        engine.apply(death: death("aged-15", "2023-06-01", born: "2008-01-01", municipality: "4601"))  // 15 on 1 Jan
        engine.apply(death: death("aged-14", "2023-06-01", born: "2008-01-02", municipality: "4601"))  // 14 on 1 Jan
        engine.apply(death: death("homeless", "2023-06-01", municipality: nil))
        engine.apply(death: death("split", "2023-06-01", municipality: "1850"))
        engine.apply(death: death("old-trondheim", "2023-06-01", municipality: "1601"))
        engine.apply(death: death("last-year", "2022-06-01", municipality: "4601"))
        // Not a cohort member (right not granted): an ordinary D2.
        engine.apply(version(episode("refused", start: at("2021-01-01"), right: 2)))
        engine.apply(death: death("refused", "2023-06-01", municipality: "4601"))
        // A cohort member dying is a D1, never a D2, whatever the death record's region.
        engine.apply(version(episode("cohort", start: at("2021-01-01"), municipality: "0301")))
        engine.apply(death: death("cohort", "2023-06-01", municipality: "4601"))

        // National: bergen-30, aged-50, aged-15, refused (Bergen), split, old-trondheim; not homeless.
        #expect(engine.parts(2023)?.d2 == 6)
        #expect(engine.parts(2023, .national, "NO", .male)?.d2 == 5)
        #expect(engine.parts(2023, .national, "NO", .female)?.d2 == 1)
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.d2 == 4)
        #expect(engine.parts(2023, .rhf, "vest")?.d2 == 4)
        #expect(engine.parts(2023, .helsefellesskap, "St. Olav")?.d2 == 1)
        #expect(engine.parts(2023, .rhf, "midt-norge")?.d2 == 1)
        #expect(engine.parts(2023, .rhf, "nord")?.d2 == 0)  // the split number counts nationally only
        #expect(engine.parts(2023, .helsefellesskap, "Oslo") == Parts(d1: 1, n1: 1, d2: 0, n2: 999))
        #expect(engine.parts(2024)?.d2 == 0)
    }

    @Test func laterRegistrationReplacesAndAnnulmentUndoes() {
        var engine = Self.engine()
        engine.apply(version(episode("p", start: at("2021-01-01"))))
        engine.apply(death: death("p", "2023-03-01"))
        #expect(engine.parts(2023) == Parts(d1: 1, n1: 1, d2: 0, n2: 999))
        #expect(engine.parts(2024)?.n1 == 0)  // died before 2024
        engine.apply(death: death("p", "2024-02-01"))
        #expect(engine.parts(2023) == Parts(d1: 0, n1: 1, d2: 0, n2: 999))
        #expect(engine.parts(2024) == Parts(d1: 1, n1: 1, d2: 0, n2: 999))
        engine.apply(death: death("p", "2024-02-01", status: .annulment))
        #expect(engine.parts(2023) == Parts(d1: 0, n1: 1, d2: 0, n2: 999))
        #expect(engine.parts(2024) == Parts(d1: 0, n1: 1, d2: 0, n2: 999))
        // Death records of the rest of the population: replaced and annulled the same way.
        engine.apply(death: death("q", "2023-03-01", municipality: "4601"))
        engine.apply(death: death("q", "2023-03-01", municipality: "1103"))
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.d2 == 0)
        #expect(engine.parts(2023, .helsefellesskap, "Stavanger")?.d2 == 1)
        engine.apply(death: death("q", "2023-03-01", status: .annulment))
        #expect(engine.parts(2023)?.d2 == 0)
        // An annulment for a person without a registration changes nothing.
        engine.apply(death: death("nobody", "2023-03-01", status: .annulment))
        #expect(engine.parts(2023) == Parts(d1: 0, n1: 1, d2: 0, n2: 999))
    }

    @Test func regionsFromMunicipalities() {
        var engine = Self.engine()
        let start = at("2021-01-01")
        engine.apply(version(episode("oslo", start: start, municipality: "0301")))  // Oslo, sor-ost
        var withDistrict = episode("oslo-bydel", start: start, municipality: "0301")
        withDistrict.district = "030101"
        engine.apply(version(withDistrict))
        engine.apply(version(episode("old-trondheim", start: start, municipality: "1601")))  // → 5001, St. Olav
        engine.apply(version(episode("old-alesund", start: start, municipality: "1504")))  // split within Møre og Romsdal
        engine.apply(version(episode("tysfjord", start: start, municipality: "1850")))  // split Nordland / UNN
        #expect(engine.parts(2023)?.n1 == 5)
        #expect(engine.parts(2023, .helsefellesskap, "Oslo")?.n1 == 2)
        #expect(engine.parts(2023, .rhf, "sor-ost")?.n1 == 2)
        #expect(engine.parts(2023, .helsefellesskap, "St. Olav")?.n1 == 1)
        #expect(engine.parts(2023, .helsefellesskap, "Møre og Romsdal")?.n1 == 1)
        #expect(engine.parts(2023, .rhf, "midt-norge")?.n1 == 2)
        #expect(engine.parts(2023, .rhf, "nord")?.n1 == 0)
        #expect(engine.parts(2023, .helsefellesskap, "Nordland")?.n1 == 0)
        #expect(engine.parts(2023, .helsefellesskap, "UNN")?.n1 == 0)
        // The split person is subtracted from the national population only.
        #expect(engine.parts(2023)?.n2 == 1000 - 5)
        #expect(engine.parts(2023, .helsefellesskap, "Oslo")?.n2 == 1000 - 2)
    }

    @Test func populationByRegionSexAndAge() {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(population: population(2023, "4601", sex: 1, age: 15, count: 10))
        engine.apply(population: population(2023, "4601", sex: 1, age: 50, count: 20))
        engine.apply(population: population(2023, "4601", sex: 1, age: 14, count: 400))
        engine.apply(population: population(2023, "4601", sex: 1, age: 51, count: 500))
        engine.apply(population: population(2023, "4601", sex: 2, age: 30, count: 7))
        engine.apply(population: population(2023, "0301", sex: 2, age: 30, count: 100))
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.n2 == 37)
        #expect(engine.parts(2023, .helsefellesskap, "Bergen", .male)?.n2 == 30)
        #expect(engine.parts(2023, .rhf, "vest", .female)?.n2 == 7)
        #expect(engine.parts(2023)?.n2 == 137)
        // Upsert: a later count for the same key replaces the earlier one.
        engine.apply(population: population(2023, "4601", sex: 1, age: 50, count: 5))
        #expect(engine.parts(2023, .helsefellesskap, "Bergen")?.n2 == 22)
        #expect(engine.parts(2023)?.n2 == 122)
    }
}
