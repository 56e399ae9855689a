import NPRCore
import SyntheticData
import Testing

@testable import IndicatorCalculation

/// The engine recomputes only the sources a changelog changes. These cases send changelogs that assign
/// several episodes at once (new, replaced, corrected in fields a stay does not copy, removed, turned
/// non-TSB) and compare the engine with the from-scratch batch computation after every step, so a
/// difference cannot hide behind a later full recomputation.
@Suite struct IncrementalTests {
    @Test(arguments: 0..<100)
    func everyStepEqualsTheBatchReference(seed: UInt64) {
        var rng = SplitMix64(seed: seed &* 0x2545_F491 &+ 3)
        var engine = CalculatorEngine(asOf: Fx.date("2024-11-30"))
        for u in PropertyTests.units { engine.apply(unit: u) }
        for (step, (changelog, episodes)) in Self.randomChangelogs(&rng).enumerated() {
            engine.apply(changelog)
            let reference = BatchReference.cells(
                buckets: episodes.mapValues { Array($0.values) }, units: PropertyTests.units,
                population: [], asOf: engine.asOf)
            #expect(engine.allCells == reference, "step \(step): \(PropertyTests.differences(engine.allCells, reference))")
        }
    }

    /// Changelogs of two patients that assign several episodes at once (new, replaced, corrected in fields a
    /// stay does not copy, removed, turned non-TSB), each with every patient's episodes after it.
    static func randomChangelogs(_ rng: inout SplitMix64) -> [(StayChangelog, [PatientKey: [EpisodeKey: Episode]])] {
        let register = UnitRegister(PropertyTests.units)
        let patients = ["pa", "pb"]
        var episodes: [PatientKey: [EpisodeKey: Episode]] = [:]
        var sequence: [PatientKey: Int] = [:]
        var out: [(StayChangelog, [PatientKey: [EpisodeKey: Episode]])] = []
        for _ in 0..<Int.random(in: 5...20, using: &rng) {
            let owner = patients.randomElement(using: &rng)!
            let bucket = PatientKey(rawValue: owner)
            var assignments: [EpisodeAssignment] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let key = EpisodeKey(
                    institutionId: PropertyTests.institutions.randomElement(using: &rng)!,
                    episodeId: "e\(Int.random(in: 0..<8, using: &rng))")
                // An episode belongs to one bucket here: the other bucket's copy of the key is left alone.
                guard !episodes.contains(where: { $0.key != bucket && $0.value[key] != nil }) else { continue }
                var content: Episode? =
                    Int.random(in: 0..<5, using: &rng) == 0
                    ? nil : PropertyTests.randomEpisode(key, owner: owner, &rng)
                // Often a correction of fields a stay does not copy (its stays stay equal, its cells move).
                if var existing = episodes[bucket]?[key], Int.random(in: 0..<3, using: &rng) == 0 {
                    existing.mainCondition = ["F102", "F112", "R45", "Z5030", nil].randomElement(using: &rng)!
                    existing.municipality = ["0301", "4601", nil].randomElement(using: &rng)!
                    existing.birthDate = Fx.date(["1994-03-10", "2006-01-01"].randomElement(using: &rng)!)
                    content = existing
                }
                episodes[bucket, default: [:]][key] = content
                assignments.append(EpisodeAssignment(key: key, episode: content))
            }
            guard !assignments.isEmpty else { continue }
            let current = Array(episodes[bucket, default: [:]].values)
            sequence[bucket, default: 0] += 1
            out.append(
                (
                    StayChangelog(
                        patientKey: bucket, sequence: sequence[bucket]!, episodes: assignments,
                        stays: BatchReference.stays(of: bucket, current, units: register), retracted: [], asserted: []),
                    episodes
                ))
        }
        return out
    }
}

/// Provenance: the causes a batch of inputs leaves on each changed cell are exactly the inputs that touch
/// the cell when applied one at a time, however many are applied between two flushes.
@Suite struct CellProvenanceTests {
    @Test(arguments: 0..<50)
    func batchedCausesAreTheUnionOfEachInputsTouches(seed: UInt64) {
        var rng = SplitMix64(seed: seed &+ 77)
        let changelogs = IncrementalTests.randomChangelogs(&rng).map(\.0)
        // An evaluation-date move somewhere in the stream.
        let moveAt = Int.random(in: 0...changelogs.count, using: &rng)
        func cause(_ i: Int) -> Provenance { Provenance(.init(.correction, institution: String(100_000_000 + i))) }
        func fresh() -> CalculatorEngine {
            var engine = CalculatorEngine(asOf: Fx.date("2024-11-30"))
            for u in PropertyTests.units { engine.apply(unit: u) }
            _ = engine.takeChangedCellsWithCauses()
            return engine
        }
        func run(_ engine: inout CalculatorEngine, _ each: (inout CalculatorEngine) -> Void) {
            for (i, changelog) in changelogs.enumerated() {
                if i == moveAt {
                    engine.setAsOf(Fx.date("2024-12-31"))
                    each(&engine)
                }
                engine.apply(changelog, causes: cause(i))
                each(&engine)
            }
            if moveAt == changelogs.count {
                engine.setAsOf(Fx.date("2024-12-31"))
                each(&engine)
            }
        }

        var expected: [CellKey: Provenance] = [:]
        var single = fresh()
        run(&single) { engine in
            for (update, causes) in engine.takeChangedCellsWithCauses() {
                #expect(causes.counts.count == 1 && causes.counts.values.first == 1, "one input, one cause: \(update.key)")
                expected[update.key, default: Provenance()].add(causes)
            }
        }
        var batched = fresh()
        run(&batched) { _ in }
        let got = Dictionary(uniqueKeysWithValues: batched.takeChangedCellsWithCauses().map { ($0.update.key, $0.causes) })
        #expect(got == expected)
        // Every cell carries the evaluation date: a move after the first input touches every cell there is.
        if moveAt > 0 { #expect(got.values.contains { $0.counts.keys.contains(.init(.evaluationDate)) }) }
    }
}
