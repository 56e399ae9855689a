import EpisodeLinking
import NPRCore
import SyntheticData
import Testing

@testable import IndicatorCalculation

/// Random streams of versions, corrections, annulments, person-id moves, duplicates and redeliveries in
/// shuffled order, interleaved with unit, population and evaluation-date changes. The changelogs are built
/// here from each bucket's resolved episodes at that moment (StayLinker for the stays), as the linker would.
/// The engine's cells must equal a from-scratch batch computation, cell for cell; so must the consumer view
/// built from `takeChangedCells`, and an engine restored from `takeDirty`; and so must its per-institution
/// stay end-type figures.
@Suite struct PropertyTests {
    static let institutions = [Fx.instA, Fx.instB, Fx.instC]
    static let units: [Unit] = [
        Fx.unit("u1", inst: Fx.instA, hf: "hfA", hfName: "HF A", rhf: .sorOst),
        Fx.unit("u2", inst: Fx.instA, hf: "hfA", hfName: "HF A", rhf: .sorOst, detox: true),
        Fx.unit("u3", inst: Fx.instB, hf: Fx.instB, hfName: "Privat B", rhf: .vest, ownership: .privateOperatingAgreement),
        Fx.unit("u4", inst: Fx.instC, hf: "hfC", hfName: "HF C", rhf: .nord),
        Fx.unit("u5", inst: Fx.instC, hf: "hfC", hfName: "HF C", rhf: .nord, detox: true),
    ]

    /// What the upstream services know: resolved episode slots per bucket and the changelogs sent so far.
    struct Upstream {
        var slots: [PatientKey: [EpisodeKey: EpisodeSlot]] = [:]
        var sent: [PatientKey: [StayChangelog]] = [:]
        /// The linker's register: complete from the start (detox flags never change in these streams).
        let linkerUnits = UnitRegister(PropertyTests.units)

        func episodes(of bucket: PatientKey) -> [Episode] {
            (slots[bucket] ?? [:]).values.compactMap(\.episode).sorted { $0.key < $1.key }
        }

        /// Applies one activity event; returns the changelog the linker would publish, if anything changed.
        mutating func receive(_ event: ActivityEvent) -> StayChangelog? {
            let bucket = event.patientKey
            var changed = true
            if var slot = slots[bucket]?[event.episodeKey] {
                changed = slot.apply(event)
                slots[bucket]![event.episodeKey] = slot
            } else {
                let slot = EpisodeSlot.initial(event)
                slots[bucket, default: [:]][event.episodeKey] = slot
                changed = slot.episode != nil
            }
            guard changed else { return nil }
            let content = slots[bucket]![event.episodeKey]!.episode
            let current = episodes(of: bucket)
            let changelog = StayChangelog(
                patientKey: bucket, sequence: (sent[bucket]?.last?.sequence ?? 0) + 1,
                episodes: [EpisodeAssignment(key: event.episodeKey, episode: content)],
                stays: BatchReference.stays(of: bucket, current, units: linkerUnits), retracted: [], asserted: [])
            sent[bucket, default: []].append(changelog)
            return changelog
        }
    }

    enum Step {
        case activity(ActivityEvent)
        case unit(Unit)
        case population(PopulationEvent)
        case asOf(LocalDate)
        case redeliver
        case takeCells
        case takeDirty
    }

    // MARK: generation

    static func randomDate(_ rng: inout SplitMix64, from: String, days: Int) -> LocalDate {
        Fx.date(from).adding(days: Int.random(in: 0..<days, using: &rng))
    }

    static func randomEpisode(_ key: EpisodeKey, owner: String?, _ rng: inout SplitMix64) -> Episode {
        let unitsOfInstitution = units.filter { $0.institutionId == key.institutionId }
        let careLevel = [1, 1, 1, 3, 3, 2, 8].randomElement(using: &rng)!
        let startDay = randomDate(&rng, from: "2023-10-01", days: 520)
        let start = LocalDateTime(date: startDay, hour: Int.random(in: 0..<24, using: &rng), minute: 0)!
        var end: LocalDateTime? = start
        if careLevel == 1 {
            end =
                Int.random(in: 0..<6, using: &rng) == 0
                ? nil
                : LocalDateTime(date: startDay.adding(days: Int.random(in: 0...40, using: &rng)), hour: 23, minute: 0)!
        }
        return Episode(
            institutionId: key.institutionId, episodeId: key.episodeId,
            unitId: unitsOfInstitution.randomElement(using: &rng)!.unitId,
            sector: Int.random(in: 0..<10, using: &rng) == 0 ? "PHV" : "TSB",
            pseudonym: owner, sex: 1,
            birthDate: Fx.date(["1994-03-10", "2001-05-05", "2006-01-01", "1960-07-31"].randomElement(using: &rng)!),
            municipality: ["0301", "4601", "5001", "1804", "1601", "1850", nil].randomElement(using: &rng)!,
            careLevel: careLevel, start: start, end: end,
            endType: [nil, 1, 2, 3, 4, 5, 6].randomElement(using: &rng)!,
            contactType: [nil, 1, 6, 7].randomElement(using: &rng)!,
            activityPlace: [nil, 1, 2, 3, 4, 6, 9].randomElement(using: &rng)!,
            activityType: [nil, 1, 2, 4].randomElement(using: &rng)!,
            indirectActivity: [nil, nil, 22, 23, 71].randomElement(using: &rng)!,
            mainCondition: ["F102", "F112", "F12", "F630", "R45", "Z5030", "Z76", "A01", nil, "F32", "F17"].randomElement(using: &rng)!,
            tariffs: ["P13", "P14a", "P16", "P17", "P24b", "P12"].filter { _ in Int.random(in: 0..<5, using: &rng) == 0 })
    }

    /// Activity events of one case: several revisions per episode (sometimes under another person id, or
    /// without one), annulments, and duplicates; a version's other buckets get `foreign` placeholders.
    static func activityEvents(_ rng: inout SplitMix64) -> [ActivityEvent] {
        let people = ["pa", "pb", "pc", "pd", "pe"]
        var events: [ActivityEvent] = []
        for n in 0..<Int.random(in: 4...14, using: &rng) {
            let key = EpisodeKey(institutionId: institutions.randomElement(using: &rng)!, episodeId: "e\(n)")
            let homeOwner: String? = Int.random(in: 0..<6, using: &rng) == 0 ? nil : people.randomElement(using: &rng)!
            var versions: [(revision: Int, owner: String?, annulment: Bool)] = []
            for revision in 1...Int.random(in: 1...3, using: &rng) {
                let moved = Int.random(in: 0..<8, using: &rng) == 0
                let owner = moved ? (Int.random(in: 0..<2, using: &rng) == 0 ? nil : people.randomElement(using: &rng)!) : homeOwner
                versions.append((revision, owner, Int.random(in: 0..<6, using: &rng) == 0))
            }
            let buckets = Set(versions.map { PatientKey(pseudonym: $0.owner, episode: key) }).sorted()
            for v in versions {
                let episode = randomEpisode(key, owner: v.owner, &rng)
                let own = PatientKey(pseudonym: v.owner, episode: key)
                if v.annulment {
                    for bucket in buckets {
                        events.append(ActivityEvent(kind: .annulment, patientKey: bucket, episodeKey: key, revision: v.revision, episode: episode))
                    }
                } else {
                    events.append(ActivityEvent(kind: .version, patientKey: own, episodeKey: key, revision: v.revision, episode: episode))
                    for bucket in buckets where bucket != own {
                        events.append(ActivityEvent(kind: .foreign, patientKey: bucket, episodeKey: key, revision: v.revision, episode: nil))
                    }
                }
            }
        }
        events += events.filter { _ in Int.random(in: 0..<5, using: &rng) == 0 }  // duplicates
        return events.shuffled(using: &rng)
    }

    static func steps(_ rng: inout SplitMix64) -> [Step] {
        var steps = activityEvents(&rng).map(Step.activity)
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let base = units.randomElement(using: &rng)!
            steps.append(
                .unit(
                    Fx.unit(
                        base.unitId, inst: base.institutionId,
                        hf: ["hfA", "hfC", "hfX", base.hfId].randomElement(using: &rng)!,
                        hfName: ["Navn 1", "Navn 2"].randomElement(using: &rng)!,
                        rhf: RHF.allCases.randomElement(using: &rng)!,
                        ownership: Ownership.allCases.randomElement(using: &rng)!, detox: base.detox,
                        name: ["a", "b"].randomElement(using: &rng)!)))
        }
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            steps.append(
                .population(
                    PopulationEvent(
                        year: Int.random(in: 2023...2025, using: &rng), municipality: ["0301", "4601", "5001", "1804"].randomElement(using: &rng)!,
                        sex: Int.random(in: 1...2, using: &rng), age: [10, 17, 18, 40, 80].randomElement(using: &rng)!,
                        count: Int.random(in: 0...1000, using: &rng))))
        }
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            steps.append(.asOf(randomDate(&rng, from: "2024-06-01", days: 366)))
        }
        for _ in 0..<Int.random(in: 0...5, using: &rng) { steps.append(.redeliver) }
        for _ in 0..<Int.random(in: 0...4, using: &rng) { steps.append(.takeCells) }
        for _ in 0..<Int.random(in: 0...3, using: &rng) { steps.append(.takeDirty) }
        steps.shuffle(using: &rng)
        // Most units are known from the start; the others arrive somewhere in the stream.
        let late = units.filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }
        let early = units.filter { !late.contains($0) }
        for u in late { steps.insert(.unit(u), at: Int.random(in: 0...steps.count, using: &rng)) }
        return early.map(Step.unit) + steps
    }

    // MARK: the property

    @Test(arguments: 0..<300)
    func engineEqualsBatchReference(seed: UInt64) {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17)
        var upstream = Upstream()
        var engine = CalculatorEngine(asOf: Fx.date("2025-01-15"))
        var finalUnits: [String: Unit] = [:]
        var finalPopulation: [String: PopulationEvent] = [:]
        var asOf = Fx.date("2025-01-15")
        var consumerView: [CellKey: Cell] = [:]
        var persisted: (patients: [PatientKey: PatientCalcState], units: [String: Unit], population: [String: PopulationEvent]) = ([:], [:], [:])

        func drainCells(_ engine: inout CalculatorEngine) {
            for update in engine.takeChangedCells() { consumerView[update.key] = update.cell }
        }
        func persist(_ engine: inout CalculatorEngine) {
            let dirty = engine.takeDirty()
            persisted.patients.merge(dirty.patients) { $1 }
            for u in dirty.units { persisted.units[u.unitId] = u }
            for p in dirty.population { persisted.population[p.key] = p }
        }

        for step in Self.steps(&rng) {
            switch step {
            case .activity(let event):
                if let changelog = upstream.receive(event) { engine.apply(changelog) }
            case .unit(let unit):
                engine.apply(unit: unit)
                finalUnits[unit.unitId] = unit
            case .population(let row):
                engine.apply(population: row)
                finalPopulation[row.key] = row
            case .asOf(let date):
                engine.setAsOf(date)
                asOf = date
            case .redeliver:
                // Sorted: dictionary order differs between processes, the stream must not.
                if let bucket = upstream.sent.keys.sorted().randomElement(using: &rng),
                    let old = upstream.sent[bucket]!.randomElement(using: &rng)
                {
                    engine.apply(old)
                }
            case .takeCells:
                drainCells(&engine)
            case .takeDirty:
                persist(&engine)
            }
        }

        var buckets: [PatientKey: [Episode]] = [:]
        for bucket in upstream.slots.keys { buckets[bucket] = upstream.episodes(of: bucket) }
        let reference = BatchReference.cells(
            buckets: buckets, units: Array(finalUnits.values),
            population: Array(finalPopulation.values), asOf: asOf)
        let cells = engine.allCells
        #expect(cells == reference, "\(Self.differences(cells, reference))")
        #expect(!reference.isEmpty || upstream.sent.isEmpty)

        drainCells(&engine)
        #expect(consumerView == cells)

        let stayReference = BatchReference.stayEndTypeTotals(buckets: buckets, units: UnitRegister(Self.units))
        #expect(engine.stayEndTypeTotals == stayReference)

        persist(&engine)
        var restored = CalculatorEngine(asOf: asOf)
        restored.restore(patients: persisted.patients, units: Array(persisted.units.values), population: Array(persisted.population.values))
        #expect(restored.allCells == cells)
        #expect(restored.stayEndTypeTotals == stayReference)
    }

    static func differences(_ a: [CellKey: Cell], _ b: [CellKey: Cell]) -> String {
        let keys = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted().prefix(5)
        return keys.map {
            "\($0): engine \(a[$0].map { "\($0.numerator)/\($0.denominator ?? -1) p\($0.patients)" } ?? "nil")"
                + " reference \(b[$0].map { "\($0.numerator)/\($0.denominator ?? -1) p\($0.patients)" } ?? "nil")"
        }.joined(separator: "; ")
    }
}
