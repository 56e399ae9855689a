import Foundation
import MortalityLinking
import NPRCore
import SyntheticData
import Testing

/// `takeStateChanges` persists only what changed, and rows stored as "latest value per key" restore an
/// engine that continues exactly like one that never restarted.
struct StateChangesTests {
    /// Random histories; at random moments the changes are persisted, and at random moments the engine
    /// crashes: a fresh engine is restored from the store (through JSON) and the messages since the last
    /// persist are replayed, as a service resuming from its committed offset does.
    @Test func restartsFromPersistedRowsMatchAnEngineThatNeverRestarted() throws {
        var rng = SplitMix64(seed: 0x5374_6174_6543)
        var coverage = (restarts: 0, compactSlotRows: 0, deletedHeads: 0, casesWithCells: 0)
        for caseIndex in 0..<300 {
            var generator = HistoryGenerator(rng: SplitMix64(seed: rng.next()))
            let history = generator.history(length: Int.random(in: 5...70, using: &rng))

            var uninterrupted = MortalityEngine(asOf: asOf)
            for message in history { uninterrupted.apply(message) }
            let expected = uninterrupted.allCells
            if expected.values.contains(where: { $0.n1 ?? 0 > 0 }) { coverage.casesWithCells += 1 }

            var engine = MortalityEngine(asOf: asOf)
            var store = RowStore()
            var published: [CellKey: Cell] = [:]
            var persistedUpTo = 0
            var index = 0
            while index < history.count {
                engine.apply(history[index])
                index += 1
                if Int.random(in: 0..<4, using: &rng) == 0 { published.absorb(engine.takeChangedCells()) }
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    let changes = engine.takeStateChanges()
                    coverage.compactSlotRows += changes.slots.filter { $0.slot.episode == nil }.count
                    coverage.deletedHeads += changes.heads.filter { $0.head.death == nil }.count
                    store.absorb(changes)
                    persistedUpTo = index
                }
                if Int.random(in: 0..<8, using: &rng) == 0 {
                    coverage.restarts += 1
                    engine = MortalityEngine(asOf: asOf)
                    try store.roundTripped().restore(into: &engine)
                    index = persistedUpTo
                }
            }
            published.absorb(engine.takeChangedCells())
            store.absorb(engine.takeStateChanges())

            expectSameCells(engine.allCells, expected, "case \(caseIndex): restarted engine")
            expectSameCells(published, expected, "case \(caseIndex): reported changes across restarts")
            var restored = MortalityEngine(asOf: asOf)
            try store.roundTripped().restore(into: &restored)
            expectSameCells(restored.allCells, expected, "case \(caseIndex): restored from the final store")
            #expect(restored.takeStateChanges().slots.isEmpty, "case \(caseIndex): restored rows are not dirty")
        }
        #expect(
            coverage.restarts >= 500 && coverage.compactSlotRows >= 300 && coverage.deletedHeads >= 50
                && coverage.casesWithCells >= 100, "coverage \(coverage)")
    }

    @Test func oneEventOnAPersonWithManyEpisodesYieldsOneSlotRow() {
        var engine = MortalityEngine(asOf: asOf)
        let episodes = (0..<200).map { episode("p", "e\($0)", start: LocalDateTime(date: day("2020-03-01").adding(days: $0), hour: 10, minute: 0)!) }
        for e in episodes { engine.apply(version(e)) }
        engine.apply(death: death("p", "2023-05-01"))
        engine.apply(population: population(2023, count: 100))
        let initial = engine.takeStateChanges()
        #expect(initial.slots.count == 200 && initial.heads.count == 1 && initial.population.count == 1)

        // A new revision of one episode: that slot only, with its new content.
        let revised = episode("p", "e7", start: at("2021-08-01"))
        engine.apply(version(revised, revision: 2))
        let afterRevision = engine.takeStateChanges()
        #expect(afterRevision.slots.count == 1)
        #expect(afterRevision.slots.first?.person == "p" && afterRevision.slots.first?.episode == revised.key)
        #expect(afterRevision.slots.first?.slot.revision == 2)
        #expect(afterRevision.slots.first?.slot.episode?.start == revised.start)
        #expect(afterRevision.heads.isEmpty && afterRevision.population.isEmpty)

        // An annulment leaves a compact slot that must still be persisted for its revision.
        engine.apply(annulment(episodes[3], revision: 5))
        let afterAnnulment = engine.takeStateChanges()
        #expect(afterAnnulment.slots.map(\.slot) == [EpisodeSlot(revision: 5, episode: nil)])
        #expect(afterAnnulment.slots.map(\.episode) == [episodes[3].key])

        // A stale version changes nothing; a death annulment changes the head only.
        engine.apply(version(episodes[3], revision: 4))
        engine.apply(death: death("p", "2023-05-01", status: .annulment))
        let afterDeath = engine.takeStateChanges()
        #expect(afterDeath.slots.isEmpty)
        #expect(afterDeath.heads.map(\.person) == ["p"] && afterDeath.heads.map(\.head) == [PersonMortalityHead(death: nil)])
    }

    /// `takeDirty` and `takeStateChanges` consume the same record of what changed.
    @Test func takeDirtySharesWhatChanged() {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(version(episode("p", start: at("2022-01-01"))))
        engine.apply(death: death("q", "2023-01-01"))
        #expect(Set(engine.takeDirty().persons.keys) == ["p", "q"])
        let changes = engine.takeStateChanges()
        #expect(changes.slots.isEmpty && changes.heads.isEmpty)

        engine.apply(version(episode("p", "e2", start: at("2022-02-01"))))
        #expect(engine.takeStateChanges().slots.count == 1)
        #expect(engine.takeDirty().persons.isEmpty)
    }

    func expectSameCells(
        _ actual: [CellKey: Cell], _ expected: [CellKey: Cell], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        IncrementalPropertyTests().expectSame(actual, expected, label, sourceLocation: sourceLocation)
    }
}

/// A key-value store of the rows `takeStateChanges` yields: each key keeps its latest value; a head
/// without a death is deleted.
struct RowStore: Codable {
    struct SlotKey: Codable, Hashable {
        var person: String
        var episode: EpisodeKey
    }
    var slots: [SlotKey: EpisodeSlot] = [:]
    var heads: [String: PersonMortalityHead] = [:]
    var population: [String: PopulationEvent] = [:]

    mutating func absorb(_ changes: MortalityStateChanges) {
        for row in changes.slots { slots[SlotKey(person: row.person, episode: row.episode)] = row.slot }
        for row in changes.heads { heads[row.person] = row.head.death == nil ? nil : row.head }
        for count in changes.population { population[count.key] = count }
    }

    func roundTripped() throws -> RowStore {
        try JSONDecoder().decode(RowStore.self, from: JSONEncoder().encode(self))
    }

    func restore(into engine: inout MortalityEngine) {
        engine.restore(
            slots: slots.map { (person: $0.key.person, episode: $0.key.episode, slot: $0.value) },
            heads: heads.map { (person: $0.key, head: $0.value) }, population: Array(population.values))
    }
}
