import Foundation
import IntakeValidation
import NPRCore
import SyntheticData
import Testing

/// Reporting quality per institution, kept message by message, equals a batch computation over the same
/// messages in any arrival order: delays from each episode's first message, end-type figures from each
/// episode's final version (highest revision; an annulment at r removes every version ≤ r).
@Suite struct ReportingQualityTests {
    struct Message {
        var status: EpisodeStatus
        var revision: Int
        var episode: Episode
    }

    static func episode(_ institution: String, _ id: Int, rng: inout SplitMix64) -> Episode {
        let start = LocalDate(year: 2024, month: rng.int(1...6), day: rng.int(1...28))!
        let closed = rng.int(0...3) > 0
        let end = closed ? start.adding(days: rng.int(0...40)) : nil
        return Episode(
            institutionId: institution, episodeId: "E\(id)", unitId: "U1", sector: "TSB", pseudonym: "p\(id)", sex: 1,
            birthDate: LocalDate(year: 1990, month: 1, day: 1)!, municipality: "0301", careLevel: rng.int(0...2) == 0 ? 3 : 1,
            start: LocalDateTime(date: start, hour: 10, minute: 0)!, end: end.map { LocalDateTime(date: $0, hour: 10, minute: 0)! },
            endType: rng.int(0...2) == 0 ? nil : rng.int(1...4))
    }

    @Test(arguments: 1...30)
    func incrementalEqualsBatchInAnyArrivalOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var messages: [Message] = []
        for id in 0..<rng.int(5...40) {
            let institution = ["974589095", "983974678"][rng.int(0...1)]
            // Distinct revisions per version (the ledger rejects two versions at one revision); annulments anywhere.
            for revision in 1...rng.int(1...4) {
                let status: EpisodeStatus = rng.int(0...4) == 0 ? .annulment : revision == 1 ? .new : .correction
                messages.append(Message(status: status, revision: revision, episode: Self.episode(institution, id, rng: &rng)))
                if rng.int(0...5) == 0 { messages.append(Message(status: .annulment, revision: revision, episode: messages.last!.episode)) }
            }
        }
        messages.shuffle(using: &rng)
        let firstDay = LocalDate(year: 2024, month: 7, day: 1)!
        let arrivals = messages.indices.map { firstDay.adding(days: $0 / 3) }

        var quality: [String: InstitutionQuality] = [:]
        var episodes: [String: EpisodeQualityState] = [:]
        for (m, arrival) in zip(messages, arrivals) {
            let key = m.episode.institutionId + "|" + m.episode.episodeId
            episodes[key] = quality[m.episode.institutionId, default: InstitutionQuality()].accept(
                status: m.status, revision: m.revision, episode: m.episode, before: episodes[key], arrival: arrival, at: "\(arrival)T12:00:00Z")
        }

        // Batch: per episode, its first message's delay and its final version.
        for institution in Set(messages.map(\.episode.institutionId)) {
            let mine = zip(messages, arrivals).filter { $0.0.episode.institutionId == institution }
            var delays: [Int: Int] = [:], closed = 0, missing = 0
            for (id, group) in Dictionary(grouping: mine, by: { $0.0.episode.episodeId }) {
                _ = id
                let first = group[0]
                let event = (first.0.episode.end ?? first.0.episode.start).date
                delays[max(0, first.1.dayNumber - event.dayNumber), default: 0] += 1
                let versions = group.map(\.0).filter { $0.status != .annulment }
                guard let final = versions.max(by: { $0.revision < $1.revision }) else { continue }
                if group.map(\.0).contains(where: { $0.status == .annulment && $0.revision >= final.revision }) { continue }
                let q = EpisodeQuality(final.episode)
                if q.closedInpatient { closed += 1 }
                if q.missingEndType { missing += 1 }
            }
            let q = quality[institution]!
            #expect(q.messages == mine.count)
            #expect(q.delayDays == delays)
            #expect(q.closedInpatient == closed && q.missingEndType == missing)
            #expect(q.lastMessageAt == "\(mine.map(\.1).max()!)T12:00:00Z")
        }
    }

    @Test func percentilesAreNearestRank() {
        var q = InstitutionQuality()
        q.delayDays = [0: 1, 3: 4, 10: 4, 90: 1]  // ten reports: 0, 3, 3, 3, 3, 10, 10, 10, 10, 90
        #expect(q.delayPercentile(0.5) == 3 && q.delayPercentile(0.9) == 10 && q.delayPercentile(1) == 90)
        #expect(InstitutionQuality().delayPercentile(0.5) == nil)
    }

    @Test func smallNumbersAreSuppressedAndEveryFieldIsWritten() throws {
        var q = InstitutionQuality()
        q.messages = 4
        q.delayDays = [2: 3]
        q.closedInpatient = 4
        q.missingEndType = 1
        q.lastMessageAt = "2025-03-01T10:00:00Z"
        let small = QualityReportRow(institutionId: "974589095", institutionName: nil, quality: q)
        #expect(small.messages == nil && small.firstReports == nil && small.delayDaysMedian == nil && small.delayStatus == .suppressedPrimary)
        #expect(small.closedInpatientEpisodes == nil && small.withoutEndType == nil && small.shareWithoutEndType == nil)
        #expect(small.endTypeStatus == .suppressedPrimary && small.lastMessageAt == "2025-03-01T10:00:00Z")
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(small)) as? [String: Any])
        #expect(json.count == 12 && json["messages"] is NSNull && json["institutionName"] is NSNull)

        q.messages = 20
        q.delayDays = [2: 3, 5: 2]
        q.closedInpatient = 8
        q.missingEndType = 2
        let shown = QualityReportRow(institutionId: "974589095", institutionName: "Helse Bergen HF", quality: q)
        #expect(shown.messages == 20 && shown.firstReports == 5 && shown.delayDaysMedian == 2 && shown.delayDaysP90 == 5)
        #expect(shown.closedInpatientEpisodes == 8 && shown.withoutEndType == 2 && shown.shareWithoutEndType == 0.25 && shown.endTypeStatus == .ok)

        let none = QualityReportRow(institutionId: "1", institutionName: nil, quality: InstitutionQuality())
        #expect(none.delayStatus == .undefined && none.endTypeStatus == .undefined && none.messages == 0)
    }

    /// Stay figures are hidden below 5 distinct patients (not stays), undefined without closed stays.
    @Test func stayFiguresAreSuppressedByPatients() {
        let few = StayEndTypeRow(institutionId: "1", closedStays: 12, withoutEndType: 3, patients: 4)
        #expect(few.status == .suppressedPrimary && few.closedStays == nil && few.withoutEndType == nil && few.shareWithoutEndType == nil)
        let shown = StayEndTypeRow(institutionId: "1", closedStays: 8, withoutEndType: 2, patients: 5)
        #expect(shown.status == .ok && shown.closedStays == 8 && shown.withoutEndType == 2 && shown.shareWithoutEndType == 0.25)
        let none = StayEndTypeRow(institutionId: "1", closedStays: 0, withoutEndType: 0, patients: 0)
        #expect(none.status == .undefined && none.closedStays == 0 && none.shareWithoutEndType == nil)
    }

    /// The publisher's join keeps every institution of either side; intake's own rows leave the stay fields
    /// out, joined rows write all four, and they read back equal.
    @Test func joinedRowsCarryTheStayFigures() throws {
        var q = InstitutionQuality()
        q.messages = 20
        q.delayDays = [2: 5]
        q.closedInpatient = 8
        q.missingEndType = 2
        let reporting = [
            QualityReportRow(institutionId: "2", institutionName: "B", quality: q),
            QualityReportRow(institutionId: "3", institutionName: "C", quality: q),
        ]
        let intakeOnly = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(reporting[0])) as? [String: Any])
        #expect(intakeOnly.count == 12 && intakeOnly["stayEndTypeStatus"] == nil)

        let stays = [
            StayEndTypeRow(institutionId: "1", closedStays: 6, withoutEndType: 1, patients: 6),
            StayEndTypeRow(institutionId: "2", closedStays: 9, withoutEndType: 3, patients: 7),
        ]
        let joined = QualityReportRow.joining(reporting, stays: stays)
        #expect(joined.map(\.institutionId) == ["1", "2", "3"])
        #expect(joined[0].messages == 0 && joined[0].delayStatus == .undefined && joined[0].stays == stays[0])
        #expect(joined[1].messages == 20 && joined[1].stays?.shareWithoutEndType == 1.0 / 3)
        #expect(joined[2].stays?.status == .undefined && joined[2].stays?.closedStays == 0)
        let written = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(joined[1])) as? [String: Any])
        #expect(written.count == 16 && written["closedInpatientStays"] as? Int == 9 && written["stayEndTypeStatus"] as? String == "ok")
        #expect(try JSONDecoder().decode([QualityReportRow].self, from: JSONEncoder().encode(joined)) == joined)
    }
}

/// The episode's quality state rides in intake's ledger rows in the stream's JSON wire form: the same bytes
/// as `JSONEncoder` with sorted keys, read back equal.
@Suite struct EpisodeQualityWireTests {
    @Test(arguments: [nil, EpisodeQuality?.some(.init(closedInpatient: true, missingEndType: false))])
    func sameBytesAsJSONEncoderAndBack(current: EpisodeQuality?) throws {
        var state = EpisodeQualityState()
        state.revision = 3
        state.current = current
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: state.wireJSON, as: UTF8.self) == String(decoding: try encoder.encode(state), as: UTF8.self))
        #expect(try EpisodeQualityState(wireJSON: state.wireJSON) == state)
    }
}

extension EpisodeQuality {
    init(closedInpatient: Bool, missingEndType: Bool) {
        self.init(
            Episode(
                institutionId: "1", episodeId: "e", unitId: "u", sector: "TSB", pseudonym: nil, sex: 1,
                birthDate: LocalDate(year: 1990, month: 1, day: 1)!, municipality: nil, careLevel: closedInpatient ? 1 : 3,
                start: LocalDateTime("2024-01-01T10:00")!, end: LocalDateTime("2024-01-02T10:00")!,
                endType: missingEndType ? nil : 1))
    }
}

@Suite struct InstitutionQualityWireTests {
    @Test func sameBytesAsJSONEncoderAndBack() throws {
        var q = InstitutionQuality()
        q.messages = 12
        q.delayDays = [0: 1, 3: 4, 10: 2, 100: 5]
        q.closedInpatient = 6
        q.missingEndType = 1
        q.lastMessageAt = "2025-03-01T10:00:00Z"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: q.wireJSON, as: UTF8.self) == String(decoding: try encoder.encode(q), as: UTF8.self))
        #expect(try InstitutionQuality(wireJSON: q.wireJSON) == q)
        #expect(try InstitutionQuality(wireJSON: InstitutionQuality().wireJSON) == InstitutionQuality())
    }
}
