import EpisodeLinking
import Foundation
import NPRCore
import SyntheticData
import Testing

/// A stand-in for the service's key → latest-value store of slot, head and unit rows, kept as JSON.
struct PersistedChangeRows {
    private struct SlotRowKey: Hashable {
        var patient: PatientKey
        var episode: EpisodeKey
    }
    private var slotRows: [SlotRowKey: Data] = [:]
    private var headRows: [PatientKey: Data] = [:]
    private var unitRows: [String: Data] = [:]

    mutating func save(_ changes: LinkerStateChanges) throws {
        for row in changes.slots { slotRows[SlotRowKey(patient: row.patient, episode: row.episode)] = try JSONEncoder().encode(row.slot) }
        for row in changes.heads { headRows[row.patient] = try JSONEncoder().encode(row.head) }
        for u in changes.units { unitRows[u.unitId] = try JSONEncoder().encode(u) }
    }

    func restore(into engine: inout LinkerEngine) throws {
        let slots = try slotRows.map {
            (
                patient: $0.key.patient, episode: $0.key.episode,
                slot: try JSONDecoder().decode(EpisodeSlot.self, from: $0.value)
            )
        }
        let heads = try headRows.map { (patient: $0.key, head: try JSONDecoder().decode(PatientStaysHead.self, from: $0.value)) }
        let units = try unitRows.values.map { try JSONDecoder().decode(NPRCore.Unit.self, from: $0) }
        engine.restore(slots: slots, heads: heads, units: units)
    }
}

@Suite("LinkerEngine incremental state rows")
struct LinkerStateChangesTests {
    /// Persisting only the changed rows at random moments and restarting from them gives the same changelogs
    /// and the same final state as never restarting.
    @Test func restoreFromChangedRowsContinuesIdentically() throws {
        var rng = SplitMix64(seed: 0x5107_C4A6)
        for _ in 0..<300 {
            let scenario = Scenario.random(using: &rng)
            var reference = LinkerEngine()
            let expectedLogs = run(scenario.inputs, on: &reference)

            var store = PersistedChangeRows()
            var engine = LinkerEngine()
            var logs: [StayChangelog] = []
            let restartAt = Set((0..<2).map { _ in Int.random(in: 0...scenario.inputs.count, using: &rng) })
            for (index, input) in scenario.inputs.enumerated() {
                if restartAt.contains(index) {
                    try store.save(engine.takeStateChanges())
                    engine = LinkerEngine()
                    try store.restore(into: &engine)
                    #expect(engine.takeStateChanges().slots.isEmpty)
                }
                logs += run([input], on: &engine)
                if Int.random(in: 0..<3, using: &rng) == 0 { try store.save(engine.takeStateChanges()) }
            }
            #expect(logs == expectedLogs)

            // The rows persisted in the end hold the whole state.
            try store.save(engine.takeStateChanges())
            var restored = LinkerEngine()
            try store.restore(into: &restored)
            #expect(restored.units == reference.units)
            for patient in scenario.finalEpisodes().keys {
                #expect(restored.patient(patient) == reference.patient(patient))
            }
            // And the restored engine keeps behaving like the reference (its derived unit index included).
            for id in Scenario.unitIds {
                let flip = unit(id, inst: Scenario.institution(ofUnit: id), detox: !StayLinker.isDetox(reference.units[id]))
                #expect(restored.apply(unit: flip) == reference.apply(unit: flip))
            }
        }
    }

    /// 24 separate one-day stays, ten days apart (so no two chain), all TSB inpatient.
    func patientWithManyEpisodes() -> (LinkerEngine, [Episode]) {
        var engine = LinkerEngine()
        let first = LocalDate(year: 2023, month: 1, day: 1)!
        let episodes = (0..<24).map { i in
            var e = episode("e\(i)", "2023-01-01", "2023-01-02", endType: 1)
            e.start = LocalDateTime(date: first.adding(days: 10 * i), hour: 12, minute: 0)!
            e.end = LocalDateTime(date: first.adding(days: 10 * i + 1), hour: 12, minute: 0)!
            return e
        }
        for e in episodes { _ = engine.apply(version(e, revision: 1)) }
        _ = engine.takeStateChanges()
        return (engine, episodes)
    }

    @Test func oneNewEpisodeYieldsOneSlotRowAndOneHeadRow() throws {
        var (engine, _) = patientWithManyEpisodes()
        let new = episode("new", "2024-06-01", "2024-06-03", endType: 1)
        #expect(engine.apply(version(new, revision: 1)) != nil)
        let changes = engine.takeStateChanges()
        #expect(changes.slots.count == 1)
        #expect(changes.slots.first?.patient == patient1)
        #expect(changes.slots.first?.episode == key("new"))
        #expect(changes.slots.first?.slot == EpisodeSlot(revision: 1, episode: new))
        // 24 earlier changelogs, one treatment and one institution stay per episode.
        #expect(changes.heads.map(\.patient) == [patient1])
        #expect(changes.heads.first?.head.sequence == 25)
        #expect(changes.heads.first?.head.stays.count == 50)
        #expect(changes.heads.first?.head.stays.suffix(2).map(\.id) == ["institution:\(instA)|new", "treatment:\(instA)|new"])
        #expect(changes.units.isEmpty)
        // Taken: nothing is left.
        let again = engine.takeStateChanges()
        #expect(again.slots.isEmpty && again.heads.isEmpty)
    }

    @Test func invisibleSlotChangeYieldsASlotRowWithoutAHead() {
        var (engine, episodes) = patientWithManyEpisodes()
        // A non-TSB episode is not there downstream, but its revision must survive a restart.
        let somatic = episode("s", "2024-06-01", "2024-06-03", sector: "SOM")
        #expect(engine.apply(version(somatic, revision: 1)) == nil)
        // An annulment of an episode never seen: nothing visible, the annulment is kept.
        let ghost = episode("g", "2024-07-01", "2024-07-02")
        #expect(engine.apply(annulment(ghost, revision: 2)) == nil)
        // An exact resend changes nothing at all.
        #expect(engine.apply(version(episodes[3], revision: 1)) == nil)
        let changes = engine.takeStateChanges()
        #expect(changes.slots.map(\.episode) == [key("g"), key("s")])
        #expect(changes.slots.map(\.slot) == [EpisodeSlot(revision: 2, episode: nil), EpisodeSlot(revision: 1, episode: somatic)])
        #expect(changes.heads.isEmpty)
    }

    @Test func outpatientCorrectionMovesOnlyTheSequence() {
        var (engine, _) = patientWithManyEpisodes()
        let contact = episode("o", "2024-02-01T09:00", "2024-02-01T10:00", careLevel: 3)
        _ = engine.apply(version(contact, revision: 1))
        let before = engine.takeStateChanges().heads.first?.head
        var corrected = contact
        corrected.endType = 2
        #expect(engine.apply(version(corrected, revision: 2)) != nil)
        let changes = engine.takeStateChanges()
        #expect(changes.slots.map(\.slot) == [EpisodeSlot(revision: 2, episode: corrected)])
        #expect(changes.heads.first?.head.sequence == 26)
        #expect(changes.heads.first?.head.stays == before?.stays)
    }

    @Test func detoxFlipYieldsHeadsOnlyAndTakeDirtySharesTheRecord() {
        var engine = LinkerEngine()
        _ = engine.apply(unit: unit("UD", detox: false))
        _ = engine.apply(version(episode("a", unit: "UD", "2024-01-01", "2024-01-05"), revision: 1))
        _ = engine.apply(version(episode("x", unit: "U1", "2024-01-01", "2024-01-05", pseudonym: "p2"), revision: 1))
        _ = engine.takeStateChanges()
        #expect(engine.apply(unit: unit("UD", detox: true)).count == 1)
        let changes = engine.takeStateChanges()
        #expect(changes.slots.isEmpty)
        #expect(changes.heads.map(\.patient) == [patient1])
        #expect(changes.heads.first?.head.stays.map(\.kind) == [.institution])
        #expect(changes.units.map(\.unitId) == ["UD"])

        // takeDirty reports the same patients and consumes the same record.
        _ = engine.apply(unit: unit("UD", detox: false))
        #expect(Set(engine.takeDirty().patients.keys) == [patient1])
        let after = engine.takeStateChanges()
        #expect(after.heads.isEmpty && after.units.isEmpty)
    }
}
