import NPRCore
import Testing

@testable import IndicatorCalculation

@Suite struct NokkeltallTests {
    func nk(_ measure: String, _ period: String, _ rhf: RHF? = nil) -> CellKey {
        rhf.map { Fx.key(.nokkeltall, measure, period, .bostedRHF, $0.rawValue) } ?? Fx.key(.nokkeltall, measure, period)
    }

    @Test func aStayFrom31DecemberTo1JanuaryAddsItsBedDayToTheNewYear() {
        let e1 = Fx.episode("nye", start: "2023-12-31T20:00", end: "2024-01-01T09:00", endType: 1)
        let e = Fx.engine([Fx.changelog([e1], stays: Fx.stays([e1]))])
        #expect(e.parts(nk("oppholdsdogn", "2024")) == Parts(1))
        #expect(e.parts(nk("oppholdsdogn", "2024-T1")) == Parts(1))
        #expect(e.cell(nk("oppholdsdogn", "2023")) == nil)
        #expect(e.cell(nk("oppholdsdogn", "2023-T3")) == nil)
        // The episode overlaps both years: a (døgn)patient of each; the stay ends in 2024.
        for period in ["2023", "2023-T3", "2024", "2024-T1"] {
            #expect(e.parts(nk("pasienter", period)) == Parts(1))
            #expect(e.parts(nk("dognpasienter", period)) == Parts(1))
        }
        #expect(e.cell(nk("dognopphold", "2023")) == nil)
        #expect(e.parts(nk("dognopphold", "2024-T1")) == Parts(1))
        #expect(e.cell(nk("oppholdsdogn", "2024"))?.formula == .count)
        #expect(e.cell(nk("oppholdsdogn", "2024"))?.size == 1)
    }

    @Test func midnightsSplitAtTertialBoundaries() {
        // Midnights fall on 30 April (T1), 1 and 2 May (T2).
        let e1 = Fx.episode("t", start: "2024-04-29", end: "2024-05-02", endType: 1)
        let e = Fx.engine([Fx.changelog([e1], stays: Fx.stays([e1]))])
        #expect(e.parts(nk("oppholdsdogn", "2024-T1")) == Parts(1))
        #expect(e.parts(nk("oppholdsdogn", "2024-T2")) == Parts(2))
        #expect(e.parts(nk("oppholdsdogn", "2024")) == Parts(3))
        #expect(e.parts(nk("dognpasienter", "2024-T1")) == Parts(1))
        #expect(e.parts(nk("dognopphold", "2024-T2")) == Parts(1))
        #expect(e.cell(nk("dognopphold", "2024-T1")) == nil)
    }

    @Test func openEpisodesRunToTheEvaluationDateAndFollowItsChanges() {
        let open = Fx.episode("o", start: "2024-08-30", end: nil)
        let closedPatient = Fx.contact("k", pseudonym: "p2", on: "2024-02-01")
        var e = Fx.engine(asOf: "2024-09-02", [Fx.changelog([open], stays: Fx.stays([open])), Fx.changelog([closedPatient])])
        #expect(e.parts(nk("oppholdsdogn", "2024-T2")) == Parts(1))
        #expect(e.parts(nk("oppholdsdogn", "2024-T3")) == Parts(2))
        #expect(e.parts(nk("dognpasienter", "2024-T3")) == Parts(1))
        #expect(e.cell(nk("dognopphold", "2024")) == nil)  // open stays end nowhere
        _ = e.takeChangedCells()

        e.setAsOf(Fx.date("2025-01-02"))
        #expect(e.parts(nk("oppholdsdogn", "2024-T3")) == Parts(122))  // 1 Sep … 31 Dec
        #expect(e.parts(nk("oppholdsdogn", "2025-T1")) == Parts(2))
        #expect(e.parts(nk("pasienter", "2025")) == Parts(1))
        let updates = e.takeChangedCells()
        // Every cell carries the evaluation date, so every cell is reported, with the new date.
        #expect(Set(updates.map(\.key)) == Set(e.allCells.keys))
        #expect(updates.allSatisfy { $0.cell?.asOf == Fx.date("2025-01-02") })

        e.setAsOf(Fx.date("2024-12-31"))
        let back = Dictionary(uniqueKeysWithValues: e.takeChangedCells().map { ($0.key, $0.cell) })
        #expect(back[nk("pasienter", "2025")] == .some(nil))
        #expect(e.parts(nk("oppholdsdogn", "2024")) == Parts(123))
    }

    @Test func anOpenEpisodeStartingAfterTheEvaluationDateCountsInItsStartPeriodOnly() {
        let future = Fx.episode("f", start: "2025-03-01", end: nil)
        let e = Fx.engine(asOf: "2024-12-31", [Fx.changelog([future], stays: Fx.stays([future]))])
        #expect(e.parts(nk("dognpasienter", "2025-T1")) == Parts(1))
        #expect(e.cell(nk("oppholdsdogn", "2025")) == nil)
        #expect(e.cell(nk("pasienter", "2024")) == nil)
    }

    @Test func contactKindsFirstMatchWins() {
        let contacts = [
            Fx.contact("dag", on: "2024-02-01", careLevel: 2, indirectActivity: 22),  // dagbehandling first
            Fx.contact("sam", on: "2024-02-02", contactType: 7, indirectActivity: 23),  // samarbeidsmote before tele
            Fx.contact("tlf", on: "2024-02-03", activityPlace: 4, indirectActivity: 71),
            Fx.contact("vid", on: "2024-02-04", contactType: 6, activityPlace: 2),  // tele-video before ambulant
            Fx.contact("tel", on: "2024-02-05", activityPlace: 3),
            Fx.contact("amb", on: "2024-02-06", activityPlace: 9),
            Fx.contact("opp", on: "2024-02-07", careLevel: 8, activityPlace: 1),
        ]
        let e = Fx.engine([Fx.changelog(contacts)])
        #expect(e.parts(nk("polikliniske-kontakter", "2024-T1")) == Parts(7))
        let expected = ["dagbehandling": 1, "samarbeidsmote": 1, "telefonmote-forstelinje": 1, "tele-video": 2, "ambulant": 1, "oppmote": 1]
        for (kind, count) in expected { #expect(e.parts(nk("kontakter-" + kind, "2024-T1")) == Parts(count)) }
        #expect(e.parts(nk("pasienter", "2024-T1")) == Parts(1))
        #expect(e.cell(nk("dognpasienter", "2024")) == nil)
    }

    @Test func sharesOfLARAndPrivateUnits() {
        let inB = Fx.contact("b", on: "2024-05-02", unit: "uB1", inst: Fx.instB, condition: "Z5030")
        let inA = Fx.contact("a", on: "2024-05-03", condition: "F112")
        let stayB = Fx.episode("sb", inst: Fx.instB, unit: "uB1", start: "2024-06-01", end: "2024-06-04", endType: 1)
        let stayA = Fx.episode("sa", start: "2024-07-01", end: "2024-07-02", endType: 1)
        let e = Fx.engine([Fx.changelog([inB, inA, stayB, stayA], stays: Fx.stays([stayB]) + Fx.stays([stayA]))])
        #expect(e.parts(nk("lar-andel", "2024-T2")) == Parts(1, 2))
        #expect(e.parts(nk("privat-andel-kontakter", "2024-T2")) == Parts(1, 2))
        #expect(e.parts(nk("privat-andel-dognopphold", "2024")) == Parts(1, 2))
        #expect(e.parts(nk("privat-andel-oppholdsdogn", "2024")) == Parts(3, 4))
        #expect(e.cell(nk("privat-andel-oppholdsdogn", "2024"))?.size == 4)
        #expect(e.cell(nk("lar-andel", "2024"))?.formula == .share)
        #expect(e.parts(nk("diagnose-z5030-kontakter", "2024")) == Parts(1))
        #expect(e.parts(nk("diagnose-f11-kontakter", "2024")) == Parts(1))
    }

    @Test func bostedRegionFromMunicipalityElseUnitAndNoneWhenSplit() {
        let contacts = [
            Fx.contact("bergen", pseudonym: "p1", on: "2024-01-10", municipality: "4601"),
            Fx.contact("oslo", pseudonym: "p1", on: "2024-06-10", municipality: "0301"),
            Fx.contact("oldTrondheim", pseudonym: "p2", on: "2024-01-11", municipality: "1601"),
            Fx.contact("noAddress", pseudonym: "p3", on: "2024-01-12", unit: "uC1", inst: Fx.instC, municipality: nil),
            Fx.contact("split", pseudonym: "p4", on: "2024-01-13", municipality: "1850"),
        ]
        let e = Fx.engine(Dictionary(grouping: contacts, by: \.patientKey).values.map { Fx.changelog($0) })
        #expect(e.parts(nk("pasienter", "2024")) == Parts(4))
        #expect(e.parts(nk("pasienter", "2024", .vest)) == Parts(1))
        #expect(e.parts(nk("pasienter", "2024", .sorOst)) == Parts(1))  // moved: counted in both regions
        #expect(e.parts(nk("pasienter", "2024", .midtNorge)) == Parts(1))
        #expect(e.parts(nk("pasienter", "2024", .nord)) == Parts(1))  // no address: the unit's RHF
        #expect(e.parts(nk("polikliniske-kontakter", "2024", .nord)) == Parts(1))  // the split number has no region
        #expect(e.cell(nk("pasienter", "2024-T2", .vest)) == nil)
        let bosted = e.cell(nk("pasienter", "2024", .vest))
        #expect(bosted?.parent == "NO" && bosted?.unitName == "Helse Vest")
        #expect(e.cell(nk("pasienter", "2024"))?.unitName == "Norge")
    }

    @Test func anonymousEpisodesCountAsContactsButNotAsPatients() {
        let anon = Fx.contact("x", pseudonym: nil, on: "2024-03-01")
        var e = Fx.engine([Fx.changelog([anon])])
        #expect(e.cell(nk("pasienter", "2024")) == nil)
        #expect(e.cell(nk("diagnose-f10-pasienter", "2024")) == nil)
        #expect(e.cell(nk("polikliniske-kontakter", "2024"))?.patients == 1)

        e.apply(Fx.changelog([Fx.contact("y", pseudonym: "p1", on: "2024-03-02")]))
        #expect(e.parts(nk("pasienter", "2024")) == Parts(1))
        #expect(e.cell(nk("pasienter", "2024"))?.patients == 1)
        #expect(e.parts(nk("polikliniske-kontakter", "2024")) == Parts(2))
        #expect(e.cell(nk("polikliniske-kontakter", "2024"))?.patients == 2)
    }

    @Test func diagnosisGroupsByMainCondition() {
        let cases: [(String?, DiagnosisGroup)] = [
            ("F100", .f10), ("F11", .f11), ("F122", .f12), ("F13", .f13), ("F142", .f14), ("F15", .f15), ("F192", .f19),
            ("F16", .f16f18), ("F172", .f16f18), ("F18", .f16f18), ("F630", .f630), ("F631", .annenF), ("F322", .annenF),
            ("F1", .annenF), ("R45", .r), ("Z5030", .z5030), ("Z50301", .z5030), ("Z503", .annenZ), ("Z76", .annenZ),
            ("A09", .andre), ("T40", .andre), (nil, .mangler), ("", .mangler),
        ]
        for (code, group) in cases { #expect(DiagnosisGroup(mainCondition: code) == group, "\(code ?? "nil")") }
    }

    @Test func diagnosisMeasuresCountPatientsStaysBedDaysAndContactsPerGroup() {
        let stay1 = Fx.episode("s1", start: "2024-01-01", end: "2024-01-05", endType: 1, condition: "F10")
        let stay2 = Fx.episode("s2", unit: "uA1", start: "2024-01-05", end: "2024-01-08", endType: 1, condition: "F11")
        let contact = Fx.contact("c", on: "2024-02-01", condition: nil)
        // s1 and s2 chain into one institution stay whose last episode is s2 (F11).
        let e = Fx.engine([Fx.changelog([stay1, stay2, contact], stays: Fx.stays([stay1, stay2]))])
        #expect(e.parts(nk("diagnose-f10-pasienter", "2024")) == Parts(1))
        #expect(e.parts(nk("diagnose-f11-pasienter", "2024")) == Parts(1))
        #expect(e.parts(nk("diagnose-mangler-pasienter", "2024")) == Parts(1))
        #expect(e.parts(nk("diagnose-f10-oppholdsdogn", "2024")) == Parts(4))
        #expect(e.parts(nk("diagnose-f11-oppholdsdogn", "2024")) == Parts(3))
        #expect(e.cell(nk("diagnose-f10-dognopphold", "2024")) == nil)
        #expect(e.parts(nk("diagnose-f11-dognopphold", "2024")) == Parts(1))
        #expect(e.parts(nk("diagnose-mangler-kontakter", "2024-T1")) == Parts(1))
        #expect(e.parts(nk("pasienter", "2024")) == Parts(1))
        #expect(e.parts(nk("dognopphold", "2024")) == Parts(1))
        #expect(e.parts(nk("oppholdsdogn", "2024")) == Parts(7))
    }
}
