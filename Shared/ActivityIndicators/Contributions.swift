import NPRCore

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

/// Accumulates one patient's contributions. Nothing is recorded for a zero part, so a cell exists only
/// where some record really contributes (Measures decision 2).
struct ContributionSet {
    private(set) var cells: [CellKey: Contribution] = [:]

    /// Adds to a count or to both parts of a share.
    mutating func add(_ key: CellKey, numerator: Int, denominator: Int = 0) {
        guard numerator != 0 || denominator != 0 else { return }
        update(key) { $0.numerator += numerator; $0.denominator += denominator }
    }

    /// Marks the patient in a distinct-patient count or rate.
    mutating func addPatient(_ key: CellKey) {
        update(key) { $0.numerator = 1 }
    }

    /// Marks the patient in the denominator of a patient share, and in its numerator when `qualifies`.
    mutating func addPatient(_ key: CellKey, qualifies: Bool) {
        update(key) { $0.denominator = 1; if qualifies { $0.numerator = 1 } }
    }

    /// Adds contacts to a per-patient ratio: contacts over the (one) patient.
    mutating func addPerPatient(_ key: CellKey, contacts: Int) {
        update(key) { $0.numerator += contacts; $0.denominator = 1 }
    }

    /// One hash lookup per change.
    private mutating func update(_ key: CellKey, _ change: (inout Contribution) -> Void) {
        change(&cells[key, default: Contribution(numerator: 0, denominator: 0)])
    }
}

/// The pure contribution function: what one patient bucket adds to every cell of the three families.
public enum PatientContributions {
    public static func compute(patient: PatientKey, state: PatientCalcState, unit: (String) -> Unit?,
                               asOf: LocalDate) -> [CellKey: Contribution] {
        var set = ContributionSet()
        let tsb = state.episodes.filter { $0.value.isTSB }
        let identified = !patient.isAnonymous
        addAvbrudd(stays: state.stays, episodes: tsb, unit: unit, into: &set)
        addNokkeltall(identified: identified, stays: state.stays, episodes: tsb, unit: unit, asOf: asOf, into: &set)
        addPoliklinikk(identified: identified, episodes: Array(tsb.values), unit: unit, asOf: asOf, into: &set)
        return set.cells
    }

    // MARK: §1 tsb-avbrudd

    static func addAvbrudd(stays: [Stay], episodes: [EpisodeKey: Episode], unit: (String) -> Unit?,
                           into set: inout ContributionSet) {
        for stay in stays where stay.kind == .treatment {
            guard let end = stay.end?.date, let last = episodes[stay.lastEpisode] else { continue }
            let age = last.birthDate.age(on: end)
            var places = [CellPlace.national]
            if let u = unit(stay.unitId) {
                places += [CellPlace(level: .rhf, unit: u.rhf.rawValue), CellPlace(level: .hf, unit: u.hfId),
                           CellPlace(level: .unit, unit: u.unitId)]
            }
            for measure in AvbruddMeasure.allCases where measure.ages.contains(age) {
                let hit = measure.counts(endType: stay.endType) ? 1 : 0
                for period in Period.periods(of: end) {
                    for place in places {
                        set.add(key(.avbrudd, measure.rawValue, period, place), numerator: hit, denominator: 1)
                    }
                }
            }
        }
    }

    // MARK: §3 tsb-nokkeltall

    static func addNokkeltall(identified: Bool, stays: [Stay], episodes: [EpisodeKey: Episode], unit: (String) -> Unit?,
                              asOf: LocalDate, into set: inout ContributionSet) {
        func k(_ measure: String, _ period: Period, _ place: CellPlace) -> CellKey { key(.nokkeltall, measure, period, place) }

        for episode in episodes.values {
            let places = self.places(of: episode, unit: unit)
            let group = DiagnosisGroup(mainCondition: episode.mainCondition)
            let isPrivate = isPrivateUnit(episode.unitId, unit: unit)
            if episode.isInpatient {
                let span = InpatientSpan(episode, asOf: asOf)
                for period in span.periods {
                    let nights = span.midnights(in: period)
                    for place in places {
                        if identified {
                            set.addPatient(k(NokkeltallMeasure.pasienter.rawValue, period, place))
                            set.addPatient(k(NokkeltallMeasure.dognpasienter.rawValue, period, place))
                            set.addPatient(k(DiagnosisStatistic.pasienter.measure(group), period, place))
                        }
                        set.add(k(NokkeltallMeasure.oppholdsdogn.rawValue, period, place), numerator: nights)
                        set.add(k(DiagnosisStatistic.oppholdsdogn.measure(group), period, place), numerator: nights)
                        set.add(k(NokkeltallMeasure.privatAndelOppholdsdogn.rawValue, period, place),
                                numerator: isPrivate ? nights : 0, denominator: nights)
                    }
                }
            } else {
                let lar = DiagnosisGroup.isLAR(episode.mainCondition)
                let kind = ContactKind(of: episode)
                for period in Period.periods(of: episode.start.date) {
                    for place in places {
                        if identified {
                            set.addPatient(k(NokkeltallMeasure.pasienter.rawValue, period, place))
                            set.addPatient(k(DiagnosisStatistic.pasienter.measure(group), period, place))
                        }
                        set.add(k(NokkeltallMeasure.polikliniskeKontakter.rawValue, period, place), numerator: 1)
                        set.add(k(kind.measure, period, place), numerator: 1)
                        set.add(k(DiagnosisStatistic.kontakter.measure(group), period, place), numerator: 1)
                        set.add(k(NokkeltallMeasure.larAndel.rawValue, period, place), numerator: lar ? 1 : 0, denominator: 1)
                        set.add(k(NokkeltallMeasure.privatAndelKontakter.rawValue, period, place),
                                numerator: isPrivate ? 1 : 0, denominator: 1)
                    }
                }
            }
        }

        for stay in stays where stay.kind == .institution {
            guard let end = stay.end?.date, let last = episodes[stay.lastEpisode] else { continue }
            let group = DiagnosisGroup(mainCondition: last.mainCondition)
            let isPrivate = isPrivateUnit(stay.unitId, unit: unit)
            let places = self.places(of: last, unit: unit)
            for period in Period.periods(of: end) {
                for place in places {
                    set.add(k(NokkeltallMeasure.dognopphold.rawValue, period, place), numerator: 1)
                    set.add(k(DiagnosisStatistic.dognopphold.measure(group), period, place), numerator: 1)
                    set.add(k(NokkeltallMeasure.privatAndelDognopphold.rawValue, period, place),
                            numerator: isPrivate ? 1 : 0, denominator: 1)
                }
            }
        }
    }

    // MARK: §4 tsb-poliklinikk

    static func addPoliklinikk(identified: Bool, episodes: [Episode], unit: (String) -> Unit?, asOf: LocalDate,
                               into set: inout ContributionSet) {
        let contactsByYear = Dictionary(grouping: episodes.filter(isPoliklinikkContact), by: \.start.date.year)
        guard !contactsByYear.isEmpty else { return }
        let inpatient = episodes.filter(\.isInpatient)

        for (year, contacts) in contactsByYear {
            let group = DiagnosisGroup(mainCondition: groupCondition(year: year, inpatient: inpatient, contacts: contacts))
            let wasInpatient = inpatient.contains { InpatientSpan($0, asOf: asOf).overlaps(year: year) }
            let period = Period.year(year)
            let firstOfJanuary = LocalDate(year: year, month: 1, day: 1)!
            for contact in contacts {
                // The rate's patients are adults on 1 January, like its population (Measures decision 12).
                let adult = contact.birthDate.age(on: firstOfJanuary) >= 18
                for place in places(of: contact, unit: unit) {
                    for category in PoliklinikkCategory.categories(of: contact) {
                        for g in [nil, group] {
                            func k(_ s: PoliklinikkStatistic) -> CellKey { key(.poliklinikk, s.measure(category, g), period, place) }
                            set.add(k(.kontakter), numerator: 1)
                            guard identified else { continue }
                            set.addPatient(k(.pasienter))
                            if adult { set.addPatient(k(.pasienterPer10000)) }
                            set.addPerPatient(k(.kontakterPerPasient), contacts: 1)
                            set.addPatient(k(.andelDognpasienter), qualifies: wasInpatient)
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
        if let last = endingInYear.max(by: Episode.endsBefore) { return last.mainCondition }
        return contacts.max(by: Episode.startsBefore)?.mainCondition
    }

    // MARK: shared

    static func places(of episode: Episode, unit: (String) -> Unit?) -> [CellPlace] {
        guard let rhf = episode.bostedRHF(unit: unit) else { return [.national] }
        return [.national, .bosted(rhf)]
    }

    static func isPrivateUnit(_ unitId: String, unit: (String) -> Unit?) -> Bool {
        guard let u = unit(unitId) else { return false }
        return u.ownership != .public
    }

    static func key(_ indicator: Indicator, _ measure: String, _ period: Period, _ place: CellPlace) -> CellKey {
        CellKey(indicator: indicator, measure: measure, period: period, level: place.level, unit: place.unit)
    }
}
