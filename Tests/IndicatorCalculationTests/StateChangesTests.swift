import NPRCore
import SyntheticData
import Testing

@testable import IndicatorCalculation

/// `takeStateChanges` reports the persisted state row by row (one per changed episode, one head per
/// changed patient), and `restore(episodes:heads:...)` rebuilds an engine from those rows.
@Suite struct StateChangesTests {
    /// A key-value store as a service keeps it: the latest value per key, nil deletes.
    struct Store {
        struct EpisodeRow: Hashable {
            var patient: PatientKey
            var episode: EpisodeKey
        }
        var episodes: [EpisodeRow: Episode] = [:]
        var heads: [PatientKey: PatientStaysHead] = [:]
        var units: [String: Unit] = [:]
        var population: [String: PopulationEvent] = [:]
        var asOf: LocalDate

        /// What a service writes after a batch: the engine's changes and its evaluation date.
        mutating func persist(_ engine: inout CalculatorEngine) {
            let changes = engine.takeStateChanges()
            for row in changes.episodes { episodes[EpisodeRow(patient: row.patient, episode: row.episode)] = row.content }
            for row in changes.heads { heads[row.patient] = row.head }
            for u in changes.units { units[u.unitId] = u }
            for p in changes.population { population[p.key] = p }
            asOf = engine.asOf
        }

        func restoredEngine() -> CalculatorEngine {
            var engine = CalculatorEngine(asOf: asOf)
            engine.restore(
                episodes: episodes.map { ($0.key.patient, $0.key.episode, $0.value) },
                heads: heads.map { ($0.key, $0.value) },
                units: Array(units.values), population: Array(population.values))
            return engine
        }
    }

    /// One input to the engine, with any randomness (which changelog is redelivered) already resolved, so
    /// that two engines can be fed the same stream.
    enum Input {
        case changelog(StayChangelog), unit(Unit), population(PopulationEvent), asOf(LocalDate)

        func feed(_ engine: inout CalculatorEngine) {
            switch self {
            case .changelog(let c): engine.apply(c)
            case .unit(let u): engine.apply(unit: u)
            case .population(let p): engine.apply(population: p)
            case .asOf(let d): engine.setAsOf(d)
            }
        }
    }

    /// The service persists at random moments and restarts at others; a restart loses what was not
    /// persisted, and the stream is redelivered from the last persisted point (as uncommitted Kafka offsets
    /// are). The restarted service must end with the cells of an engine that never restarted.
    @Test(arguments: 0..<300)
    func restartingFromPersistedRowsEqualsNeverRestarting(seed: UInt64) {
        var rng = SplitMix64(seed: seed &* 0x5851_F42D &+ 11)
        var upstream = PropertyTests.Upstream()
        let start = Fx.date("2025-01-15")
        var reference = CalculatorEngine(asOf: start)
        var service = CalculatorEngine(asOf: start)
        var store = Store(asOf: start)
        var unpersisted: [Input] = []

        for step in PropertyTests.steps(&rng) {
            var input: Input?
            switch step {
            case .activity(let event): input = upstream.receive(event).map(Input.changelog)
            case .unit(let u): input = .unit(u)
            case .population(let p): input = .population(p)
            case .asOf(let d): input = .asOf(d)
            case .redeliver:
                if let bucket = upstream.sent.keys.sorted().randomElement(using: &rng),
                    let old = upstream.sent[bucket]!.randomElement(using: &rng)
                {
                    input = .changelog(old)
                }
            case .takeCells, .takeDirty: break
            }
            if let input {
                input.feed(&reference)
                input.feed(&service)
                unpersisted.append(input)
            }
            switch Int.random(in: 0..<8, using: &rng) {
            case 0, 1:
                store.persist(&service)
                unpersisted = []
            case 2:
                service = store.restoredEngine()
                for input in unpersisted { input.feed(&service) }
            default: break
            }
        }
        #expect(service.allCells == reference.allCells, "\(PropertyTests.differences(service.allCells, reference.allCells))")

        store.persist(&service)
        #expect(store.restoredEngine().allCells == reference.allCells)
        #expect(service.takeStateChanges().heads.isEmpty)
    }

    // MARK: what one changelog reports

    static let patient = PatientKey(rawValue: "p1")

    /// A patient with 24 one-day outpatient contacts, one per fortnight of 2024.
    static func contacts() -> [Episode] {
        (0..<24).map { n in Fx.contact("c\(n)", on: Fx.date("2024-01-01").adding(days: 14 * n).description) }
    }

    /// The engine after the patient's first changelog, its changes already taken.
    static func engineWithManyEpisodes() -> CalculatorEngine {
        var engine = Fx.engine([Fx.changelog(contacts(), sequence: 1)])
        let first = engine.takeStateChanges()
        #expect(first.episodes.count == 24)
        #expect(first.heads.map(\.patient) == [patient])
        return engine
    }

    @Test func assigningOneEpisodeReportsOneEpisodeRowAndTheHead() {
        var engine = Self.engineWithManyEpisodes()
        var corrected = Self.contacts()[7]
        corrected.mainCondition = "F112"
        engine.apply(Fx.changelog([corrected], sequence: 2))
        let changes = engine.takeStateChanges()
        #expect(changes.episodes.count == 1)
        #expect(changes.episodes.first?.patient == Self.patient)
        #expect(changes.episodes.first?.episode == corrected.key)
        #expect(changes.episodes.first?.content == corrected)
        #expect(changes.heads.count == 1)
        #expect(changes.heads.first?.head == PatientStaysHead(sequence: 2, stays: []))
    }

    @Test func removalIsReportedAsNilAndUnchangedContentNotAtAll() {
        var engine = Self.engineWithManyEpisodes()
        let contacts = Self.contacts()
        var nonTSB = contacts[3]
        nonTSB.sector = "PHV"
        engine.apply(
            StayChangelog(
                patientKey: Self.patient, sequence: 2,
                episodes: [
                    EpisodeAssignment(key: contacts[0].key, episode: nil),  // removed
                    EpisodeAssignment(key: contacts[1].key, episode: contacts[1]),  // reasserted unchanged
                    EpisodeAssignment(key: contacts[3].key, episode: nonTSB),  // moved out of TSB: no longer stored
                ], stays: [], retracted: [], asserted: []))
        let changes = engine.takeStateChanges()
        #expect(changes.episodes.map(\.episode) == [contacts[0].key, contacts[3].key])
        #expect(changes.episodes.allSatisfy { $0.content == nil })
        #expect(changes.heads.map(\.head.sequence) == [2])
    }

    @Test func redeliveryChangesNothing() {
        var engine = Self.engineWithManyEpisodes()
        engine.apply(Fx.changelog(Self.contacts(), sequence: 1))
        engine.apply(Fx.changelog([Self.contacts()[2]], sequence: 0))
        let changes = engine.takeStateChanges()
        #expect(changes.episodes.isEmpty && changes.heads.isEmpty)
    }

    @Test func takeDirtySharesTheDirtySets() {
        var engine = Self.engineWithManyEpisodes()
        #expect(engine.takeDirty().patients.isEmpty)
        engine.apply(Fx.changelog([Self.contacts()[5]], sequence: 2))
        #expect(engine.takeDirty().patients[Self.patient]?.episodes.count == 24)
        let changes = engine.takeStateChanges()
        #expect(changes.episodes.isEmpty && changes.heads.isEmpty)
    }
}
