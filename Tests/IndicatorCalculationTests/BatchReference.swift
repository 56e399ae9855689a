import EpisodeLinking
import NPRCore

@testable import IndicatorCalculation

/// From-scratch computation: final episodes per bucket → StayLinker → the pure contribution function,
/// summed without any incremental machinery.
enum BatchReference {
    static func stays(of patient: PatientKey, _ episodes: [Episode], units: UnitRegister) -> [Stay] {
        StayLinker.treatmentStays(patientKey: patient, episodes: episodes, unit: { units[$0] })
            + StayLinker.institutionStays(patientKey: patient, episodes: episodes)
    }

    static func cells(
        buckets: [PatientKey: [Episode]], units: [Unit], population: [PopulationEvent],
        asOf: LocalDate
    ) -> [CellKey: Cell] {
        let register = UnitRegister(units)
        let table = PopulationTable(population)
        var totals: [CellKey: CellTotals] = [:]
        for (patient, episodes) in buckets {
            let state = PatientCalcState(
                sequence: 0, episodes: Dictionary(uniqueKeysWithValues: episodes.map { ($0.key, $0) }),
                stays: stays(of: patient, episodes, units: register))
            for (key, c) in PatientContributions.compute(patient: patient, state: state, unit: { register[$0] }, asOf: asOf) {
                totals[key, default: CellTotals()].add(c)
            }
        }
        var cells: [CellKey: Cell] = [:]
        for (key, t) in totals { cells[key] = CellAssembly.cell(key, totals: t, units: register, population: table, asOf: asOf) }
        return cells
    }

    /// Closed treatment stays per institution of their last episode, those without an end type, and the
    /// distinct buckets behind them, counted from each bucket's stays linked from scratch.
    static func stayEndTypeTotals(buckets: [PatientKey: [Episode]], units: UnitRegister) -> [String: StayEndTypeTally.Totals] {
        var totals: [String: StayEndTypeTally.Totals] = [:]
        for (patient, episodes) in buckets {
            var institutions = Set<String>()
            for stay in stays(of: patient, episodes, units: units) where stay.kind == .treatment && stay.end != nil {
                totals[stay.institutionId, default: .init()].closedStays += 1
                if stay.endType == nil { totals[stay.institutionId]!.withoutEndType += 1 }
                institutions.insert(stay.institutionId)
            }
            for institution in institutions { totals[institution]!.patients += 1 }
        }
        return totals
    }
}
