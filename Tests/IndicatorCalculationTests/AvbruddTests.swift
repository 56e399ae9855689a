import EpisodeLinking
import NPRCore
import Testing

@testable import IndicatorCalculation

@Suite struct AvbruddTests {
    /// One patient with one closed stay at `unit`.
    func closedStay(
        _ id: String, pseudonym: String? = nil, born: String = "1984-01-01", end: String = "2024-03-10",
        endType: Int?, unit: String = "uA1", inst: String = Fx.instA
    ) -> StayChangelog {
        let e = Fx.episode(
            id, inst: inst, unit: unit, pseudonym: pseudonym ?? "p-\(id)", born: born,
            start: "2024-03-01", end: end, endType: endType)
        return Fx.changelog([e], stays: Fx.stays([e]))
    }

    func avbrudd(_ measure: AvbruddMeasure, _ period: String, _ level: Level = .national, _ unit: String = "NO") -> CellKey {
        Fx.key(.avbrudd, measure.rawValue, period, level, unit)
    }

    @Test func agesOnTheEndDateDecideTheMeasures() {
        // Ages on 2024-03-10: 17, 18, 22, 23, 29, 30. All interrupted (3) except the 22-year-old (1).
        let e = Fx.engine([
            closedStay("a17", born: "2006-03-11", endType: 3),
            closedStay("a18", born: "2006-03-10", endType: 3),
            closedStay("a22", born: "2001-03-11", endType: 1),
            closedStay("a23", born: "2001-03-10", endType: 3),
            closedStay("a29", born: "1994-03-11", endType: 3),
            closedStay("a30", born: "1994-03-10", endType: 3),
        ])
        for period in ["2024", "2024-T1"] {
            #expect(e.parts(avbrudd(.hovedmaltall, period)) == Parts(4, 5))
            #expect(e.parts(avbrudd(.maltall2, period)) == Parts(0, 5))
            #expect(e.parts(avbrudd(.maltall3, period)) == Parts(1, 2))
            #expect(e.parts(avbrudd(.maltall4, period)) == Parts(3, 4))
        }
        #expect(e.cell(avbrudd(.hovedmaltall, "2024"))?.patients == 5)
        #expect(e.cell(avbrudd(.maltall3, "2024"))?.patients == 2)
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T2")) == nil)
    }

    @Test func endTypesTwoToFourInterruptAndMissingIsMaltall2() {
        let types: [Int?] = [1, 2, 3, 4, 5, 6, nil]
        let e = Fx.engine(types.enumerated().map { closedStay("t\($0.offset)", endType: $0.element) })
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T1")) == Parts(3, 7))
        #expect(e.parts(avbrudd(.maltall2, "2024-T1")) == Parts(1, 7))
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T1"))?.size == 7)
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T1"))?.formula == .share)
    }

    @Test func aStayCountsInTheTertialOfItsEndDate() {
        let ends = ["2024-04-30T23:59", "2024-05-01T00:00", "2024-08-31T23:59", "2024-12-31T23:59"]
        let episodes = ends.enumerated().map { i, end in
            Fx.episode("s\(i)", start: "2024-0\(i + 1)-01", end: end, endType: 2)
        }
        let e = Fx.engine([Fx.changelog(episodes, stays: episodes.flatMap { Fx.stays([$0]) })])
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T1")) == Parts(1, 1))
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T2")) == Parts(2, 2))
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T3")) == Parts(1, 1))
        #expect(e.parts(avbrudd(.hovedmaltall, "2024")) == Parts(4, 4))
        #expect(e.cell(avbrudd(.hovedmaltall, "2024"))?.patients == 1)
    }

    @Test func levelsFollowTheStaysUnitWithParentsAndNames() {
        let e = Fx.engine([closedStay("b", end: "2024-06-01", endType: 4, unit: "uB1", inst: Fx.instB)])
        let national = e.cell(avbrudd(.hovedmaltall, "2024-T2"))
        let rhf = e.cell(avbrudd(.hovedmaltall, "2024-T2", .rhf, "vest"))
        let hf = e.cell(avbrudd(.hovedmaltall, "2024-T2", .hf, Fx.instB))
        let unit = e.cell(avbrudd(.hovedmaltall, "2024-T2", .unit, "uB1"))
        #expect(national?.parent == nil && national?.unitName == "Norge")
        #expect(rhf?.parent == "NO" && rhf?.unitName == "Helse Vest")
        #expect(hf?.parent == "vest" && hf?.unitName == "Privat B")
        #expect(unit?.parent == Fx.instB && unit?.unitName == "Enhet uB1")
        for c in [national, rhf, hf, unit] { #expect(c.map { Parts($0.numerator, $0.denominator) } == Parts(1, 1)) }
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T2", .rhf, "sor-ost")) == nil)
    }

    @Test func openStaysDoNotCountAndAnonymousStaysArePatientsOfTheirOwn() {
        let closed1 = Fx.episode("c1", start: "2024-01-02", end: "2024-01-20", endType: 2)
        let closed2 = Fx.episode("c2", start: "2024-02-01", end: "2024-02-20", endType: 1)
        let open = Fx.episode("o", start: "2024-03-01", end: nil)
        let anon1 = Fx.episode("x1", pseudonym: nil, start: "2024-02-01", end: "2024-02-03", endType: 3)
        let anon2 = Fx.episode("x2", pseudonym: nil, start: "2024-02-01", end: "2024-02-03", endType: nil)
        let e = Fx.engine([
            Fx.changelog([closed1, closed2, open], stays: Fx.stays([closed1]) + Fx.stays([closed2]) + Fx.stays([open])),
            Fx.changelog([anon1], stays: Fx.stays([anon1])),
            Fx.changelog([anon2], stays: Fx.stays([anon2])),
        ])
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T1")) == Parts(2, 4))
        #expect(e.parts(avbrudd(.maltall2, "2024-T1")) == Parts(1, 4))
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T1"))?.patients == 3)
    }

    @Test func nonTSBEpisodesAndCorrectionsOutOfTSBCountNowhere() {
        let phv = Fx.episode("phv", sector: "PHV", start: "2024-03-01", end: "2024-03-10", endType: 2)
        var e = Fx.engine([Fx.changelog([phv], stays: Fx.stays([phv]))])
        #expect(e.allCells.isEmpty)

        var tsb = phv
        tsb.sector = "TSB"
        e.apply(Fx.changelog([tsb], stays: Fx.stays([tsb]), sequence: 2))
        #expect(e.parts(avbrudd(.hovedmaltall, "2024")) == Parts(1, 1))
        _ = e.takeChangedCells()
        e.apply(Fx.changelog([phv], stays: Fx.stays([phv]), sequence: 3))
        #expect(e.allCells.isEmpty)
        let updates = e.takeChangedCells()
        #expect(!updates.isEmpty && updates.allSatisfy { $0.cell == nil })
    }

    @Test func detoxEpisodesStayOutOfTreatmentStaysButNotOutOfInstitutionStays() {
        // Linked by the real StayLinker: detox at uA2, then treatment at uA1 the next day (same institution).
        let detox = Fx.episode("d", unit: "uA2", start: "2024-01-01", end: "2024-01-10", endType: 2)
        let treatment = Fx.episode("t", unit: "uA1", start: "2024-01-11", end: "2024-01-20", endType: 1)
        let register = UnitRegister(Fx.units)
        let stays =
            StayLinker.treatmentStays(patientKey: detox.patientKey, episodes: [detox, treatment], unit: { register[$0] })
            + StayLinker.institutionStays(patientKey: detox.patientKey, episodes: [detox, treatment])
        let e = Fx.engine([Fx.changelog([detox, treatment], stays: stays)])
        #expect(e.parts(avbrudd(.hovedmaltall, "2024-T1")) == Parts(0, 1))
        #expect(e.cell(avbrudd(.hovedmaltall, "2024-T1", .unit, "uA2")) == nil)
        #expect(e.parts(Fx.key(.nokkeltall, "dognopphold", "2024-T1")) == Parts(1))
        #expect(e.parts(Fx.key(.nokkeltall, "oppholdsdogn", "2024-T1")) == Parts(18))
    }

    @Test func aUnitChangeMovesTheCells() {
        var e = Fx.engine([closedStay("m", endType: 2, unit: "uC1", inst: Fx.instC)])
        #expect(e.parts(avbrudd(.hovedmaltall, "2024", .hf, "hfC")) == Parts(1, 1))
        _ = e.takeChangedCells()

        e.apply(unit: Fx.unit("uC1", inst: Fx.instC, hf: "hfD", hfName: "HF D", rhf: .midtNorge, name: "Ny enhet"))
        let updates = Dictionary(uniqueKeysWithValues: e.takeChangedCells().map { ($0.key, $0.cell) })
        for period in ["2024", "2024-T1"] {
            #expect(updates[avbrudd(.hovedmaltall, period, .hf, "hfC")] == .some(nil))
            #expect(updates[avbrudd(.hovedmaltall, period, .rhf, "nord")] == .some(nil))
            #expect(updates[avbrudd(.hovedmaltall, period, .hf, "hfD")]??.parent == "midt-norge")
            #expect(updates[avbrudd(.hovedmaltall, period, .rhf, "midt-norge")]??.numerator == 1)
            let unitCell = updates[avbrudd(.hovedmaltall, period, .unit, "uC1")] ?? nil
            #expect(unitCell?.parent == "hfD" && unitCell?.unitName == "Ny enhet")
        }
        #expect(e.cell(avbrudd(.hovedmaltall, "2024", .rhf, "nord")) == nil)
    }

    @Test func aUnitArrivingLateAddsItsLevels() {
        var e = Fx.engine(units: [], [closedStay("late", endType: 2, unit: "uB1", inst: Fx.instB)])
        #expect(Set(e.cells(of: .avbrudd).keys.map(\.level)) == [.national])
        e.apply(unit: Fx.units[2])
        #expect(Set(e.cells(of: .avbrudd).keys.map(\.level)) == [.national, .rhf, .hf, .unit])
    }

    @Test func aRenamedHFMarksItsCellsEvenWhenNoContributionMoves() {
        // Two units of HF A; the HF's name comes from its smallest unitId (uA1).
        var e = Fx.engine([closedStay("r", endType: 2, unit: "uA2")])
        _ = e.takeChangedCells()
        e.apply(unit: Fx.unit("uA1", inst: Fx.instA, hf: "hfA", hfName: "HF A nytt navn", rhf: .sorOst))
        let updates = e.takeChangedCells()
        #expect(updates.contains { $0.key == avbrudd(.hovedmaltall, "2024", .hf, "hfA") && $0.cell?.unitName == "HF A nytt navn" })
        #expect(!updates.contains { $0.key.level == .unit })
    }
}
