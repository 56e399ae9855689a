import EpisodeLinking
import NPRCore

/// One patient bucket's part of one cell. A bucket contributes at most once per cell, so the cell's
/// distinct patients are the number of contributing buckets.
public struct Contribution: Hashable, Sendable {
    public var numerator: Int
    public var denominator: Int
    public init(numerator: Int, denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }
}

/// Where a cell sits: a level and its unit code.
struct CellPlace: Hashable, Sendable {
    var level: Level
    var unit: String
    static let national = CellPlace(level: .national, unit: "NO")
    static func bosted(_ rhf: RHF) -> CellPlace { CellPlace(level: .bostedRHF, unit: rhf.rawValue) }
}

/// The pure contribution function: what one patient bucket adds to every cell of the three families.
///
/// A patient's contributions are the sum of its sources' parts. The sources are its TSB episodes (§3
/// episode measures, and §4 for a contact) and its stays (§1 treatment stays, §3 institution stays). A
/// source's parts depend only on the source, the unit register, the evaluation date and, for a §4 contact,
/// its year's `PoliklinikkYear`; so a changelog retracts and adds only the sources it changes
/// (`accumulateChange`), while a register or evaluation-date change recomputes them all (`accumulate`).
public enum PatientContributions {
    public static func compute(
        patient: PatientKey, state: PatientCalcState, unit: (String) -> Unit?,
        asOf: LocalDate
    ) -> [CellKey: Contribution] {
        var cells = CellDirectory()
        var accumulator = ContributionAccumulator()
        accumulate(patient: patient, state: state, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
        return Dictionary(uniqueKeysWithValues: accumulator.shares.map { (cells.keys[Int($0.cell)], $0.contribution) })
    }

    /// `compute` without keys: adds every source to `accumulator`, numbering cells in `cells`. Returns the
    /// §4 years it used.
    @discardableResult
    static func accumulate(
        patient: PatientKey, state: PatientCalcState, unit: (String) -> Unit?, asOf: LocalDate,
        cells: inout CellDirectory, into accumulator: inout ContributionAccumulator
    ) -> [Int: PoliklinikkYear] {
        let identified = !patient.isAnonymous
        let years = poliklinikkYears(of: state, asOf: asOf)
        for stay in state.stays { addStay(stay, last: state.tsbEpisode(stay.lastEpisode), unit: unit, cells: &cells, into: &accumulator) }
        for episode in state.episodes.values where episode.isTSB {
            addEpisode(episode, identified: identified, years: years, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
        }
        return years
    }

    /// Adds to `accumulator` the difference a changelog made: `state` is the patient after it, `replaced`
    /// what it replaced and `yearsBefore` the §4 years before it. Retracts each changed source as it was
    /// and adds it as it is: episodes whose content changed, §4 contacts whose year's group or inpatient
    /// status moved, and stays (those whose last episode changed; all of them when the stays changed).
    /// Returns the §4 years after the changelog.
    static func accumulateChange(
        patient: PatientKey, replaced: ReplacedSources, state: PatientCalcState,
        yearsBefore: [Int: PoliklinikkYear], unit: (String) -> Unit?, asOf: LocalDate,
        cells: inout CellDirectory, into accumulator: inout ContributionAccumulator
    ) -> [Int: PoliklinikkYear] {
        let identified = !patient.isAnonymous
        let replacedEpisodes = replaced.tsbEpisodes
        let changes = replacedEpisodes.map { (key: $0.key, before: $0.episode, after: state.tsbEpisode($0.key)) }.filter { $0.before != $0.after }
        // Outpatient changes update the §4 years without a scan when they can (`updatedBy`).
        let touchesInpatient = changes.contains { $0.before?.isInpatient == true || $0.after?.isInpatient == true }
        let updatedYears = touchesInpatient ? nil : poliklinikkYears(yearsBefore, updatedBy: changes.map { ($0.before, $0.after) })
        let years = updatedYears ?? poliklinikkYears(of: state, asOf: asOf)
        for (_, before, after) in changes {
            if let before {
                accumulator.sign = -1
                addEpisode(before, identified: identified, years: yearsBefore, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
            }
            if let after {
                accumulator.sign = 1
                addEpisode(after, identified: identified, years: years, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
            }
        }
        let changed = changes.map(\.key)

        // The unchanged contacts of a year whose group or inpatient status moved move with it. (A year that
        // came or went has no unchanged contacts.)
        let movedYears = years.compactMap { year, after in yearsBefore[year].map { $0.context != after.context } == true ? year : nil }
        if !movedYears.isEmpty {
            for contact in state.episodes.values where contact.isTSB && isPoliklinikkContact(contact) && !changed.contains(contact.key) {
                let year = contact.start.date.year
                guard movedYears.contains(year), let before = yearsBefore[year], let after = years[year] else { continue }
                accumulator.sign = -1
                addPoliklinikk(contact: contact, identified: identified, year: before.context, unit: unit, cells: &cells, into: &accumulator)
                accumulator.sign = 1
                addPoliklinikk(contact: contact, identified: identified, year: after.context, unit: unit, cells: &cells, into: &accumulator)
            }
        }

        /// A stay's last episode before the changelog.
        func lastBefore(_ stay: Stay) -> Episode? {
            replacedEpisodes.first { $0.key == stay.lastEpisode }.map(\.episode) ?? state.tsbEpisode(stay.lastEpisode)
        }
        let staysSame = replaced.stays == state.stays
        for stay in replaced.stays where !staysSame || changed.contains(stay.lastEpisode) {
            accumulator.sign = -1
            addStay(stay, last: lastBefore(stay), unit: unit, cells: &cells, into: &accumulator)
        }
        for stay in state.stays where !staysSame || changed.contains(stay.lastEpisode) {
            accumulator.sign = 1
            addStay(stay, last: state.tsbEpisode(stay.lastEpisode), unit: unit, cells: &cells, into: &accumulator)
        }
        accumulator.sign = 1
        return years
    }

    // MARK: sources

    /// An episode's §3 parts, and its §4 parts when it is a contact.
    static func addEpisode(
        _ episode: Episode, identified: Bool, years: [Int: PoliklinikkYear], unit: (String) -> Unit?,
        asOf: LocalDate, cells: inout CellDirectory, into accumulator: inout ContributionAccumulator
    ) {
        addNokkeltall(episode: episode, identified: identified, unit: unit, asOf: asOf, cells: &cells, into: &accumulator)
        // Every contact's year is in `years` (a contact makes its year).
        if isPoliklinikkContact(episode), let year = years[episode.start.date.year] {
            addPoliklinikk(contact: episode, identified: identified, year: year.context, unit: unit, cells: &cells, into: &accumulator)
        }
    }

    /// A closed stay's parts: §1 for a treatment stay, §3 for an institution stay. Only a stay whose last
    /// episode is a current TSB episode of the patient counts (Measures decision 6).
    static func addStay(
        _ stay: Stay, last: Episode?, unit: (String) -> Unit?, cells: inout CellDirectory,
        into accumulator: inout ContributionAccumulator
    ) {
        guard let end = stay.end?.date, let last else { return }
        switch stay.kind {
        case .treatment: addAvbrudd(stay: stay, end: end, last: last, unit: unit, cells: &cells, into: &accumulator)
        case .institution: addNokkeltall(stay: stay, end: end, last: last, unit: unit, cells: &cells, into: &accumulator)
        }
    }

    // MARK: §1 tsb-avbrudd

    static func addAvbrudd(
        stay: Stay, end: LocalDate, last: Episode, unit: (String) -> Unit?, cells: inout CellDirectory,
        into accumulator: inout ContributionAccumulator
    ) {
        let age = last.birthDate.age(on: end)
        var places = [cells.national]
        if let u = unit(stay.unitId) {
            places += [
                cells.place(CellPlace(level: .rhf, unit: u.rhf.rawValue)), cells.place(CellPlace(level: .hf, unit: u.hfId)),
                cells.place(CellPlace(level: .unit, unit: u.unitId)),
            ]
        }
        let rows = Period.periods(of: end).flatMap { period in places.map { cells.row(period, $0) } }
        for measure in AvbruddMeasure.allCases where measure.ages.contains(age) {
            let id = MeasureTable.shared[.avbrudd(measure)]
            let hit = measure.counts(endType: stay.endType) ? 1 : 0
            for row in rows { accumulator.add(cells.cell(id, row), numerator: hit, denominator: 1) }
        }
    }

    // MARK: §3 tsb-nokkeltall

    static func addNokkeltall(
        episode: Episode, identified: Bool, unit: (String) -> Unit?, asOf: LocalDate,
        cells: inout CellDirectory, into accumulator: inout ContributionAccumulator
    ) {
        let table = MeasureTable.shared
        let places = self.places(of: episode, unit: unit, cells: &cells)
        let group = DiagnosisGroup(mainCondition: episode.mainCondition)
        let pasienter = table[.nokkeltall(.pasienter)], groupPasienter = table[.diagnose(.pasienter, group)]
        let isPrivate = isPrivateUnit(episode.unitId, unit: unit)
        if episode.isInpatient {
            let dognpasienter = table[.nokkeltall(.dognpasienter)]
            let oppholdsdogn = table[.nokkeltall(.oppholdsdogn)], groupOppholdsdogn = table[.diagnose(.oppholdsdogn, group)]
            let privatAndel = table[.nokkeltall(.privatAndelOppholdsdogn)]
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
                    accumulator.add(cells.cell(privatAndel, row), numerator: isPrivate ? nights : 0, denominator: nights)
                }
            }
        } else {
            let kontakter = table[.nokkeltall(.polikliniskeKontakter)], kind = table[.kontakter(ContactKind(of: episode))]
            let groupKontakter = table[.diagnose(.kontakter, group)]
            let larAndel = table[.nokkeltall(.larAndel)], privatAndel = table[.nokkeltall(.privatAndelKontakter)]
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
                    accumulator.add(cells.cell(larAndel, row), numerator: group.isLAR ? 1 : 0, denominator: 1)
                    accumulator.add(cells.cell(privatAndel, row), numerator: isPrivate ? 1 : 0, denominator: 1)
                }
            }
        }
    }

    /// An institution stay: region, ownership and diagnosis group from its last episode (Measures decision 6).
    static func addNokkeltall(
        stay: Stay, end: LocalDate, last: Episode, unit: (String) -> Unit?, cells: inout CellDirectory,
        into accumulator: inout ContributionAccumulator
    ) {
        let table = MeasureTable.shared
        let group = DiagnosisGroup(mainCondition: last.mainCondition)
        let dognopphold = table[.nokkeltall(.dognopphold)], groupDognopphold = table[.diagnose(.dognopphold, group)]
        let privatAndel = table[.nokkeltall(.privatAndelDognopphold)]
        let isPrivate = isPrivateUnit(stay.unitId, unit: unit)
        let places = self.places(of: last, unit: unit, cells: &cells)
        for period in Period.periods(of: end) {
            for place in places {
                let row = cells.row(period, place)
                accumulator.add(cells.cell(dognopphold, row), numerator: 1)
                accumulator.add(cells.cell(groupDognopphold, row), numerator: 1)
                accumulator.add(cells.cell(privatAndel, row), numerator: isPrivate ? 1 : 0, denominator: 1)
            }
        }
    }

    // MARK: §4 tsb-poliklinikk

    /// A year in which the patient has §4 contacts: what its contacts' cells depend on besides the contact
    /// (`context`), and what lets a changelog that adds or changes contacts update it without a scan.
    struct PoliklinikkYear: Sendable {
        struct Context: Hashable, Sendable {
            /// The patient's group in the year (Measures decision 9).
            var group: DiagnosisGroup
            /// Whether the patient was an inpatient in the year (Measures decision 10).
            var wasInpatient: Bool
        }
        var context: Context
        /// The year's last contact: it decides the group unless an inpatient episode ending in the year does.
        var lastContact: ContactOrder
        var groupFromInpatient: Bool
    }

    /// Every year in which the patient has §4 contacts.
    static func poliklinikkYears(of state: PatientCalcState, asOf: LocalDate) -> [Int: PoliklinikkYear] {
        var lastContact: [Int: Episode] = [:]
        var inpatient: [Episode] = []
        for episode in state.episodes.values where episode.isTSB {
            if isPoliklinikkContact(episode) {
                let year = episode.start.date.year
                if lastContact[year].map({ Episode.startsBefore($0, episode) }) ?? true { lastContact[year] = episode }
            }
            if episode.isInpatient { inpatient.append(episode) }
        }
        var years: [Int: PoliklinikkYear] = [:]
        for (year, contact) in lastContact {
            // Decision 9: the last inpatient episode ending in the year decides, with its condition even when
            // missing; otherwise the last contact.
            let lastInpatient = inpatient.filter { $0.end?.date.year == year }.max(by: StayLinker.endsBefore)
            let condition = lastInpatient == nil ? contact.mainCondition : lastInpatient!.mainCondition
            let context = PoliklinikkYear.Context(
                group: DiagnosisGroup(mainCondition: condition),
                wasInpatient: inpatient.contains { InpatientSpan($0, asOf: asOf).overlaps(year: year) })
            years[year] = PoliklinikkYear(context: context, lastContact: contact.contactOrder, groupFromInpatient: lastInpatient != nil)
        }
        return years
    }

    /// `years` after outpatient changes (`before` → `after` per changed episode, none of them inpatient),
    /// without a scan; nil when it needs one: a year's last contact went or moved, or a year is new.
    static func poliklinikkYears(_ years: [Int: PoliklinikkYear], updatedBy changes: [(before: Episode?, after: Episode?)])
        -> [Int: PoliklinikkYear]?
    {
        var years = years
        for (before, after) in changes {
            if let before, isPoliklinikkContact(before), years[before.start.date.year]?.lastContact.key == before.key { return nil }
            guard let after, isPoliklinikkContact(after) else { continue }
            let contactYear = after.start.date.year
            guard var year = years[contactYear] else { return nil }
            if year.lastContact < after.contactOrder {
                year.lastContact = after.contactOrder
                if !year.groupFromInpatient { year.context.group = DiagnosisGroup(mainCondition: after.mainCondition) }
                years[contactYear] = year
            }
        }
        return years
    }

    static func addPoliklinikk(
        contact: Episode, identified: Bool, year: PoliklinikkYear.Context, unit: (String) -> Unit?,
        cells: inout CellDirectory, into accumulator: inout ContributionAccumulator
    ) {
        let table = MeasureTable.shared
        let all = table.poliklinikk[nil]!, grouped = table.poliklinikk[year.group]!
        let contactYear = contact.start.date.year
        let period = Period.year(contactYear)
        // The rate's patients are adults on 1 January, like its population (Measures decision 12).
        let adult = contact.birthDate.age(on: LocalDate(year: contactYear, month: 1, day: 1)!) >= 18
        for place in places(of: contact, unit: unit, cells: &cells) {
            let row = cells.row(period, place)
            for (index, category) in PoliklinikkCategory.allCases.enumerated() where category.includes(contact) {
                for ids in [all[index], grouped[index]] {
                    accumulator.add(cells.cell(ids.kontakter, row), numerator: 1)
                    guard identified else { continue }
                    accumulator.addPatient(cells.cell(ids.pasienter, row))
                    if adult { accumulator.addPatient(cells.cell(ids.pasienterPer10000, row)) }
                    accumulator.addPerPatient(cells.cell(ids.kontakterPerPasient, row), contacts: 1)
                    accumulator.addPatient(cells.cell(ids.andelDognpasienter, row), qualifies: year.wasInpatient)
                }
            }
        }
    }

    /// §4 contacts: outpatient (careLevel 3), LAR dispensing excluded.
    static func isPoliklinikkContact(_ e: Episode) -> Bool { e.careLevel == 3 && !DiagnosisGroup.isLAR(e.mainCondition) }

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

/// What a changelog replaces in a patient's state: the previous content of each episode it assigns (nil
/// where there was none) and the previous stays.
struct ReplacedSources: Sendable {
    var episodes: [(key: EpisodeKey, episode: Episode?)] = []
    var stays: [Stay]

    init(_ changelog: StayChangelog, in state: PatientCalcState) {
        for assignment in changelog.episodes where !episodes.contains(where: { $0.key == assignment.key }) {
            episodes.append((assignment.key, state.episodes[assignment.key]))
        }
        stays = state.stays
    }

    /// The previous TSB content of each assigned episode.
    var tsbEpisodes: [(key: EpisodeKey, episode: Episode?)] {
        episodes.map { ($0.key, $0.episode.flatMap { $0.isTSB ? $0 : nil }) }
    }
}
