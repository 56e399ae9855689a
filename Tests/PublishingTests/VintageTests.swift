import Foundation
import NPRCore
import SyntheticData
import Testing

@testable import Publishing

/// Vintages: from the revision history alone, the values as published at any moment equal what the engine
/// published then, whatever order the history is read in.
@Suite struct VintageTests {
    @Test(arguments: 1...20)
    func everyPastMomentIsReproducedFromTheHistory(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var engine = PublisherEngine()
        var history: [PublishedRevision] = []
        var snapshots: [(ms: Int64, values: [PublishedValue])] = []
        var nextId = 1
        var ms: Int64 = 1_700_000_000_000
        let units = ["NO", "vest", "nord", "midt-norge"]
        for round in 0..<30 {
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let unit = units.randomElement(using: &rng)!
                let key = CellKey(
                    indicator: .avbrudd, measure: ["hovedmaltall", "maltall-2"].randomElement(using: &rng)!,
                    period: [.year(2024), .tertial(2024, 1)].randomElement(using: &rng)!,
                    level: unit == "NO" ? .national : .rhf, unit: unit)
                let removal = Int.random(in: 0..<5, using: &rng) == 0
                let denominator = Int.random(in: 1...30, using: &rng)
                let cell = makeCell(
                    measure: key.measure, period: key.period.description, level: key.level, unit: unit,
                    numerator: Int.random(in: 0...denominator, using: &rng), denominator: denominator,
                    patients: Int.random(in: 1...denominator, using: &rng), parent: unit == "NO" ? nil : "NO")
                engine.apply(CellUpdate(key: key, cell: removal ? nil : cell))
            }
            // Several publications may share a millisecond; the event id orders them.
            if Int.random(in: 0..<3, using: &rng) > 0 { ms += Int64.random(in: 1...5_000, using: &rng) }
            let (changed, removed) = engine.publish(now: "round \(round)")
            for v in changed {
                history.append(PublishedRevision(key: v.key, eventId: nextId, publishedAtMs: ms, value: v))
                nextId += 1
            }
            for k in removed {
                history.append(PublishedRevision(key: k, eventId: nextId, publishedAtMs: ms, value: nil))
                nextId += 1
            }
            if snapshots.last?.ms == ms { snapshots.removeLast() }
            snapshots.append((ms, engine.values()))
        }
        history.shuffle(using: &rng)
        for snapshot in snapshots {
            var selection = Vintage.Selection(atMs: snapshot.ms)
            for entry in history { selection.consider(entry) }
            #expect(selection.values == snapshot.values, "at \(snapshot.ms)")
        }
        var before = Vintage.Selection(atMs: snapshots[0].ms - 1)
        for entry in history { before.consider(entry) }
        #expect(before.values.isEmpty)
    }

    @Test func rowKeysKeepOneValuesHistoryTogetherAndPrefixesCoverWholeComponents() {
        let key = "tsb-avbrudd|hovedmaltall|2024|rhf|vest|all"
        #expect(Vintage.rowKey(key, eventId: 42) == key + "#000000000042")
        #expect(Vintage.rowKey(key, eventId: 9) < Vintage.rowKey(key, eventId: 10))
        #expect(
            Vintage.rowKeyPrefix(indicator: "tsb-avbrudd", measure: "hovedmaltall", period: "2024", level: nil, unit: "vest", sex: nil)
                == "tsb-avbrudd|hovedmaltall|2024|")
        #expect(
            !"tsb-avbrudd|hovedmaltall|2024-T1|rhf|vest|all".hasPrefix(
                Vintage.rowKeyPrefix(
                    indicator: "tsb-avbrudd", measure: "hovedmaltall",
                    period: "2024", level: nil, unit: nil, sex: nil)))
        #expect(
            Vintage.rowKeyPrefix(indicator: "tsb-avbrudd", measure: "hovedmaltall", period: "2024", level: "rhf", unit: "vest", sex: "all")
                == key + "#")
        #expect(Vintage.rowKeyPrefix(indicator: nil, measure: "x", period: nil, level: nil, unit: nil, sex: nil) == "")
    }

    @Test func momentsParseToTheMillisecond() {
        #expect(Vintage.milliseconds(iso: "2025-03-01T10:00:00Z") == 1_740_823_200_000)
        #expect(Vintage.milliseconds(iso: "2025-03-01T10:00:00.250Z") == 1_740_823_200_250)
        #expect(Vintage.milliseconds(iso: "2025-03-01T11:00:00.250+01:00") == 1_740_823_200_250)
        #expect(Vintage.milliseconds(iso: "2025-03-01") == nil && Vintage.milliseconds(iso: "yesterday") == nil)
        #expect(Vintage.isoText(milliseconds: 1_740_823_200_250) == "2025-03-01T10:00:00.250Z")
    }
}

/// History rows in the stream's JSON wire form: the same bytes as `JSONEncoder` with sorted keys (a withdrawal
/// with `"value": null`), read back equal.
@Suite struct PublishedRevisionWireTests {
    @Test func sameBytesAsJSONEncoderAndBack() throws {
        var causes = Provenance(.init(.correction, institution: "974589095"), count: 2)
        causes.add(Provenance(.init(.death)))
        let value = publishAll([makeCell()]).values.first!
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for entry in [
            PublishedRevision(key: value.key, eventId: 7, publishedAtMs: 1_740_823_200_250, value: value, causes: causes),
            PublishedRevision(key: value.key, eventId: 8, publishedAtMs: 1_740_823_200_251, value: nil),
        ] {
            #expect(String(decoding: entry.wireJSON, as: UTF8.self) == String(decoding: try encoder.encode(entry), as: UTF8.self))
            #expect(try PublishedRevision(wireJSON: entry.wireJSON) == entry)
        }
    }
}
