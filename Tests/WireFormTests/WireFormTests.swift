import EpisodeLinking
import Foundation
import IndicatorCalculation
import MortalityLinking
import NPRCore
import Publishing
import StreamCodec
import SyntheticData
import Testing

/// The wire forms (`JSONWire.swift`, `WireForms.swift`) against Foundation's coders: the same bytes as
/// `JSONEncoder` with sorted keys, the same values from any layout of the same JSON, and errors (never
/// crashes) on anything else.
@Suite("JSON wire forms")
struct WireFormTests {
    static let foundation: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Every value: wire bytes equal Foundation's, and each decoder reads the other's bytes back to it.
    /// Reports the first value that differs (as text), not every one.
    static func expectSameAsFoundation<T: JSONWireCodable & Codable & Equatable>(_ values: [T], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!values.isEmpty, sourceLocation: sourceLocation)
        for value in values {
            let reference = String(decoding: try foundation.encode(value), as: UTF8.self)
            let wire = String(decoding: value.wireJSON, as: UTF8.self)
            let readBack = try T(wireJSON: Array(reference.utf8))
            let foundationReadBack = try JSONDecoder().decode(T.self, from: Data(wire.utf8))
            guard wire == reference, readBack == value, foundationReadBack == value else {
                #expect(wire == reference, sourceLocation: sourceLocation)
                #expect(readBack == value, sourceLocation: sourceLocation)
                #expect(foundationReadBack == value, sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// What the pipeline's stateful cores read and write for a small synthetic year: events, slots, heads,
    /// changelogs and cells of the activity and mortality families.
    struct Traffic {
        var events: [ActivityEvent] = []
        var slots: [EpisodeSlot] = []
        var heads: [PatientStaysHead] = []
        var changelogs: [StayChangelog] = []
        var cells: [CellUpdate] = []
        var deaths: [DeathEvent] = []
        var population: [PopulationEvent] = []
        var mortalityHeads: [PersonMortalityHead] = []
    }

    static let traffic: Traffic = {
        var config = SyntheticConfig.nationalYear(year: 2024)
        config.patients = 150
        let data = SyntheticGenerator.generate(config)
        var t = Traffic()
        for m in data.activities {
            let valid = m.patient.personId.map(PersonId.isValid) ?? false
            let birth = valid ? try! PersonId.birthDate(of: m.patient.personId!).get() : m.patient.birthDate ?? LocalDate(year: 1980, month: 1, day: 1)!
            t.events.append(
                ActivityEvent(
                    m.status, revision: m.revision, episode: Episode(m, pseudonym: valid ? "pseudo-" + m.patient.personId!.suffix(5) : nil, birthDate: birth)))
        }
        t.deaths = data.deaths.map {
            DeathEvent(
                status: $0.status, pseudonym: "pseudo-" + $0.personId.suffix(5), deathDate: $0.deathDate, sex: $0.sex,
                birthDate: try! PersonId.birthDate(of: $0.personId).get(), municipality: $0.municipality)
        }
        t.population = data.population.prefix(500).map {
            PopulationEvent(year: $0.year, municipality: $0.municipality, sex: $0.sex, age: $0.age, count: $0.count)
        }
        let asOf = LocalDate(year: 2024, month: 12, day: 31)!
        var linker = LinkerEngine()
        var calculator = CalculatorEngine(asOf: asOf)
        var mortality = MortalityEngine(asOf: asOf)
        for u in data.units {
            _ = linker.apply(unit: u)
            calculator.apply(unit: u)
        }
        for e in t.events {
            mortality.apply(e)
            if let c = linker.apply(e) {
                t.changelogs.append(c)
                calculator.apply(c)
            }
        }
        for d in t.deaths { mortality.apply(death: d) }
        for p in t.population { mortality.apply(population: p) }
        let linkerChanges = linker.takeStateChanges()
        t.slots = linkerChanges.slots.map(\.slot)
        t.heads = linkerChanges.heads.map(\.head)
        t.cells = calculator.takeChangedCells() + mortality.takeChangedCells()
        t.mortalityHeads = mortality.takeStateChanges().heads.map(\.head)
        return t
    }()

    @Test func pipelineTrafficIsWrittenAsFoundationWritesIt() throws {
        let t = Self.traffic
        try Self.expectSameAsFoundation(t.events)
        try Self.expectSameAsFoundation(t.events.compactMap(\.episode))
        try Self.expectSameAsFoundation(t.slots)
        try Self.expectSameAsFoundation(t.heads)
        try Self.expectSameAsFoundation(t.changelogs)
        try Self.expectSameAsFoundation(t.cells)
        try Self.expectSameAsFoundation(t.deaths)
        try Self.expectSameAsFoundation(t.population)
        try Self.expectSameAsFoundation(t.mortalityHeads)
        // The traffic covers what the forms must handle: removals, tombstones, open stays, mortality parts.
        #expect(t.events.contains { $0.kind == .annulment } && t.changelogs.contains { !$0.retracted.isEmpty })
        #expect(t.cells.contains { $0.cell == nil } && t.cells.contains { $0.cell?.d1 != nil } && t.cells.contains { $0.cell?.scale != nil })
        #expect(t.changelogs.contains { $0.stays.contains { $0.end == nil } })
    }

    /// The publisher's output and state rows: published values (suppressed, undefined and plain ones, with
    /// CIs), their contents and the slots it persists.
    @Test func publishedValuesAndSlotsAreWrittenAsFoundationWritesThem() throws {
        var publisher = PublisherEngine()
        for c in Self.traffic.cells { publisher.apply(c) }
        _ = publisher.publish(now: "2024-12-31T12:00:00Z")
        let values = publisher.values()
        try Self.expectSameAsFoundation(values)
        #expect(values.contains { $0.status == .suppressedPrimary } && values.contains { $0.ciLower != nil } && values.contains { $0.value != nil })
        let slots = publisher.takeStateChanges().compactMap(\.slot)
        #expect(!slots.isEmpty)
        for slot in slots {
            let wire = String(decoding: slot.wireJSON, as: UTF8.self)
            #expect(wire == String(decoding: try Self.foundation.encode(slot), as: UTF8.self))
            let back = try PublisherEngine.Slot(wireJSON: Array(wire.utf8))
            #expect(String(decoding: back.wireJSON, as: UTF8.self) == wire)
        }
    }

    /// Strings that need escaping, non-ASCII text, extreme integers, every optional absent or present.
    @Test func randomValuesAreWrittenAsFoundationWritesThem() throws {
        var rng = SplitMix64(seed: 0xC0DEC)
        let alphabet = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}",
            "æ", "Ø", "å", "€", "𝄞", "👍🏽", "|", "{", "}", ":", ",",
        ]
        func text() -> String { (0..<rng.int(0...12)).map { _ in alphabet[rng.int(0...(alphabet.count - 1))] }.joined() }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { rng.int(0...2) == 0 ? nil : value() }
        func int() -> Int { [Int.min, Int.max, 0, -1, 9, 10, rng.int(-1_000_000...1_000_000)][rng.int(0...6)] }
        func date() -> LocalDate { LocalDate(year: rng.int(1...9999), month: rng.int(1...12), day: rng.int(1...28))! }
        func time() -> LocalDateTime { LocalDateTime(date: date(), hour: rng.int(0...23), minute: rng.int(0...59))! }
        var episodes: [Episode] = []
        var cells: [CellUpdate] = []
        for _ in 0..<400 {
            episodes.append(
                Episode(
                    institutionId: text(), episodeId: text(), unitId: text(), sector: text(), pseudonym: maybe(text()),
                    sex: int(), birthDate: date(), municipality: maybe(text()), district: maybe(text()),
                    rightToHealthcare: maybe(int()), careLevel: int(), start: time(), end: maybe(time()),
                    endType: maybe(int()), contactType: maybe(int()), activityPlace: maybe(int()),
                    activityType: maybe(int()), indirectActivity: maybe(int()), mainCondition: maybe(text()),
                    tariffs: (0..<rng.int(0...3)).map { _ in text() }))
            let key = CellKey(
                indicator: Indicator.allCases[rng.int(0...3)], measure: text(),
                period: rng.int(0...1) == 0 ? .year(rng.int(1000...9999)) : .tertial(rng.int(1000...9999), rng.int(1...3)),
                level: Level.allCases[rng.int(0...5)], unit: text(), sex: Sex.allCases[rng.int(0...2)])
            let scales: [Double] = [100, 1000, 100_000, 0.5, 0.1, 1e-7, 12345.678, 1e15, 1e16, 2.5e20]
            cells.append(
                CellUpdate(
                    key: key,
                    cell: maybe(
                        Cell(
                            key: key, formula: [.count, .share, .rate, .ratio, .excessMortality][rng.int(0...4)], numerator: int(),
                            denominator: maybe(int()), scale: maybe(scales[rng.int(0...(scales.count - 1))]),
                            patients: int(), size: int(), parent: maybe(text()), unitName: maybe(text()),
                            d1: maybe(int()), n1: maybe(int()), d2: maybe(int()), n2: maybe(int()), asOf: date()))))
        }
        try Self.expectSameAsFoundation(episodes)
        try Self.expectSameAsFoundation(cells)
    }

    /// The reader takes the same JSON however it is laid out: keys in any order, whitespace, unknown keys
    /// (with nested values), `null` for an absent optional, escapes where none were needed.
    @Test func anyLayoutOfTheSameJSONReadsTheSame() throws {
        var relayout = Relayout(rng: SplitMix64(seed: 0x1A70))
        let t = Self.traffic
        // Small documents keep the debug build's test time short; every shape still occurs many times.
        for changelog in t.changelogs.filter({ $0.wireJSON.count < 2500 }).prefix(150) {
            let relaid = relayout.write(try JSONSerialization.jsonObject(with: Data(changelog.wireJSON)))
            #expect(try StayChangelog(wireJSON: Array(relaid.utf8)) == changelog, "\(relaid)")
        }
        for update in t.cells.prefix(150) {
            let relaid = relayout.write(try JSONSerialization.jsonObject(with: Data(update.wireJSON)))
            #expect(try CellUpdate(wireJSON: Array(relaid.utf8)) == update, "\(relaid)")
        }
    }

    /// Every proper prefix of a document, and any single byte changed, gives a value or an error, never a
    /// crash; a prefix is always an error.
    @Test func damagedInputIsAnErrorNotACrash() throws {
        var rng = SplitMix64(seed: 0xDA3A6E)
        for changelog in Self.traffic.changelogs.filter({ $0.wireJSON.count < 2500 }).prefix(30) {
            let bytes = changelog.wireJSON
            for end in 0..<bytes.count {
                #expect(throws: JSONWireError.self) { try StayChangelog(wireJSON: bytes[..<end]) }
            }
            for _ in 0..<200 {
                var damaged = bytes
                damaged[rng.int(0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: rng.next())
                _ = try? StayChangelog(wireJSON: damaged)
            }
        }
    }

    /// Unknown content is skipped whatever its shape, up to a nesting depth that cannot exhaust the stack.
    @Test func unknownContentIsSkippedWithinADepthLimit() throws {
        let changelog = Self.traffic.changelogs[0]
        let body = String(decoding: changelog.wireJSON, as: UTF8.self).dropFirst()
        func nested(_ depth: Int) -> String { String(repeating: "[{\"a\":", count: depth) + "1" + String(repeating: "}]", count: depth) }
        #expect(try StayChangelog(wireJSON: Array(("{\"x\":" + nested(31) + "," + body).utf8)) == changelog)
        #expect {
            try StayChangelog(wireJSON: Array(("{\"x\":" + nested(100_000) + "," + body).utf8))
        } throws: { ($0 as? JSONWireError)?.message == "nested too deeply" }
    }

    @Test func errorsNameTheFieldAndTheProblem() throws {
        let event = Self.traffic.events.first { $0.episode?.end != nil }!
        let good = String(decoding: event.wireJSON, as: UTF8.self)
        let start = "\"start\":\"\(event.episode!.start)\""
        let cases: [(String, [String], String)] = [
            (good.replacingOccurrences(of: start, with: "\"start\":\"2024-02-30T12:00\""), ["episode", "start"], "not a date-time"),
            (good.replacingOccurrences(of: start, with: "\"start\":null"), ["episode", "start"], "expected a string"),
            (good.replacingOccurrences(of: "\"kind\":\"\(event.kind.rawValue)\"", with: "\"kind\":\"draft\""), ["kind"], "invalid String value draft"),
            (good.replacingOccurrences(of: "\"revision\":\(event.revision)", with: "\"revision\":1.5"), ["revision"], "fraction"),
            (good.replacingOccurrences(of: "\"revision\":\(event.revision)", with: "\"revision\":99999999999999999999"), ["revision"], "out of range"),
            (good.replacingOccurrences(of: start + ",", with: ""), ["episode"], "missing key \"start\""),
            (good + "x", [], "after the value"),
        ]
        for (text, path, message) in cases {
            #expect(text != good)
            #expect {
                try ActivityEvent(wireJSON: Array(text.utf8))
            } throws: { error in
                guard let error = error as? JSONWireError else { return false }
                return error.path == path && error.message.contains(message)
            }
        }
        // A null or absent optional reads as nil.
        let end = "\"end\":\"\(event.episode!.end!)\""
        for text in [good.replacingOccurrences(of: end, with: "\"end\":null"), good.replacingOccurrences(of: end + ",", with: "")] {
            #expect(text != good)
            #expect(try ActivityEvent(wireJSON: Array(text.utf8)).episode?.end == nil)
        }
    }

    /// The services' codec picks the wire form for these types and Foundation for the rest, with the same JSON.
    @Test func serviceCodecUsesTheWireForm() throws {
        let changelog = Self.traffic.changelogs[0]
        #expect(try JSONCodec.encode(changelog) == changelog.wireJSON)
        #expect(try JSONCodec.decode(StayChangelog.self, from: Data(Self.foundation.encode(changelog))) == changelog)
        #expect(throws: JSONWireError.self) { try JSONCodec.decode(StayChangelog.self, from: Array("{}".utf8)) }
        let unit = SyntheticGenerator.generate(SyntheticConfig.nationalYear(year: 2024)).units[0]
        #expect(try JSONCodec.encode(unit) == Array(Self.foundation.encode(unit)))
    }
}

/// Writes a JSONSerialization object again with a random layout: shuffled keys, random whitespace,
/// unknown keys, characters escaped that need not be.
struct Relayout {
    var rng: SplitMix64

    mutating func space() -> String { ["", " ", "\n", "\t ", "\r\n  "][rng.int(0...4)] }

    /// `unknownKeys`: whether objects get an extra key (not inside such a key's own value).
    mutating func write(_ value: Any, unknownKeys: Bool = true) -> String {
        switch value {
        case let object as [String: Any]:
            var members = object.map { ($0.key, $0.value, unknownKeys) }
            members.shuffle(using: &rng)
            if unknownKeys, rng.int(0...1) == 0 {
                let unknown: [String: Any] = ["nested": [1, -2.5e-3, "two", ["deep": NSNull()]], "flag": true]
                members.insert(("x-unknown", unknown, false), at: rng.int(0...members.count))
            }
            return "{" + members.map { space() + string($0.0) + space() + ":" + space() + write($0.1, unknownKeys: $0.2) + space() }.joined(separator: ",")
                + "}"
        case let array as [Any]:
            return "[" + space() + array.map { write($0, unknownKeys: unknownKeys) }.joined(separator: space() + "," + space()) + space() + "]"
        case let text as String:
            return string(text)
        case let flag as Bool where type(of: value) == Bool.self:
            return flag ? "true" : "false"
        case let number as NSNumber:
            return number.stringValue
        default:
            return "null"
        }
    }

    /// A JSON string with some characters written as `\u` escapes or `\/`.
    mutating func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += rng.int(0...1) == 0 ? "\\/" : "/"
            case _ where scalar.value < 0x20 || rng.int(0...4) == 0:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16, uppercase: rng.int(0...1) == 0)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// The provenance header: counts by cause and institution, read back exactly; what a reader does not know is
/// skipped, never fatal.
@Suite struct ProvenanceHeaderTests {
    @Test func roundTripsAndMerges() {
        var p = Provenance(.init(.correction, institution: "974589095"), count: 2)
        p.add(Provenance(.init(.death)))
        p.add(Provenance(.init(.newEpisode, institution: "983974678")))
        p.add(Provenance(.init(.correction, institution: "974589095")))
        #expect(String(decoding: p.headerValue, as: UTF8.self) == "correction@974589095=3,death=1,new-episode@983974678=1")
        #expect(Provenance(headerValue: p.headerValue) == p)
        var reader = ProvenanceHeaderReader()
        #expect(reader.causes([("other", [1]), (Provenance.headerName, p.headerValue)]) == p)
        #expect(reader.causes([(Provenance.headerName, p.headerValue)]) == p, "a repeated header reads the same")
        #expect(Provenance().header.isEmpty && reader.causes([]).isEmpty)
        #expect(
            Provenance(headerValue: Array("future-kind=3,death=x,death=2,=1,evaluation-date=1".utf8))
                == {
                    var q = Provenance(.init(.death), count: 2)
                    q.add(Provenance(.init(.evaluationDate)))
                    return q
                }())
    }

    @Test func jsonListsCausesInOrder() throws {
        var p = Provenance(.init(.death))
        p.add(Provenance(.init(.annulment, institution: "974589095"), count: 4))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(p), as: UTF8.self)
        #expect(json == #"[{"cause":"annulment","count":4,"institution":"974589095"},{"cause":"death","count":1}]"#)
        #expect(try JSONDecoder().decode(Provenance.self, from: Data(json.utf8)) == p)
    }
}
