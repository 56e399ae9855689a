import EpisodeLinking
import NPRCore
import Testing

@Suite("StayLinker chaining rules")
struct StayLinkerTests {
    @Test func singleEpisodeFillsEveryField() {
        let a = episode("a", unit: "U7", "2024-02-01T08:30", "2024-02-10T15:00", endType: 3)
        let expected = Stay(
            id: "treatment:\(instA)|a", kind: .treatment, patientKey: patient1, episodes: [key("a")],
            start: at("2024-02-01T08:30"), end: at("2024-02-10T15:00"), lastEpisode: key("a"),
            endType: 3, unitId: "U7", institutionId: instA)
        #expect(treatment([a]) == [expected])
        var asInstitution = expected
        asInstitution.id = "institution:\(instA)|a"
        asInstitution.kind = .institution
        #expect(institution([a]) == [asInstitution])
    }

    @Test func sameDayJoins() {
        let a = episode("a", "2024-01-01", "2024-01-05T10:00")
        let b = episode("b", "2024-01-05T14:00", "2024-01-08", endType: 1)
        let stays = treatment([b, a])
        #expect(stays.map(\.episodes) == [[key("a"), key("b")]])
        #expect(stays.first?.end == at("2024-01-08"))
        #expect(stays.first?.endType == 1)
        #expect(stays.first?.lastEpisode == key("b"))
    }

    @Test func nextDayJoins() {
        let a = episode("a", "2024-01-01", "2024-01-05T23:00")
        let b = episode("b", "2024-01-06T08:00", "2024-01-08")
        #expect(treatment([a, b]).map(\.episodes) == [[key("a"), key("b")]])
    }

    @Test func twoDayGapSplits() {
        let a = episode("a", "2024-01-01", "2024-01-05")
        let b = episode("b", "2024-01-07", "2024-01-08")
        let stays = treatment([a, b])
        #expect(stays.map(\.episodes) == [[key("a")], [key("b")]])
        #expect(stays.map(\.id) == ["treatment:\(instA)|a", "treatment:\(instA)|b"])
    }

    @Test func chainingComparesDatesNotTimes() {
        // 24 hours and 2 minutes apart, but two calendar days later: split.
        let a = episode("a", "2024-01-01", "2024-01-05T23:59")
        let b = episode("b", "2024-01-07T00:01", "2024-01-09")
        #expect(treatment([a, b]).count == 2)
        // Almost 48 hours apart, but on the next calendar day: join.
        let c = episode("c", "2024-01-01", "2024-01-05T00:01")
        let d = episode("d", "2024-01-06T23:59", "2024-01-09")
        #expect(treatment([c, d]).count == 1)
    }

    @Test func overlapJoinsAndLaterEndIsLast() {
        let a = episode("a", unit: "U1", "2024-01-01", "2024-01-10", endType: 1)
        let b = episode("b", unit: "U2", "2024-01-05", "2024-01-15", endType: 4)
        let stay = treatment([a, b]).first
        #expect(stay?.episodes == [key("a"), key("b")])
        #expect(stay?.lastEpisode == key("b"))
        #expect(stay?.unitId == "U2")
        #expect(stay?.endType == 4)
        #expect(stay?.start == at("2024-01-01"))
    }

    @Test func nestedEpisodeDoesNotCutTheChain() {
        let outer = episode("a", unit: "U1", "2024-01-01", "2024-01-20", endType: 2)
        let inner = episode("b", unit: "U2", "2024-01-05", "2024-01-10", endType: 1)
        // Starts 11 days after the nested episode ended but the day after the outer one ended.
        let follower = episode("c", unit: "U3", "2024-01-21", "2024-01-25", endType: 3)
        #expect(treatment([outer, inner, follower]).map(\.episodes) == [[key("a"), key("b"), key("c")]])
        let nestedOnly = treatment([inner, outer])
        #expect(nestedOnly.count == 1)
        #expect(nestedOnly.first?.lastEpisode == key("a"))
        #expect(nestedOnly.first?.unitId == "U1")
        #expect(nestedOnly.first?.endType == 2)
        #expect(nestedOnly.first?.end == at("2024-01-20"))
    }

    @Test func detoxUnitIsLeftOutOfTreatmentStaysButNotInstitutionStays() {
        let units = [unit("U1", detox: false), unit("UD", detox: true)]
        let a = episode("a", unit: "U1", "2024-01-01", "2024-01-05")
        let detox = episode("d", unit: "UD", "2024-01-06", "2024-01-10")
        let c = episode("c", unit: "U1", "2024-01-11", "2024-01-15")
        #expect(treatment([a, detox, c], units: units).map(\.episodes) == [[key("a")], [key("c")]])
        #expect(institution([a, detox, c]).map(\.episodes) == [[key("a"), key("d"), key("c")]])
        // Without the register entry the same unit is not detox and bridges the gap.
        #expect(treatment([a, detox, c], units: [unit("U1", detox: false)]).map(\.episodes) == [[key("a"), key("d"), key("c")]])
    }

    @Test func transferJoinsTreatmentStayButSplitsInstitutionStays() {
        let a = episode("a", inst: instA, unit: "U1", "2024-01-01", "2024-01-05", endType: 5)
        let b = episode("b", inst: instB, unit: "U3", "2024-01-06", "2024-01-10", endType: 1)
        let stays = treatment([a, b])
        #expect(stays.map(\.episodes) == [[key("a", inst: instA), key("b", inst: instB)]])
        #expect(stays.first?.institutionId == instB)
        #expect(stays.first?.unitId == "U3")
        #expect(stays.first?.endType == 1)
        let byInstitution = institution([a, b])
        #expect(byInstitution.map(\.id) == ["institution:\(instA)|a", "institution:\(instB)|b"])
        #expect(byInstitution.map(\.institutionId) == [instA, instB])
        #expect(byInstitution.map(\.endType) == [5, 1])
    }

    @Test func openEpisodeKeepsTheStayOpenAndLaterEpisodesJoin() {
        let before = episode("z", "2023-12-01", "2023-12-10", endType: 1)
        let open = episode("a", unit: "U2", "2024-01-01", nil)
        let muchLater = episode("b", "2024-03-01", "2024-03-05", endType: 1)
        let evenLater = episode("c", "2024-06-01", "2024-06-02", endType: 1)
        let stays = treatment([evenLater, open, before, muchLater])
        #expect(stays.map(\.episodes) == [[key("z")], [key("a"), key("b"), key("c")]])
        #expect(stays.map(\.isClosed) == [true, false])
        #expect(stays.last?.end == nil)
        #expect(stays.last?.lastEpisode == key("a"))
        #expect(stays.last?.unitId == "U2")
    }

    @Test func lastEpisodeTieRules() {
        // Same end: the later start wins.
        let early = episode("a", unit: "U1", "2024-01-01", "2024-01-10T12:00")
        let late = episode("b", unit: "U2", "2024-01-03", "2024-01-10T12:00")
        #expect(treatment([late, early]).first?.lastEpisode == key("b"))
        // Same end and start: the higher institutionId wins.
        let inA = episode("x", inst: instA, "2024-01-01", "2024-01-10")
        let inB = episode("w", inst: instB, "2024-01-01", "2024-01-10")
        #expect(treatment([inB, inA]).first?.lastEpisode == key("w", inst: instB))
        // Same end, start and institution: the higher episodeId as a string ("9" > "10").
        let nine = episode("9", "2024-01-01", "2024-01-10")
        let ten = episode("10", "2024-01-01", "2024-01-10")
        #expect(treatment([nine, ten]).first?.lastEpisode == key("9"))
        // The end time of day decides before the start.
        let endsLaterInTheDay = episode("a", "2024-01-01", "2024-01-10T18:00")
        let startsLater = episode("b", "2024-01-05", "2024-01-10T09:00")
        #expect(treatment([endsLaterInTheDay, startsLater]).first?.lastEpisode == key("a"))
        // Two open episodes: the later start.
        let open1 = episode("a", "2024-01-01", nil)
        let open2 = episode("b", "2024-01-04", nil)
        let closedAfter = episode("c", "2024-01-05", "2024-02-01")
        #expect(treatment([open2, closedAfter, open1]).first?.lastEpisode == key("b"))
    }

    @Test func stayIdComesFromTheFirstEpisodeAndTiesBreakByKey() {
        let a = episode("a", "2024-01-01T08:00", "2024-01-05")
        let b = episode("b", "2024-01-01T08:00", "2024-01-03")
        #expect(treatment([b, a]).map(\.id) == ["treatment:\(instA)|a"])
        #expect(treatment([b, a]).first?.episodes == [key("a"), key("b")])
        // An earlier start by minutes makes an episode the first even with a higher key.
        let earlier = episode("z", "2024-01-01T07:59", "2024-01-02")
        #expect(treatment([a, b, earlier]).map(\.id) == ["treatment:\(instA)|z"])
        // Adding a later episode keeps the id.
        let later = episode("c", "2024-01-06", "2024-01-07")
        #expect(treatment([a, b, later]).map(\.id) == ["treatment:\(instA)|a"])
    }

    @Test func nonTSBAndNonInpatientEpisodesAreIgnored() {
        let a = episode("a", "2024-01-01", "2024-01-05")
        let somatic = episode("s", "2024-01-04", "2024-01-12", sector: "SOM")
        let dayTreatment = episode("d", "2024-01-06", "2024-01-06", careLevel: 2)
        let outpatient = episode("o", "2024-01-07", "2024-01-07", careLevel: 3)
        let forInpatient = episode("f", "2024-01-06", "2024-01-06", careLevel: 8)
        let c = episode("c", "2024-01-08", "2024-01-09")
        let all = [a, somatic, dayTreatment, outpatient, forInpatient, c]
        #expect(treatment(all).map(\.episodes) == [[key("a")], [key("c")]])
        #expect(institution(all).map(\.episodes) == [[key("a")], [key("c")]])
        #expect(treatment([somatic, dayTreatment, outpatient, forInpatient]).isEmpty)
    }

    @Test func outputIsOrderedByStartThenId() {
        let a = episode("a", inst: instB, "2024-01-01", "2024-01-02")
        let b = episode("b", inst: instA, "2024-01-01", "2024-01-02")
        let c = episode("c", inst: instA, "2023-06-01", "2023-06-02")
        #expect(institution([a, b, c]).map(\.id) == ["institution:\(instA)|c", "institution:\(instA)|b", "institution:\(instB)|a"])
        let both = StayLinker.stays(patientKey: patient1, episodes: [a, c], unit: { _ in nil })
        #expect(both.map(\.id) == ["institution:\(instA)|c", "treatment:\(instA)|c", "institution:\(instB)|a", "treatment:\(instB)|a"])
    }

    @Test func anonymousBucketKeepsItsKey() {
        let anon = episode("a", "2024-01-01", "2024-01-02", pseudonym: nil)
        let stays = StayLinker.treatmentStays(patientKey: anon.patientKey, episodes: [anon], unit: { _ in nil })
        #expect(stays.map(\.patientKey) == [PatientKey(rawValue: "anon:\(instA)|a")])
    }
}
