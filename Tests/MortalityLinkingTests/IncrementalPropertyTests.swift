import Foundation
import MortalityLinking
import NPRCore
import SyntheticData
import Testing

/// Random histories of activities (with revisions, annulments and foreign placeholders), deaths (N/C) and
/// population upserts in random order: the engine's cells, the cells it reported as changed, and engines
/// restored from the state it reported dirty all equal the independent batch computation, cell for cell.
struct IncrementalPropertyTests {
    @Test func incrementalCellsEqualBatchComputation() throws {
        var rng = SplitMix64(seed: 0x4D6F_7274_616C)
        var casesWith = (d1: 0, d2: 0, regionalN1: 0, cohortOutnumbersPopulation: 0)
        for caseIndex in 0..<300 {
            var generator = HistoryGenerator(rng: SplitMix64(seed: rng.next()))
            let history = generator.history(length: Int.random(in: 5...70, using: &rng))
            let expected = BatchReference.cells(history, asOf: asOf)
            let national = expected.values.filter { $0.key.level == .national && $0.key.measure == "hovedmaltall" }
            if national.contains(where: { $0.d1! > 0 }) { casesWith.d1 += 1 }
            if national.contains(where: { $0.d2! > 0 }) { casesWith.d2 += 1 }
            if expected.values.contains(where: { $0.key.level == .helsefellesskap && $0.n1! > 0 }) { casesWith.regionalN1 += 1 }
            if national.contains(where: { $0.n1! > 0 && $0.n2! < 0 }) { casesWith.cohortOutnumbersPopulation += 1 }

            var engine = MortalityEngine(asOf: asOf)
            var published: [CellKey: Cell] = [:]
            var store = PersistedState()
            let cut = Int.random(in: 0...history.count, using: &rng)
            var storeAtCut = PersistedState()
            for (index, message) in history.enumerated() {
                if index == cut {
                    store.absorb(engine.takeDirty())
                    storeAtCut = store
                }
                engine.apply(message)
                if Int.random(in: 0..<5, using: &rng) == 0 { published.absorb(engine.takeChangedCells()) }
                if Int.random(in: 0..<5, using: &rng) == 0 { store.absorb(engine.takeDirty()) }
            }
            if cut == history.count {
                store.absorb(engine.takeDirty())
                storeAtCut = store
            }
            published.absorb(engine.takeChangedCells())
            store.absorb(engine.takeDirty())

            expectSame(engine.allCells, expected, "case \(caseIndex): engine")
            expectSame(published, expected, "case \(caseIndex): reported changes")

            var restored = MortalityEngine(asOf: asOf)
            try store.roundTripped().restore(into: &restored)
            expectSame(restored.allCells, expected, "case \(caseIndex): restored")

            var resumed = MortalityEngine(asOf: asOf)
            try storeAtCut.roundTripped().restore(into: &resumed)
            var resumedPublished: [CellKey: Cell] = [:]
            for message in history[cut...] { resumed.apply(message) }
            resumedPublished.absorb(resumed.takeChangedCells())
            expectSame(resumed.allCells, expected, "case \(caseIndex): restored at \(cut) and resumed")
            expectSame(resumedPublished, expected, "case \(caseIndex): reported after restore")
        }
        // The histories exercise every part, not only empty cells.
        #expect(
            casesWith.d1 >= 30 && casesWith.d2 >= 100 && casesWith.regionalN1 >= 100 && casesWith.cohortOutnumbersPopulation >= 50,
            "coverage \(casesWith)")
    }

    /// Reports the first few differing cells rather than two large dictionaries.
    func expectSame(
        _ actual: [CellKey: Cell], _ expected: [CellKey: Cell], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard actual != expected else { return }
        let keys = Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.sorted().prefix(3)
        let details: [String] = keys.map { key in
            "\(key)\n  actual:   \(String(describing: actual[key]))\n  expected: \(String(describing: expected[key]))"
        }
        Issue.record(Comment(rawValue: "\(label): cells differ\n\(details.joined(separator: "\n"))"), sourceLocation: sourceLocation)
    }
}

extension MortalityEngine {
    mutating func apply(_ message: BatchReference.Message) {
        switch message {
        case .activity(let e): apply(e)
        case .death(let d): apply(death: d)
        case .population(let p): apply(population: p)
        }
    }
}

extension Dictionary where Key == CellKey, Value == Cell {
    mutating func absorb(_ updates: [CellUpdate]) { for u in updates { self[u.key] = u.cell } }
}

/// What a service would persist from `takeDirty`: persons (deleted when empty) and population counts.
struct PersistedState: Codable {
    var persons: [String: PersonMortalityState] = [:]
    var population: [String: PopulationEvent] = [:]

    mutating func absorb(_ dirty: (persons: [String: PersonMortalityState], population: [PopulationEvent])) {
        for (pseudonym, state) in dirty.persons { persons[pseudonym] = state.isEmpty ? nil : state }
        for count in dirty.population { population[count.key] = count }
    }

    /// Through JSON, as a service stores it.
    func roundTripped() throws -> PersistedState {
        try JSONDecoder().decode(PersistedState.self, from: JSONEncoder().encode(self))
    }

    func restore(into engine: inout MortalityEngine) {
        engine.restore(persons: persons, population: Array(population.values))
    }
}

/// Random histories over a few persons, each with a fixed birth date, so that every rule's boundary is
/// hit often: ages 14/15/50/51, window edges, ties on start, split and renumbered municipalities, sex 0/9.
struct HistoryGenerator {
    var rng: SplitMix64
    let persons = (0..<6).map { "p\($0)" }
    let deathOnlyPersons = (0..<4).map { "d\($0)" }
    var birthDates: [String: LocalDate] = [:]
    /// One content per (episode, revision), as intake guarantees.
    var contents: [String: Episode] = [:]

    static let municipalities: [String?] = ["0301", "1103", "1601", "1850", "1504", "4601", "5501", "1806", "5001", nil]
    static let municipalities2024 = ["0301", "1103", "4601", "5501", "1806", "1875", "5001", "1508"]
    static let sharedStarts = [at("2019-12-31", 23, 0), at("2020-01-01", 0, 0), at("2021-06-15", 10, 0)]

    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    mutating func birthDate(of person: String) -> LocalDate {
        if let d = birthDates[person] { return d }
        let d = LocalDate(
            year: Int.random(in: 1966...2010, using: &rng), month: Int.random(in: 1...12, using: &rng),
            day: pick([1, 2, 15, 28]))!
        birthDates[person] = d
        return d
    }

    mutating func date(around born: LocalDate, years: ClosedRange<Int>) -> LocalDate {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:  // a birthday boundary: the day of or the day before turning 15 or 51
            let birthday = LocalDate(year: born.year + pick([15, 51]), month: born.month, day: born.day)!
            return birthday.adding(days: pick([0, -1]))
        case 2: return LocalDate(year: pick(Array(years)), month: 12, day: 31)!
        case 3: return LocalDate(year: pick(Array(years)), month: 1, day: 1)!
        default:
            return LocalDate(year: pick(Array(years)), month: Int.random(in: 1...12, using: &rng), day: Int.random(in: 1...28, using: &rng))!
        }
    }

    mutating func content(person: String?, key: EpisodeKey, revision: Int) -> Episode {
        let id = "\(person ?? "anon")|\(key)|\(revision)"
        if let e = contents[id] { return e }
        let born = birthDate(of: person ?? "anon")
        let start =
            chance(20)
            ? pick(Self.sharedStarts)
            : LocalDateTime(date: date(around: born, years: 2013...2024), hour: pick([0, 10, 23]), minute: 0)!
        let e = Episode(
            institutionId: key.institutionId, episodeId: key.episodeId, unitId: "U1",
            sector: chance(85) ? "TSB" : "PHV", pseudonym: person, sex: pick([1, 2, 1, 2, 0, 9]),
            birthDate: born, municipality: pick(Self.municipalities),
            rightToHealthcare: pick([1, 3, 4, 3, 2, 5, 9, nil]), careLevel: pick([1, 2, 3, 8]),
            start: start, end: nil)
        contents[id] = e
        return e
    }

    mutating func activity() -> ActivityEvent {
        let person: String? = chance(10) ? nil : pick(persons)
        let key = EpisodeKey(institutionId: pick([institutionA, institutionB]), episodeId: pick(["e1", "e2", "e10"]))
        let revision = Int.random(in: 1...3, using: &rng)
        let episode = content(person: person, key: key, revision: revision)
        let kind: ActivityEvent.Kind = chance(75) ? .version : (chance(60) ? .annulment : .foreign)
        return ActivityEvent(
            kind: kind, patientKey: episode.patientKey, episodeKey: key, revision: revision,
            episode: kind == .foreign ? nil : episode)
    }

    mutating func death() -> DeathEvent {
        let person = pick(persons + deathOnlyPersons)
        let born = birthDate(of: person)
        return DeathEvent(
            status: chance(75) ? .registration : .annulment, pseudonym: person,
            deathDate: date(around: born, years: 2016...2024), sex: pick([1, 2]), birthDate: born,
            municipality: pick(Self.municipalities))
    }

    mutating func populationCount() -> PopulationEvent {
        PopulationEvent(
            year: Int.random(in: 2019...2024, using: &rng), municipality: pick(Self.municipalities2024),
            sex: pick([1, 2]), age: pick([14, 15, 33, 50, 51]), count: Int.random(in: 0...200, using: &rng))
    }

    mutating func history(length: Int) -> [BatchReference.Message] {
        (0..<length).map { _ in
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: return .activity(activity())
            case 5..<8: return .death(death())
            default: return .population(populationCount())
            }
        }
    }
}

/// Provenance: the causes a batch of messages leaves on each changed cell are exactly the messages that touch
/// the cell when applied one at a time.
struct MortalityProvenanceTests {
    @Test(arguments: 0..<40)
    func batchedCausesAreTheUnionOfEachMessagesTouches(seed: UInt64) {
        var generator = HistoryGenerator(rng: SplitMix64(seed: seed &+ 991))
        // Population counts first: a tally touched before its year is a statistics year is reported only once
        // the year is, so its causes would depend on where the flushes fall.
        let history = generator.history(length: 40).sorted { a, b in
            if case .population = a, !(b.isPopulation) { return true }
            return false
        }
        func apply(_ engine: inout MortalityEngine, _ i: Int, _ message: BatchReference.Message) {
            switch message {
            // Activity causes come with the message (a header); deaths and population counts are their own cause.
            case .activity(let e): engine.apply(e, causes: Provenance(.init(.correction, institution: String(100_000_000 + i))))
            case .death(let d): engine.apply(death: d)
            case .population(let p): engine.apply(population: p)
            }
        }
        var expected: [CellKey: Provenance] = [:]
        var single = MortalityEngine(asOf: asOf)
        for (i, message) in history.enumerated() {
            apply(&single, i, message)
            for (update, causes) in single.takeChangedCellsWithCauses() {
                #expect(causes.counts.count == 1 && causes.counts.values.first == 1, "one message, one cause: \(update.key)")
                expected[update.key, default: Provenance()].add(causes)
            }
        }
        var batched = MortalityEngine(asOf: asOf)
        for (i, message) in history.enumerated() { apply(&batched, i, message) }
        let got = Dictionary(uniqueKeysWithValues: batched.takeChangedCellsWithCauses().map { ($0.update.key, $0.causes) })
        #expect(got == expected)
    }
}

extension BatchReference.Message {
    var isPopulation: Bool { if case .population = self { return true } else { return false } }
}
