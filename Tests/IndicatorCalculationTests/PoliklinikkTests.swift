import NPRCore
import Testing

@testable import IndicatorCalculation

@Suite struct PoliklinikkTests {
    func pk(_ measure: String, _ period: String = "2024", _ rhf: RHF? = nil) -> CellKey {
        rhf.map { Fx.key(.poliklinikk, measure, period, .bostedRHF, $0.rawValue) } ?? Fx.key(.poliklinikk, measure, period)
    }

    static let population = [
        PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 18, count: 5000),
        PopulationEvent(year: 2024, municipality: "0301", sex: 2, age: 17, count: 1000),
        PopulationEvent(year: 2024, municipality: "4601", sex: 1, age: 40, count: 3000),
    ]

    /// p1 (Oslo): three §4 contacts, three that §4 excludes, and an inpatient stay ending in 2024 (F12).
    /// p2 (Bergen): two contacts, the later one F19. One anonymous ambulant contact in Oslo (F10).
    func scenario() -> CalculatorEngine {
        let p1 = [
            Fx.contact("c1", on: "2024-02-01", condition: "F10", tariffs: ["P13"]),
            Fx.contact("c2", on: "2024-04-01", condition: "F10", contactType: 7),
            Fx.contact("c3", on: "2024-06-01", condition: "F10", activityPlace: 9, activityType: 4),
            Fx.contact("lar", on: "2024-06-02", condition: "Z5030", tariffs: ["P13"]),
            Fx.contact("for-inpatient", on: "2024-06-03", careLevel: 8),
            Fx.contact("day", on: "2024-06-04", careLevel: 2),
            Fx.episode("stay", start: "2024-02-10", end: "2024-03-01", endType: 1, condition: "F12"),
        ]
        let p2 = [
            Fx.contact("c4", pseudonym: "p2", on: "2024-03-01", municipality: "4601", condition: "F11", tariffs: ["P14a"]),
            Fx.contact("c5", pseudonym: "p2", on: "2024-09-01", municipality: "4601", condition: "F19", indirectActivity: 22),
        ]
        let anon = Fx.contact("x", pseudonym: nil, on: "2024-05-01", condition: "F10", tariffs: ["P17"])
        var e = Fx.engine([Fx.changelog(p1, stays: Fx.stays([p1[6]])), Fx.changelog(p2), Fx.changelog([anon])])
        for row in Self.population { e.apply(population: row) }
        return e
    }

    @Test func categoriesCountContactsAndPatients() {
        let e = scenario()
        #expect(e.parts(pk("konsultasjoner-kontakter")) == Parts(6))
        #expect(e.cell(pk("konsultasjoner-kontakter"))?.patients == 3)
        #expect(e.parts(pk("konsultasjoner-pasienter")) == Parts(2))
        #expect(e.parts(pk("forstelinjemote-kontakter")) == Parts(2))
        #expect(e.parts(pk("telefon-kontakter")) == Parts(2))
        #expect(e.parts(pk("telefon-pasienter")) == Parts(2))
        #expect(e.parts(pk("gruppe-kontakter")) == Parts(1))
        #expect(e.parts(pk("ambulant-kontakter")) == Parts(2))
        #expect(e.parts(pk("ambulant-pasienter")) == Parts(1))
        #expect(e.parts(pk("ambulant-kontakter-per-pasient")) == Parts(1, 1))
        #expect(e.cell(pk("konsultasjoner-kontakter", "2024-T1")) == nil)
        #expect(e.parts(pk("konsultasjoner-kontakter", "2024", .sorOst)) == Parts(4))
        #expect(e.parts(pk("konsultasjoner-kontakter", "2024", .vest)) == Parts(2))
    }

    @Test func ratiosAndSharesLeaveAnonymousContactsOut() {
        let e = scenario()
        let perPatient = e.cell(pk("konsultasjoner-kontakter-per-pasient"))
        #expect(perPatient.map { Parts($0.numerator, $0.denominator) } == Parts(5, 2))
        #expect(perPatient?.formula == .ratio && perPatient?.size == 2)
        #expect(e.parts(pk("konsultasjoner-andel-dognpasienter")) == Parts(1, 2))
        #expect(e.parts(pk("konsultasjoner-andel-dognpasienter", "2024", .vest)) == Parts(0, 1))
    }

    @Test func ratesPer10000AdultsOfTheBostedRegion() {
        let e = scenario()
        let national = e.cell(pk("konsultasjoner-pasienter-per-10000"))
        #expect(national.map { Parts($0.numerator, $0.denominator) } == Parts(2, 8000))
        #expect(national?.formula == .rate && national?.scale == 10_000 && national?.size == 2)
        #expect(e.parts(pk("konsultasjoner-pasienter-per-10000", "2024", .sorOst)) == Parts(1, 5000))
        #expect(e.parts(pk("telefon-pasienter-per-10000-f19", "2024", .vest)) == Parts(1, 3000))
    }

    @Test func ratesCountOnlyPatientsAged18On1January() {
        // Born 2006-01-02: 17 on 1 January 2024, 18 on 1 January 2025.
        func contact(_ id: String, _ day: String) -> Episode {
            Fx.episode(id, pseudonym: "teen", born: "2006-01-02", careLevel: 3, start: day, end: day, condition: "F12")
        }
        let e = Fx.engine([Fx.changelog([contact("a", "2024-06-01"), contact("b", "2025-01-01")])])
        #expect(e.parts(pk("konsultasjoner-pasienter", "2024")) == Parts(1))
        #expect(e.cell(pk("konsultasjoner-pasienter-per-10000", "2024")) == nil)
        #expect(e.parts(pk("konsultasjoner-pasienter-per-10000", "2025")) == Parts(1, 0))
    }

    @Test func aPopulationChangeUpdatesOnlyTheRatesItFeeds() {
        var e = scenario()
        _ = e.takeChangedCells()
        e.apply(population: PopulationEvent(year: 2024, municipality: "0301", sex: 2, age: 17, count: 4000))
        #expect(e.takeChangedCells().isEmpty)

        e.apply(population: PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 18, count: 6000))
        let updates = e.takeChangedCells()
        #expect(!updates.isEmpty)
        #expect(updates.allSatisfy { $0.key.measure.contains("per-10000") && ($0.key.unit == "NO" || $0.key.unit == "sor-ost") })
        #expect(updates.contains { $0.key == pk("konsultasjoner-pasienter-per-10000") && $0.cell?.denominator == 9000 })
        #expect(updates.contains { $0.key == pk("gruppe-pasienter-per-10000-f12", "2024", .sorOst) && $0.cell?.denominator == 6000 })
        #expect(e.parts(pk("konsultasjoner-pasienter-per-10000", "2024", .vest)) == Parts(1, 3000))
        e.apply(population: PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 18, count: 6000))
        #expect(e.takeChangedCells().isEmpty)
    }

    @Test func patientGroupIsTheLastInpatientEpisodeEndingInTheYearElseTheLastContact() {
        let e = scenario()
        #expect(e.parts(pk("konsultasjoner-kontakter-f12")) == Parts(3))  // p1: the stay ending in 2024
        #expect(e.parts(pk("konsultasjoner-andel-dognpasienter-f12")) == Parts(1, 1))
        #expect(e.parts(pk("konsultasjoner-kontakter-f19")) == Parts(2))  // p2: the later contact
        #expect(e.parts(pk("konsultasjoner-kontakter-f10")) == Parts(1))  // the anonymous contact, by itself
        #expect(e.cell(pk("konsultasjoner-pasienter-f10")) == nil)
        #expect(e.cell(pk("konsultasjoner-kontakter-f11")) == nil)
    }

    @Test func anInpatientEpisodeEndingNextYearGroupsThatYear() {
        let episodes = [
            Fx.contact("a", on: "2024-01-10", condition: "F10"),
            Fx.contact("b", on: "2024-03-10", condition: "F11"),
            Fx.episode("s", start: "2024-11-01", end: "2025-01-10", endType: 1, condition: "F12"),
            Fx.contact("c", on: "2025-02-01", condition: "F13"),
        ]
        let e = Fx.engine([Fx.changelog(episodes, stays: Fx.stays([episodes[2]]))])
        #expect(e.parts(pk("konsultasjoner-kontakter-f11", "2024")) == Parts(2))
        #expect(e.parts(pk("konsultasjoner-andel-dognpasienter-f11", "2024")) == Parts(1, 1))
        #expect(e.parts(pk("konsultasjoner-kontakter-f12", "2025")) == Parts(1))
        // No population for the year: the rate exists with denominator 0.
        #expect(e.parts(pk("konsultasjoner-pasienter-per-10000", "2025")) == Parts(1, 0))
    }

    @Test func contactsAtTheSameTimeAreOrderedByInstitution() {
        let episodes = [
            Fx.contact("a", on: "2024-01-10", inst: Fx.instB, condition: "F11"),
            Fx.contact("b", on: "2024-01-10", inst: Fx.instA, condition: "F10"),
        ]
        let e = Fx.engine([Fx.changelog(episodes)])
        #expect(e.parts(pk("konsultasjoner-kontakter-f11")) == Parts(2))
    }
}
