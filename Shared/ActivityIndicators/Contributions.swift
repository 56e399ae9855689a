import NPRCore
import StayLinking

/// One patient bucket's part of one cell. A bucket contributes at most once per cell, so the cell's
/// distinct patients are the number of contributing buckets.
public struct Contribution: Hashable, Sendable {
    public var numerator: Int
    public var denominator: Int
    public init(numerator: Int, denominator: Int) { self.numerator = numerator; self.denominator = denominator }
}

/// Where a cell sits: a level and its unit code.
struct CellPlace: Hashable, Sendable {
    var level: Level
    var unit: String
    static let national = CellPlace(level: .national, unit: "NO")
    static func bosted(_ rhf: RHF) -> CellPlace { CellPlace(level: .bostedRHF, unit: rhf.rawValue) }
}

/// The pure contribution function: what one patient bucket adds to every cell of the three families.
public enum PatientContributions {
    public static func compute(patient: PatientKey, state: PatientCalcState, unit: (String) -> Unit?,
                               asOf: LocalDate) -> [CellKey: Contribution] {
        var cells = CellDirectory()
        var accumulator = ContributionAccumulator()
        accumulate(patient: patient, state: state, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
        return Dictionary(uniqueKeysWithValues: accumulator.contributions.map { (cells.keys[Int($0.cell)], $0.contribution) })
    }

    /// `compute` without keys: adds the contributions to `accumulator`, numbering cells in `cells`.
    static func accumulate(patient: PatientKey, state: PatientCalcState, unit: (String) -> Unit?, asOf: LocalDate,
                           cells: inout CellDirectory, into accumulator: inout ContributionAccumulator) {
        let identified = !patient.isAnonymous
        addAvbrudd(state: state, unit: unit, cells: &cells, into: &accumulator)
        addNokkeltall(identified: identified, state: state, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
        addPoliklinikk(identified: identified, state: state, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
    }

    // MARK: §1 tsb-avbrudd

    static func addAvbrudd(state: PatientCalcState, unit: (String) -> Unit?, cells: inout CellDirectory,
                           into accumulator: inout ContributionAccumulator) {
        let table = MeasureTable.shared
        for stay in state.stays where stay.kind == .treatment {
            guard let end = stay.end?.date, let last = state.tsbEpisode(stay.lastEpisode) else { continue }
            let age = last.birthDate.age(on: end)
            var places = [cells.national]
            if let u = unit(stay.unitId) {
                places += [cells.place(CellPlace(level: .rhf, unit: u.rhf.rawValue)), cells.place(CellPlace(level: .hf, unit: u.hfId)),
                           cells.place(CellPlace(level: .unit, unit: u.unitId))]
            }
            let rows = Period.periods(of: end).flatMap { period in places.map { cells.row(period, $0) } }
            for measure in AvbruddMeasure.allCases where measure.ages.contains(age) {
                let id = table[.avbrudd(measure)]
                let hit = measure.counts(endType: stay.endType) ? 1 : 0
                for row in rows { accumulator.add(cells.cell(id, row), numerator: hit, denominator: 1) }
            }
        }
    }

    // MARK: §3 tsb-nokkeltall

    static func addNokkeltall(identified: Bool, state: PatientCalcState, unit: (String) -> Unit?, asOf: LocalDate,
                              cells: inout CellDirectory, into accumulator: inout ContributionAccumulator) {
        let table = MeasureTable.shared
        let pasienter = table[.nokkeltall(.pasienter)], dognpasienter = table[.nokkeltall(.dognpasienter)]
        let oppholdsdogn = table[.nokkeltall(.oppholdsdogn)], dognopphold = table[.nokkeltall(.dognopphold)]
        let kontakter = table[.nokkeltall(.polikliniskeKontakter)], larAndel = table[.nokkeltall(.larAndel)]
        let privatAndelKontakter = table[.nokkeltall(.privatAndelKontakter)]
        let privatAndelDognopphold = table[.nokkeltall(.privatAndelDognopphold)]
        let privatAndelOppholdsdogn = table[.nokkeltall(.privatAndelOppholdsdogn)]

        for episode in state.episodes.values where episode.isTSB {
            let places = self.places(of: episode, unit: unit, cells: &cells)
            let group = DiagnosisGroup(mainCondition: episode.mainCondition)
            let groupPasienter = table[.diagnose(.pasienter, group)]
            let isPrivate = isPrivateUnit(episode.unitId, unit: unit)
            if episode.isInpatient {
                let groupOppholdsdogn = table[.diagnose(.oppholdsdogn, group)]
                let span = InpatientSpan(episode, asOf: asOf)
                for period in span.periods {
                    let nights = span.midnights(in: period)
                    for place in places {
                        let row = cells.row(period, place)
                        if identified {
                            accumulator.addPatient(cells.cell(pasienter, row))
                            accumulator.addPatient(cells.cell(dognpasienter, row))
                            accumulator.addPatient(cells.cell(groupPasienter, row))
                        }
                        accumulator.add(cells.cell(oppholdsdogn, row), numerator: nights)
                        accumulator.add(cells.cell(groupOppholdsdogn, row), numerator: nights)
                        accumulator.add(cells.cell(privatAndelOppholdsdogn, row), numerator: isPrivate ? nights : 0, denominator: nights)
                    }
                }
            } else {
                let lar = group.isLAR
                let kind = table[.kontakter(ContactKind(of: episode))]
                let groupKontakter = table[.diagnose(.kontakter, group)]
                for period in Period.periods(of: episode.start.date) {
                    for place in places {
                        let row = cells.row(period, place)
                        if identified {
                            accumulator.addPatient(cells.cell(pasienter, row))
                            accumulator.addPatient(cells.cell(groupPasienter, row))
                        }
                        accumulator.add(cells.cell(kontakter, row), numerator: 1)
                        accumulator.add(cells.cell(kind, row), numerator: 1)
                        accumulator.add(cells.cell(groupKontakter, row), numerator: 1)
                        accumulator.add(cells.cell(larAndel, row), numerator: lar ? 1 : 0, denominator: 1)
                        accumulator.add(cells.cell(privatAndelKontakter, row), numerator: isPrivate ? 1 : 0, denominator: 1)
                    }
                }
            }
        }

        for stay in state.stays where stay.kind == .institution {
            guard let end = stay.end?.date, let last = state.tsbEpisode(stay.lastEpisode) else { continue }
            let group = DiagnosisGroup(mainCondition: last.mainCondition)
            let groupDognopphold = table[.diagnose(.dognopphold, group)]
            let isPrivate = isPrivateUnit(stay.unitId, unit: unit)
            let places = self.places(of: last, unit: unit, cells: &cells)
            for period in Period.periods(of: end) {
                for place in places {
                    let row = cells.row(period, place)
                    accumulator.add(cells.cell(dognopphold, row), numerator: 1)
                    accumulator.add(cells.cell(groupDognopphold, row), numerator: 1)
                    accumulator.add(cells.cell(privatAndelDognopphold, row), numerator: isPrivate ? 1 : 0, denominator: 1)
                }
            }
        }
    }

    // MARK: §4 tsb-poliklinikk

    static func addPoliklinikk(identified: Bool, state: PatientCalcState, unit: (String) -> Unit?, asOf: LocalDate,
                               cells: inout CellDirectory, into accumulator: inout ContributionAccumulator) {
        var contactsByYear: [Int: [Episode]] = [:]
        var inpatient: [Episode] = []
        for episode in state.episodes.values where episode.isTSB {
            if isPoliklinikkContact(episode) { contactsByYear[episode.start.date.year, default: []].append(episode) }
            if episode.isInpatient { inpatient.append(episode) }
        }
        guard !contactsByYear.isEmpty else { return }
        let table = MeasureTable.shared

        for (year, contacts) in contactsByYear {
            let group = DiagnosisGroup(mainCondition: groupCondition(year: year, inpatient: inpatient, contacts: contacts))
            // Per category (`PoliklinikkCategory.allCases` order): the statistics of all patients, then of the group.
            let statistics = zip(table.poliklinikk[nil]!, table.poliklinikk[group]!).map { [$0, $1] }
            let wasInpatient = inpatient.contains { InpatientSpan($0, asOf: asOf).overlaps(year: year) }
            let period = Period.year(year)
            let firstOfJanuary = LocalDate(year: year, month: 1, day: 1)!
            for contact in contacts {
                // The rate's patients are adults on 1 January, like its population (Measures decision 12).
                let adult = contact.birthDate.age(on: firstOfJanuary) >= 18
                for place in places(of: contact, unit: unit, cells: &cells) {
                    let row = cells.row(period, place)
                    for (category, ids) in zip(PoliklinikkCategory.allCases, statistics) where category.includes(contact) {
                        for s in ids {
                            accumulator.add(cells.cell(s.kontakter, row), numerator: 1)
                            guard identified else { continue }
                            accumulator.addPatient(cells.cell(s.pasienter, row))
                            if adult { accumulator.addPatient(cells.cell(s.pasienterPer10000, row)) }
                            accumulator.addPerPatient(cells.cell(s.kontakterPerPasient, row), contacts: 1)
                            accumulator.addPatient(cells.cell(s.andelDognpasienter, row), qualifies: wasInpatient)
                        }
                    }
                }
            }
        }
    }

    /// §4 contacts: outpatient (careLevel 3), LAR dispensing excluded.
    static func isPoliklinikkContact(_ e: Episode) -> Bool { e.careLevel == 3 && !DiagnosisGroup.isLAR(e.mainCondition) }

    /// The main condition that decides a patient's §4 group in `year` (Measures decision 9).
    static func groupCondition(year: Int, inpatient: [Episode], contacts: [Episode]) -> String? {
        let endingInYear = inpatient.filter { $0.end?.date.year == year }
        if let last = endingInYear.max(by: StayLinker.endsBefore) { return last.mainCondition }
        return contacts.max(by: Episode.startsBefore)?.mainCondition
    }

    // MARK: shared

    /// The national place and, where known, the episode's bosted region.
    static func places(of episode: Episode, unit: (String) -> Unit?, cells: inout CellDirectory) -> [CellDirectory.PlaceId] {
        guard let rhf = episode.bostedRHF(unit: unit) else { return [cells.national] }
        return [cells.national, cells.bostedPlace(rhf)]
    }

    static func isPrivateUnit(_ unitId: String, unit: (String) -> Unit?) -> Bool {
        guard let u = unit(unitId) else { return false }
        return u.ownership != .public
    }
}
