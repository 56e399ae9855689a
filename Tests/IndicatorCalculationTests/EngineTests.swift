import Foundation
import NPRCore
import Testing

@testable import IndicatorCalculation

@Suite struct EngineTests {
    let stayKey = Fx.key(.avbrudd, "hovedmaltall", "2024")

    func patient(sequence: Int, endType: Int?) -> StayChangelog {
        let e = Fx.episode("e", start: "2024-03-01", end: "2024-03-10", endType: endType)
        return Fx.changelog([e], stays: Fx.stays([e]), sequence: sequence)
    }

    @Test func olderAndRepeatedChangelogsAreIgnored() {
        var e = Fx.engine([patient(sequence: 5, endType: 2)])
        _ = e.takeChangedCells()
        _ = e.takeDirty()
        e.apply(patient(sequence: 4, endType: 1))
        e.apply(patient(sequence: 5, endType: 1))
        #expect(e.parts(stayKey) == Parts(1, 1))
        #expect(e.takeChangedCells().isEmpty)
        #expect(e.takeDirty().patients.isEmpty)
        e.apply(patient(sequence: 6, endType: 1))
        #expect(e.parts(stayKey) == Parts(0, 1))
    }

    @Test func removingTheLastContributionReportsNil() {
        var e = Fx.engine([patient(sequence: 1, endType: 2)])
        _ = e.takeChangedCells()
        let gone = StayChangelog(
            patientKey: PatientKey(rawValue: "p1"), sequence: 2,
            episodes: [EpisodeAssignment(key: EpisodeKey(institutionId: Fx.instA, episodeId: "e"), episode: nil)],
            stays: [], retracted: [], asserted: [])
        e.apply(gone)
        let updates = e.takeChangedCells()
        #expect(updates.contains { $0.key == stayKey && $0.cell == nil })
        #expect(updates.allSatisfy { $0.cell == nil })
        #expect(e.allCells.isEmpty)
        // The emptied patient keeps its sequence: a redelivered older changelog stays ignored.
        e.apply(patient(sequence: 1, endType: 2))
        #expect(e.allCells.isEmpty)
    }

    @Test func changedCellsAreReportedOnceAndOnlyWhenTouched() {
        var e = Fx.engine([patient(sequence: 1, endType: 2)])
        #expect(!e.takeChangedCells().isEmpty)
        #expect(e.takeChangedCells().isEmpty)
        e.apply(Fx.changelog([Fx.contact("k", pseudonym: "p9", on: "2023-05-01")]))
        #expect(e.takeChangedCells().allSatisfy { $0.key.period.year == 2023 })
    }

    @Test func dirtyStateRestoresToTheSameCells() throws {
        var e = Fx.engine(
            asOf: "2024-12-31",
            [
                patient(sequence: 1, endType: 2),
                Fx.changelog([Fx.episode("o", pseudonym: "p2", start: "2024-12-01", end: nil)]),
            ])
        e.apply(population: PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 30, count: 100))
        let dirty = e.takeDirty()
        #expect(dirty.patients.count == 2 && dirty.units.count == Fx.units.count && dirty.population.count == 1)
        #expect(e.takeDirty().patients.isEmpty)

        // Through JSON, as a service would persist it.
        let coded = try JSONDecoder().decode(
            [String: PatientCalcState].self,
            from: JSONEncoder().encode(Dictionary(uniqueKeysWithValues: dirty.patients.map { ($0.key.rawValue, $0.value) })))
        #expect(coded.count == 2 && coded["p1"] == dirty.patients[PatientKey(rawValue: "p1")])

        var restored = CalculatorEngine(asOf: Fx.date("2024-12-31"))
        restored.restore(
            patients: Dictionary(uniqueKeysWithValues: coded.map { (PatientKey(rawValue: $0.key), $0.value) }),
            units: dirty.units, population: dirty.population)
        #expect(restored.allCells == e.allCells)
        #expect(Set(restored.takeChangedCells().map(\.key)) == Set(e.allCells.keys))
        #expect(restored.takeDirty().patients.isEmpty)
        // Indexes are rebuilt too: the open episode follows the evaluation date.
        e.setAsOf(Fx.date("2025-01-05"))
        restored.setAsOf(Fx.date("2025-01-05"))
        #expect(restored.allCells == e.allCells)
    }

    @Test func restoringOverAnEngineReportsTheCellsThatDisappear() {
        var e = Fx.engine([patient(sequence: 1, endType: 2)])
        _ = e.takeChangedCells()
        let contact = Fx.contact("k", pseudonym: "p2", on: "2023-05-01")
        e.restore(patients: [contact.patientKey: PatientCalcState(Fx.changelog([contact]), after: nil)], units: Fx.units, population: [])
        let updates = Dictionary(uniqueKeysWithValues: e.takeChangedCells().map { ($0.key, $0.cell) })
        #expect(updates[stayKey] == .some(nil))
        #expect(updates[Fx.key(.nokkeltall, "polikliniske-kontakter", "2023")]??.numerator == 1)
        #expect(e.cell(stayKey) == nil)
    }
}
