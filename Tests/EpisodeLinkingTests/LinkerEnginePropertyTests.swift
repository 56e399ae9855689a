import EpisodeLinking
import Foundation
import NPRCore
import SyntheticData
import Testing

/// One input of the episode-linker, in arrival order.
enum LinkerInput {
    case activity(ActivityEvent)
    case unit(NPRCore.Unit)
}

/// Random histories: a few patients (and anonymous buckets), episodes with several revisions, corrections,
/// annulments, bucket moves with foreign placeholders, duplicates, shuffled arrival, one detox flip midway.
struct Scenario {
    var inputs: [LinkerInput]

    static let unitIds = ["U1", "U2", "U3", "U4", "U9"]
    static func institution(ofUnit id: String) -> String { id == "U3" || id == "U4" ? instB : instA }

    static func random(using rng: inout SplitMix64) -> Scenario {
        var units: [NPRCore.Unit] = []
        for id in unitIds.dropLast() {  // U9 stays unknown until the flip registers it
            units.append(unit(id, inst: institution(ofUnit: id), detox: Int.random(in: 0..<10, using: &rng) < 3))
        }
        var events: [ActivityEvent] = []
        for index in 0..<Int.random(in: 1...14, using: &rng) {
            events += episodeHistory(episodeId: String(index), using: &rng)
        }
        for event in events where Int.random(in: 0..<5, using: &rng) == 0 { events.append(event) }
        events.shuffle(using: &rng)

        var inputs = units.map(LinkerInput.unit) + events.map(LinkerInput.activity)
        let flipped = unitIds.randomElement(using: &rng)!
        let wasDetox = units.first { $0.unitId == flipped }?.detox ?? false
        let flip = unit(flipped, inst: institution(ofUnit: flipped), detox: !wasDetox)
        inputs.insert(.unit(flip), at: Int.random(in: units.count...inputs.count, using: &rng))
        return Scenario(inputs: inputs)
    }

    static func episodeHistory(episodeId: String, using rng: inout SplitMix64) -> [ActivityEvent] {
        let unitId = unitIds.randomElement(using: &rng)!
        let inst = institution(ofUnit: unitId)
        var pseudonym: String? = Int.random(in: 0..<10, using: &rng) == 0 ? nil : ["p1", "p2", "p3"].randomElement(using: &rng)!
        var events: [ActivityEvent] = []
        for revision in 1...Int.random(in: 1...3, using: &rng) {
            // A corrected person id moves the episode: the old bucket gets a foreign placeholder.
            if revision > 1, pseudonym != nil, Int.random(in: 0..<10, using: &rng) == 0 {
                let key = EpisodeKey(institutionId: inst, episodeId: episodeId)
                events.append(
                    ActivityEvent(
                        kind: .foreign, patientKey: PatientKey(pseudonym: pseudonym, episode: key),
                        episodeKey: key, revision: revision, episode: nil))
                pseudonym = ["p1", "p2", "p3"].randomElement(using: &rng)!
            }
            let content = randomContent(episodeId: episodeId, inst: inst, pseudonym: pseudonym, using: &rng)
            let annul = Int.random(in: 0..<5, using: &rng) == 0
            if !annul || Bool.random(using: &rng) { events.append(version(content, revision: revision)) }
            if annul { events.append(annulment(content, revision: revision)) }
        }
        return events
    }

    static func randomContent(episodeId: String, inst: String, pseudonym: String?, using rng: inout SplitMix64) -> Episode {
        let start = LocalDateTime(
            date: LocalDate(year: 2024, month: 1, day: 1)!.adding(days: Int.random(in: 0...30, using: &rng)),
            hour: Int.random(in: 0...22, using: &rng), minute: 0)!
        let length = Int.random(in: 0...5, using: &rng)
        let end =
            Int.random(in: 0..<10, using: &rng) == 0
            ? nil
            : LocalDateTime(date: start.date.adding(days: length), hour: length == 0 ? start.hour + 1 : Int.random(in: 0...23, using: &rng), minute: 30)
        let units = unitIds.filter { institution(ofUnit: $0) == inst }
        var e = episode(
            episodeId, inst: inst, unit: units.randomElement(using: &rng)!, "2024-01-01", nil,
            endType: [nil, 1, 2, 3, 4].randomElement(using: &rng)!,
            sector: Int.random(in: 0..<8, using: &rng) == 0 ? "SOM" : "TSB",
            careLevel: Int.random(in: 0..<5, using: &rng) == 0 ? 3 : 1, pseudonym: pseudonym)
        e.start = start
        e.end = end
        return e
    }

    /// Independent batch resolution: per bucket and episode, the highest revision; a removal (annulment or
    /// foreign) at that revision wins over content.
    func finalEpisodes() -> [PatientKey: [EpisodeKey: Episode]] {
        var best: [PatientKey: [EpisodeKey: (revision: Int, removed: Bool, content: Episode?)]] = [:]
        for case .activity(let event) in inputs {
            let removes = event.kind != .version
            let current = best[event.patientKey]?[event.episodeKey]
            if current == nil || event.revision > current!.revision || (event.revision == current!.revision && removes) {
                best[event.patientKey, default: [:]][event.episodeKey] = (event.revision, removes, removes ? nil : event.episode)
            }
        }
        return best.mapValues { $0.compactMapValues(\.content) }
    }

    func finalUnits() -> [String: NPRCore.Unit] {
        var units: [String: NPRCore.Unit] = [:]
        for case .unit(let u) in inputs { units[u.unitId] = u }
        return units
    }
}

/// Feeds inputs to an engine and collects every changelog in emission order.
func run(_ inputs: some Sequence<LinkerInput>, on engine: inout LinkerEngine) -> [StayChangelog] {
    var changelogs: [StayChangelog] = []
    for input in inputs {
        switch input {
        case .activity(let event): if let log = engine.apply(event) { changelogs.append(log) }
        case .unit(let u): changelogs += engine.apply(unit: u)
        }
    }
    return changelogs
}

@Suite("LinkerEngine property: incremental equals batch")
struct LinkerEnginePropertyTests {
    @Test func finalStaysEqualBatchAndChangelogsReplayToTheSameState() throws {
        var rng = SplitMix64(seed: 0xE9_150DE)
        for _ in 0..<300 {
            let scenario = Scenario.random(using: &rng)
            var engine = LinkerEngine()
            let changelogs = run(scenario.inputs, on: &engine)
            let finalEpisodes = scenario.finalEpisodes()
            let units = scenario.finalUnits()

            // (a) Engine state equals the batch linker on the independently resolved episodes.
            for (patient, episodes) in finalEpisodes {
                let state = try #require(engine.patient(patient))
                #expect(state.stays == StayLinker.stays(patientKey: patient, episodes: Array(episodes.values), unit: { units[$0] }))
                #expect(state.slots.compactMapValues(\.episode) == episodes)
            }

            // (b) Replaying the changelogs reproduces the engine's stays and downstream episodes.
            var replayedStays: [PatientKey: [Stay]] = [:]
            var replayedEpisodes: [PatientKey: [EpisodeKey: Episode]] = [:]
            var lastSequence: [PatientKey: Int] = [:]
            for log in changelogs {
                let patient = log.patientKey
                #expect(log.sequence == (lastSequence[patient] ?? 0) + 1)
                lastSequence[patient] = log.sequence
                let before = Dictionary(uniqueKeysWithValues: (replayedStays[patient] ?? []).map { ($0.id, $0) })
                let after = Dictionary(uniqueKeysWithValues: log.stays.map { ($0.id, $0) })
                #expect(Set(log.retracted) == Set(before.keys.filter { after[$0] != before[$0] }))
                #expect(Set(log.asserted) == Set(after.keys.filter { after[$0] != before[$0] }))
                #expect(!log.episodes.isEmpty || !log.retracted.isEmpty || !log.asserted.isEmpty)
                for assignment in log.episodes {
                    // Only real changes are assigned, and only TSB content is ever published.
                    #expect(replayedEpisodes[patient]?[assignment.key] != assignment.episode)
                    #expect(assignment.episode?.isTSB ?? true)
                    replayedEpisodes[patient, default: [:]][assignment.key] = assignment.episode
                }
                replayedStays[patient] = log.stays
            }
            for (patient, episodes) in finalEpisodes {
                #expect((replayedStays[patient] ?? []) == engine.patient(patient)?.stays)
                #expect((replayedEpisodes[patient] ?? [:]).compactMapValues { $0 } == episodes.filter { $0.value.isTSB })
                #expect(lastSequence[patient] ?? 0 == engine.patient(patient)?.sequence)
            }
        }
    }

    /// Persisting dirty rows at random moments and restarting from them gives the same changelogs and
    /// the same final state as never restarting.
    @Test func restoreFromPersistedRowsContinuesIdentically() throws {
        var rng = SplitMix64(seed: 0x2E_5707E)
        for _ in 0..<300 {
            let scenario = Scenario.random(using: &rng)
            var reference = LinkerEngine()
            let expectedLogs = run(scenario.inputs, on: &reference)

            var store = PersistedRows()
            var engine = LinkerEngine()
            var logs: [StayChangelog] = []
            let restartAt = Set((0..<2).map { _ in Int.random(in: 0...scenario.inputs.count, using: &rng) })
            for (index, input) in scenario.inputs.enumerated() {
                if restartAt.contains(index) {
                    try store.save(engine.takeDirty())
                    engine = LinkerEngine()
                    try engine.restore(patients: store.patients(), units: store.units())
                }
                logs += run([input], on: &engine)
                if Int.random(in: 0..<3, using: &rng) == 0 { try store.save(engine.takeDirty()) }
            }
            #expect(logs == expectedLogs)

            // The rows persisted in the end hold the whole state.
            try store.save(engine.takeDirty())
            var restored = LinkerEngine()
            try restored.restore(patients: store.patients(), units: store.units())
            #expect(restored.units == reference.units)
            for patient in scenario.finalEpisodes().keys {
                #expect(restored.patient(patient) == reference.patient(patient))
            }
            // And the restored engine keeps behaving like the reference (its derived unit index included).
            for id in Scenario.unitIds {
                let flip = unit(id, inst: Scenario.institution(ofUnit: id), detox: !StayLinker.isDetox(reference.units[id]))
                let restoredLogs = restored.apply(unit: flip), referenceLogs = reference.apply(unit: flip)
                #expect(restoredLogs == referenceLogs)
            }
        }
    }
}

/// A stand-in for the service's state store: rows are JSON, as they would be on disk.
struct PersistedRows {
    private var patientRows: [PatientKey: Data] = [:]
    private var unitRows: [String: Data] = [:]

    mutating func save(_ dirty: (patients: [PatientKey: PatientLinkState], units: [NPRCore.Unit])) throws {
        for (key, state) in dirty.patients { patientRows[key] = try JSONEncoder().encode(state) }
        for u in dirty.units { unitRows[u.unitId] = try JSONEncoder().encode(u) }
    }

    func patients() throws -> [PatientKey: PatientLinkState] {
        try patientRows.mapValues { try JSONDecoder().decode(PatientLinkState.self, from: $0) }
    }

    func units() throws -> [NPRCore.Unit] { try unitRows.values.map { try JSONDecoder().decode(NPRCore.Unit.self, from: $0) } }
}
