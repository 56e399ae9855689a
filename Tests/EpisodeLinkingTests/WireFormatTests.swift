import EpisodeLinking
import Foundation
import NPRCore
import SyntheticData
import Testing

/// The linker's input and output formats after NPRCore's keyed-container shortcuts (dates, periods,
/// patient keys and string enums written as plain strings): the same JSON as the types' own `Codable`
/// conformances, the same decoding errors.
@Suite("Wire format of events, stays and changelogs")
struct WireFormatTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func object(_ value: some Encodable) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(json(value).utf8)) as! [String: Any]
    }

    @Test func datesAreZeroPadded() {
        #expect(LocalDate(year: 987, month: 3, day: 4)!.description == "0987-03-04")
        #expect(LocalDate(year: 2024, month: 12, day: 31)!.description == "2024-12-31")
        #expect(LocalDateTime(date: LocalDate(year: 2024, month: 1, day: 9)!, hour: 7, minute: 5)!.description == "2024-01-09T07:05")
        #expect(LocalDateTime(date: LocalDate(year: 1, month: 1, day: 1)!, hour: 23, minute: 59)!.description == "0001-01-01T23:59")
        // Past 9999 (reachable only by day arithmetic) the year is written in full.
        let afterLast = LocalDate(year: 9999, month: 12, day: 31)!.adding(days: 1)
        #expect(afterLast.description == "10000-01-01")
    }

    @Test func fieldsAreWrittenAsTheTypesWriteThemselves() throws {
        let e = episode("E1", "2024-03-01T08:30", "2024-03-05T16:00", endType: 3)
        let stay = StayLinker.stays(patientKey: patient1, episodes: [e], unit: { _ in nil })[0]
        let fields = try Self.object(stay)
        #expect(fields["start"] as? String == "2024-03-01T08:30")
        #expect(fields["end"] as? String == "2024-03-05T16:00")
        #expect(fields["kind"] as? String == stay.kind.rawValue)
        #expect(fields["patientKey"] as? String == "p1")
        // The same strings as each value's own conformance writes on its own.
        #expect(try Self.json(stay.start) == "\"2024-03-01T08:30\"")
        #expect(try Self.json(stay.kind) == "\"\(stay.kind.rawValue)\"")
        #expect(try Self.json(patient1) == "\"p1\"")
        let event = try Self.object(version(e, revision: 2))
        #expect(event["kind"] as? String == "version")
        #expect((event["episode"] as? [String: Any])?["birthDate"] as? String == "1980-05-17")
        // An open stay has no `end` key at all (not null), as before.
        let open = StayLinker.stays(patientKey: patient1, episodes: [episode("E2", "2024-03-01", nil)], unit: { _ in nil })[0]
        #expect(try Self.object(open)["end"] == nil)
    }

    @Test func randomChangelogsRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_C0DE)
        for _ in 0..<300 {
            var episodes: [Episode] = []
            for i in 0..<Int.random(in: 1...5, using: &rng) {
                let start = LocalDateTime(
                    date: LocalDate(year: 2024, month: 1, day: 1)!.adding(days: Int.random(in: -400...400, using: &rng)),
                    hour: Int.random(in: 0...23, using: &rng), minute: Int.random(in: 0...59, using: &rng))!
                var e = episode(
                    "E\(i)", "2024-01-01", nil, endType: Bool.random(using: &rng) ? Int.random(in: 1...9, using: &rng) : nil,
                    pseudonym: Bool.random(using: &rng) ? "p1" : nil)
                e.start = start
                e.end = Bool.random(using: &rng) ? LocalDateTime(date: start.date.adding(days: Int.random(in: 0...20, using: &rng)), hour: 12, minute: 0) : nil
                e.tariffs = Bool.random(using: &rng) ? ["Z5030"] : []
                e.mainCondition = Bool.random(using: &rng) ? "F11.2" : nil
                episodes.append(e)
            }
            let stays = StayLinker.stays(patientKey: patient1, episodes: episodes, unit: { _ in nil })
            let changelog = StayChangelog(
                patientKey: patient1, sequence: Int.random(in: 1...99, using: &rng),
                episodes: episodes.map { EpisodeAssignment(key: $0.key, episode: Bool.random(using: &rng) ? $0 : nil) },
                stays: stays, retracted: [], asserted: stays.map(\.id))
            let bytes = try JSONEncoder().encode(changelog)
            #expect(try JSONDecoder().decode(StayChangelog.self, from: bytes) == changelog)
            for e in episodes {
                let event = ActivityEvent(
                    kind: [.version, .annulment, .foreign].randomElement(using: &rng)!, patientKey: e.patientKey,
                    episodeKey: e.key, revision: 1, episode: e)
                #expect(try JSONDecoder().decode(ActivityEvent.self, from: JSONEncoder().encode(event)) == event)
            }
        }
    }

    @Test func decodingErrorsNameTheField() throws {
        let good = try Self.json(version(episode("E1", "2024-03-01", "2024-03-02"), revision: 1))
        let badDate = good.replacingOccurrences(of: "\"start\":\"2024-03-01T12:00\"", with: "\"start\":\"2024-03-01 12:00\"")
        let badKind = good.replacingOccurrences(of: "\"kind\":\"version\"", with: "\"kind\":\"draft\"")
        #expect(badDate != good && badKind != good)
        for (text, path) in [(badDate, ["episode", "start"]), (badKind, ["kind"])] {
            do {
                _ = try JSONDecoder().decode(ActivityEvent.self, from: Data(text.utf8))
                Issue.record("decoded \(path)")
            } catch DecodingError.dataCorrupted(let context) {
                #expect(context.codingPath.map(\.stringValue) == path)
            }
        }
        // A null or missing optional date decodes as nil.
        let nullEnd = good.replacingOccurrences(of: "\"end\":\"2024-03-02T12:00\"", with: "\"end\":null")
        let noEnd = good.replacingOccurrences(of: "\"end\":\"2024-03-02T12:00\",", with: "")
        for text in [nullEnd, noEnd] {
            #expect(text != good)
            #expect(try JSONDecoder().decode(ActivityEvent.self, from: Data(text.utf8)).episode?.end == nil)
        }
    }
}
