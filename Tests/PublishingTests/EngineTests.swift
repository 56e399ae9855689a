import Foundation
import NPRCore
import SyntheticData
import Testing

@testable import Publishing

@Suite struct EngineTests {
    let parent = makeCell(patients: 200)
    let vest = makeCell(level: .rhf, unit: "vest", numerator: 12, denominator: 80, patients: 70, parent: "NO")
    let nord = makeCell(level: .rhf, unit: "nord", numerator: 30, denominator: 120, patients: 100, parent: "NO")

    func update(_ cell: Cell) -> CellUpdate { CellUpdate(key: cell.key, cell: cell) }

    func engine(with cells: [Cell]) -> PublisherEngine {
        var e = PublisherEngine()
        for c in cells { e.apply(update(c)) }
        _ = e.publish(now: "2025-03-01T10:00:00Z")
        return e
    }

    @Test func firstPublishIsRevisionOne() {
        var e = PublisherEngine()
        e.apply(update(vest))
        let (changed, removed) = e.publish(now: "2025-03-01T10:00:00Z")
        #expect(removed.isEmpty)
        #expect(changed.count == 1)
        let v = changed[0]
        #expect(v.key == "tsb-avbrudd|hovedmaltall|2024|rhf|vest|all")
        #expect(v.revision == 1 && v.updatedAt == "2025-03-01T10:00:00Z" && v.asOf == asOf)
        #expect(v.value == 0.15 && v.numerator == 12 && v.denominator == 80 && v.status == .ok)
    }

    @Test func unchangedRecomputationPublishesNothing() {
        var e = engine(with: [parent, vest, nord])
        #expect(e.publish(now: "later").changed.isEmpty)
        // Redelivery of the same content.
        e.apply(update(vest))
        #expect(e.publish(now: "later").changed.isEmpty)
        // A new size that changes no status: recomputed, nothing published.
        var resized = vest
        resized.size = 81
        e.apply(update(resized))
        let (changed, removed) = e.publish(now: "later")
        #expect(changed.isEmpty && removed.isEmpty)
        #expect(e.values(indicator: nil, measure: nil, period: nil, level: nil, unit: "vest", sex: nil)[0].revision == 1)
    }

    @Test func aChangeBumpsTheRevisionOnce() {
        var e = engine(with: [parent, vest, nord])
        var changedVest = vest
        changedVest.numerator = 20
        e.apply(update(changedVest))
        var again = changedVest
        again.size = 79
        e.apply(update(again))
        let (changed, _) = e.publish(now: "2025-03-02T08:00:00Z")
        #expect(changed.map(\.key) == [vest.key.string])
        #expect(changed[0].revision == 2 && changed[0].value == 0.25 && changed[0].updatedAt == "2025-03-02T08:00:00Z")
        #expect(e.publish(now: "2025-03-03T08:00:00Z").changed.isEmpty)
        let stored = e.values(indicator: "tsb-avbrudd", measure: nil, period: nil, level: "rhf", unit: "vest", sex: nil)
        #expect(stored.map(\.revision) == [2] && stored[0].updatedAt == "2025-03-02T08:00:00Z")
    }

    @Test func aNewSmallSiblingRepublishesTheOneItSuppresses() {
        var e = engine(with: [parent, vest, nord])
        let small = makeCell(level: .rhf, unit: "midt-norge", numerator: 1, denominator: 4, patients: 3, parent: "NO")
        e.apply(update(small))
        let changed = e.publish(now: "t2").changed
        let byKey = Dictionary(uniqueKeysWithValues: changed.map { ($0.key, $0) })
        #expect(byKey.count == 2)
        #expect(byKey[small.key.string]?.status == .suppressedPrimary && byKey[small.key.string]?.revision == 1)
        #expect(byKey[vest.key.string]?.status == .suppressedSecondary && byKey[vest.key.string]?.revision == 2)
        #expect(byKey[vest.key.string]?.value == nil)
    }

    @Test func aRemovedKeyComesBackWithTheNextRevision() {
        var e = engine(with: [parent, vest, nord])
        e.apply(CellUpdate(key: nord.key, cell: nil))
        let (changed, removed) = e.publish(now: "t2")
        #expect(changed.isEmpty && removed == [nord.key.string])
        #expect(e.values(indicator: nil, measure: nil, period: nil, level: nil, unit: "nord", sex: nil).isEmpty)
        #expect(e.publish(now: "t3") == ([], []) as ([PublishedValue], [String]))

        // The tombstone survives a restart from the persisted slot rows.
        var rows: [String: Data] = [:]
        e = try! restarted(e, rows: &rows)
        e.apply(update(nord))
        let back = e.publish(now: "t4").changed
        #expect(back.map(\.key) == [nord.key.string] && back[0].revision == 2)
    }

    @Test func aKeyAddedAndWithdrawnBeforePublishingLeavesNoTrace() {
        var e = engine(with: [parent])
        e.apply(update(vest))
        e.apply(CellUpdate(key: vest.key, cell: nil))
        #expect(e.publish(now: "t2") == ([], []) as ([PublishedValue], [String]))
        e.apply(update(vest))
        #expect(e.publish(now: "t3").changed.map(\.revision) == [1])
    }

    @Test func aNewEvaluationDateIsAChange() {
        var e = engine(with: [vest])
        var later = vest
        later.asOf = LocalDate("2025-03-02")!
        e.apply(update(later))
        let changed = e.publish(now: "t2").changed
        #expect(changed.count == 1 && changed[0].revision == 2 && changed[0].asOf == later.asOf)
    }

    @Test func filters() {
        var male = vest
        male.key.sex = .male
        var tertial = vest
        tertial.key.period = .tertial(2024, 2)
        var other = makeCell(.nokkeltall, measure: "pasienter", formula: .count, numerator: 40, denominator: nil, patients: 40)
        other.key.period = .year(2023)
        let e = engine(with: [parent, vest, nord, male, tertial, other])
        func keys(_ v: [PublishedValue]) -> [String] { v.map(\.key) }
        #expect(e.values(indicator: nil, measure: nil, period: nil, level: nil, unit: nil, sex: nil).count == 6)
        #expect(keys(e.values(indicator: nil, measure: nil, period: nil, level: nil, unit: nil, sex: "male")) == [male.key.string])
        #expect(keys(e.values(indicator: nil, measure: nil, period: "2024-T2", level: nil, unit: nil, sex: nil)) == [tertial.key.string])
        #expect(keys(e.values(indicator: "tsb-nokkeltall", measure: nil, period: nil, level: nil, unit: nil, sex: nil)) == [other.key.string])
        #expect(keys(e.values(indicator: nil, measure: "pasienter", period: "2023", level: "national", unit: "NO", sex: "all")) == [other.key.string])
        let all = keys(e.values(indicator: "tsb-avbrudd", measure: "hovedmaltall", period: "2024", level: "rhf", unit: nil, sex: "all"))
        #expect(all == [nord.key.string, vest.key.string], "ordered by key")
    }

    /// Persists `engine`'s state changes as a service does (latest row per key, nil deletes, JSON) and
    /// returns the engine restored from all rows.
    func restarted(_ engine: PublisherEngine, rows: inout [String: Data]) throws -> PublisherEngine {
        var engine = engine
        for (key, slot) in engine.takeStateChanges() { rows[key] = try slot.map { try JSONEncoder().encode($0) } }
        return PublisherEngine(slots: try rows.values.map { try JSONDecoder().decode(PublisherEngine.Slot.self, from: $0) })
    }

    /// Slot rows taken after every publish restore an engine that publishes exactly what the original does
    /// from then on (revisions continue, withdrawn keys come back with the next revision), whatever the
    /// order the cells arrived in.
    @Test func slotRowsRestoreTheEngine() throws {
        var rng = SplitMix64(seed: 99)
        for round in 0..<20 {
            let h = RandomHierarchy(levels: [.national, .rhf, .hf], tertials: round % 2 == 0, rng: &rng)
            let cells = Array(h.cells.values).shuffled(using: &rng)
            var original = PublisherEngine()
            var rows: [String: Data] = [:]
            var restored: PublisherEngine? = nil
            for (batch, start) in stride(from: 0, to: cells.count * 3, by: 7).enumerated() {
                // Cells arrive, change their size or are withdrawn; both engines see the same updates.
                let updates: [CellUpdate] = (start..<min(start + 7, cells.count * 3)).map { i in
                    var cell = cells[i % cells.count]
                    switch i / cells.count {
                    case 0: return update(cell)
                    case 1:
                        cell.size = rng.int(0...30)
                        cell.patients = cell.size
                        return update(cell)
                    default: return rng.int(0...2) == 0 ? CellUpdate(key: cell.key, cell: nil) : update(cell)
                    }
                }
                for u in updates {
                    original.apply(u)
                    restored?.apply(u)
                }
                let now = "t\(batch)"
                let fromOriginal = original.publish(now: now)
                if let fromRestored = restored?.publish(now: now) { #expect(fromRestored == fromOriginal) }
                for (key, slot) in original.takeStateChanges() { rows[key] = try slot.map { try JSONEncoder().encode($0) } }
                if restored != nil { _ = restored!.takeStateChanges() }
                if rng.int(0...3) == 0 {
                    restored = PublisherEngine(slots: try rows.values.map { try JSONDecoder().decode(PublisherEngine.Slot.self, from: $0) })
                }
                if let restored { #expect(restored.values() == original.values()) }
            }
        }
    }
}

/// Provenance in the publisher: a changed value carries the causes of its own cell's changes since the last
/// publication; a value whose status moved only through secondary suppression carries its component's.
@Suite struct PublishedProvenanceTests {
    @Test func ownCausesThenComponentCausesThenNothing() {
        let correction = Provenance(.init(.correction, institution: "974589095"))
        let death = Provenance(.init(.death))
        var e = PublisherEngine()
        let national = makeCell(numerator: 30, denominator: 100, patients: 100)
        let vest = makeCell(level: .rhf, unit: "vest", numerator: 20, denominator: 60, patients: 60, parent: "NO")
        let nord = makeCell(level: .rhf, unit: "nord", numerator: 10, denominator: 40, patients: 40, parent: "NO")
        for c in [national, vest, nord] { e.apply(CellUpdate(key: c.key, cell: c), causes: death) }
        var published = e.publish(now: "t1")
        #expect(published.changed.count == 3 && e.publishedCauses.count == 3)
        #expect(e.publishedCauses.values.allSatisfy { $0 == death })

        // Nord drops below 5 patients: nord is hidden (its own cause), vest secondarily (the component's).
        var small = nord
        small.patients = 3
        e.apply(CellUpdate(key: nord.key, cell: small), causes: correction)
        published = e.publish(now: "t2")
        #expect(Set(published.changed.map(\.key)) == [nord.key.string, vest.key.string])
        #expect(e.publishedCauses[nord.key.string] == correction && e.publishedCauses[vest.key.string] == correction)

        // A redelivery changes nothing and leaves no causes behind for a later change.
        e.apply(CellUpdate(key: nord.key, cell: small), causes: death)
        #expect(e.publish(now: "t3").changed.isEmpty && e.publishedCauses.isEmpty)
        var other = national
        other.numerator = 31
        e.apply(CellUpdate(key: national.key, cell: other))
        _ = e.publish(now: "t4")
        #expect(e.publishedCauses.isEmpty, "an update without causes publishes none")
    }
}
