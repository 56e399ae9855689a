import EpisodeLinking
import IndicatorCalculation
import MortalityLinking
import NPRCore
import Publishing
import SyntheticData

/// The published values computed from scratch: the final version of every episode (highest revision,
/// annulments applied) in one pass, reference data first, no retractions, then suppression. What the
/// running pipeline must equal at any quiescent moment (tests and `npr-bench national`).
///
/// Person ids stand in for pseudonyms: the published values never show either.
public enum FromScratch {
    public static func publishedValues(_ data: SyntheticDataset, asOf: LocalDate) -> [String: PublishedValue] {
        let finals = finalEpisodes(data)
        var linker = LinkerEngine()
        for u in data.units { _ = linker.apply(unit: u) }
        var calculator = CalculatorEngine(asOf: asOf)
        for u in data.units { calculator.apply(unit: u) }
        let population = data.population.map { p in
            PopulationEvent(year: p.year, municipality: MunicipalityRegister.resolve(p.municipality).single2024!, sex: p.sex, age: p.age, count: p.count)
        }
        for p in population { calculator.apply(population: p) }
        for e in finals { if let c = linker.apply(ActivityEvent(.new, revision: 1, episode: e)) { calculator.apply(c) } }
        linker = LinkerEngine()
        var mortality = MortalityEngine(asOf: asOf)
        for p in population { mortality.apply(population: p) }
        for e in finals where e.pseudonym != nil { mortality.apply(ActivityEvent(.new, revision: 1, episode: e)) }
        for d in data.deaths {
            let birth = try! PersonId.birthDate(of: d.personId).get()
            mortality.apply(
                death: DeathEvent(status: d.status, pseudonym: d.personId, deathDate: d.deathDate, sex: d.sex, birthDate: birth, municipality: d.municipality))
        }
        var publisher = PublisherEngine()
        for (k, c) in calculator.allCells { publisher.apply(CellUpdate(key: k, cell: c)) }
        for (k, c) in mortality.allCells { publisher.apply(CellUpdate(key: k, cell: c)) }
        _ = publisher.publish(now: "batch")
        return Dictionary(uniqueKeysWithValues: publisher.values().map { ($0.key, $0) })
    }

    /// The final version of every episode (highest revision, annulments applied), by key.
    static func finalEpisodes(_ data: SyntheticDataset) -> [Episode] {
        var slots: [EpisodeKey: EpisodeSlot] = [:]
        for m in data.activities {
            let valid = m.patient.personId.map(PersonId.isValid) ?? false
            let birth = valid ? (try! PersonId.birthDate(of: m.patient.personId!).get()) : m.patient.birthDate!
            let event = ActivityEvent(m.status, revision: m.revision, episode: Episode(m, pseudonym: valid ? m.patient.personId : nil, birthDate: birth))
            if slots[event.episodeKey] == nil { slots[event.episodeKey] = .initial(event) } else { slots[event.episodeKey]!.apply(event) }
        }
        return slots.values.compactMap(\.episode).sorted { $0.key < $1.key }
    }

    /// The data-quality report's stay figures from scratch: each patient's final TSB episodes linked into
    /// treatment stays (§1), the closed ones counted by the institution of their last episode, with the
    /// distinct patients behind them.
    public static func stayEndTypeRows(_ data: SyntheticDataset) -> [StayEndTypeRow] {
        let register = UnitRegister(data.units)
        let byPatient = Dictionary(grouping: finalEpisodes(data).filter(\.isTSB), by: \.patientKey)
        var totals: [String: (closed: Int, without: Int, patients: Set<PatientKey>)] = [:]
        for (patient, episodes) in byPatient {
            for stay in StayLinker.treatmentStays(patientKey: patient, episodes: episodes, unit: { register[$0] }) where stay.isClosed {
                totals[stay.institutionId, default: (0, 0, [])].closed += 1
                totals[stay.institutionId]!.without += stay.endType == nil ? 1 : 0
                totals[stay.institutionId]!.patients.insert(patient)
            }
        }
        return totals.sorted { $0.key < $1.key }.map {
            StayEndTypeRow(institutionId: $0.key, closedStays: $0.value.closed, withoutEndType: $0.value.without, patients: $0.value.patients.count)
        }
    }

    /// Differences between published values and the from-scratch ones: status, numerator, denominator,
    /// value and CI (doubles to 1e-9 relative), and keys present on one side only.
    public static func differences(published: [PublishedValue], expected: [String: PublishedValue]) -> [String] {
        var mismatches: [String] = []
        for v in published {
            guard let e = expected[v.key] else {
                mismatches.append("unexpected \(v.key)")
                continue
            }
            let same =
                v.status == e.status && v.numerator == e.numerator && v.denominator == e.denominator
                && close(v.value, e.value) && close(v.ciLower, e.ciLower) && close(v.ciUpper, e.ciUpper)
            if !same {
                mismatches.append(
                    "\(v.key): got \(v.status) \(v.numerator as Any)/\(v.denominator as Any), batch \(e.status) \(e.numerator as Any)/\(e.denominator as Any)")
            }
        }
        for k in Set(expected.keys).subtracting(published.map(\.key)).sorted() { mismatches.append("missing \(k)") }
        return mismatches
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return abs(x - y) <= 1e-9 * max(1, abs(y))
        default: return false
        }
    }
}
