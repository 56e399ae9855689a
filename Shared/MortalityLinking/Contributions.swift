import NPRCore

/// A unit of the mortality hierarchy: national (`NO`), an RHF (its code) or a helsefellesskap (its name).
struct MortalityUnit: Hashable, Sendable {
    let level: Level
    let code: String

    static let national = MortalityUnit(level: .national, code: "NO")
    static func rhf(_ rhf: RHF) -> MortalityUnit { MortalityUnit(level: .rhf, code: rhf.rawValue) }
    static func helsefellesskap(_ name: String) -> MortalityUnit { MortalityUnit(level: .helsefellesskap, code: name) }

    /// Every unit that has cells in a statistics year: national, the four RHFs, the 19 helsefellesskap.
    static let all: [MortalityUnit] =
        [national] + RHF.allCases.sorted().map(rhf) + MunicipalityRegister.allHelsefellesskap.map { helsefellesskap($0.name) }
    static let known: Set<MortalityUnit> = Set(all)

    /// The units a person or a count of a region adds to: always national; its RHF and helsefellesskap
    /// when the region is known (a number split across helsefellesskap has none: national only).
    static func units(of region: Region?) -> [MortalityUnit] {
        guard let region else { return [national] }
        return [national, rhf(region.rhf), helsefellesskap(region.helsefellesskap)]
    }

    /// The code of the parent unit: national for an RHF, the RHF for a helsefellesskap.
    var parent: String? {
        switch level {
        case .rhf: return MortalityUnit.national.code
        case .helsefellesskap: return MunicipalityRegister.rhf(ofHelsefellesskap: code)?.rawValue
        default: return nil
        }
    }

    var name: String {
        switch level {
        case .national: return "Norge"
        case .rhf: return RHF(rawValue: code)?.name ?? code
        default: return code
        }
    }
}

/// One additive aggregate: a statistics year, a unit and a sex (`all`, `male`, `female`).
struct TallyKey: Hashable, Sendable {
    let year: Int
    let unit: MortalityUnit
    let sex: Sex
}

/// The additive parts of one aggregate. `N2` is derived: the population aged 15–50 on 1 January minus
/// the cohort persons of that aggregate aged 15–50 on 1 January.
struct Tally: Hashable, Sendable {
    var d1 = 0
    var n1 = 0
    var d2 = 0
    var cohortAgedInBand = 0
    var population = 0

    var n2: Int { population - cohortAgedInBand }
    var isZero: Bool { self == Tally() }

    static func + (a: Tally, b: Tally) -> Tally {
        Tally(
            d1: a.d1 + b.d1, n1: a.n1 + b.n1, d2: a.d2 + b.d2,
            cohortAgedInBand: a.cohortAgedInBand + b.cohortAgedInBand, population: a.population + b.population)
    }

    static func - (a: Tally, b: Tally) -> Tally {
        Tally(
            d1: a.d1 - b.d1, n1: a.n1 - b.n1, d2: a.d2 - b.d2,
            cohortAgedInBand: a.cohortAgedInBand - b.cohortAgedInBand, population: a.population - b.population)
    }
}

/// What one person or one population count adds to the aggregates of one year: to the national unit
/// and, when the region is known, its RHF and helsefellesskap; to the total and, for a known sex, that sex.
struct Contribution: Hashable, Sendable {
    let year: Int
    let tally: Tally
    let region: Region?
    let sex: Sex?

    /// NPR sex codes: 1 male, 2 female; 0 and 9 count in the totals only.
    static func sex(ofCode code: Int) -> Sex? {
        switch code {
        case 1: return .male
        case 2: return .female
        default: return nil
        }
    }
}

/// A change to aggregates: the tallies to add (negative parts retract). A person's change touches at
/// most a few dozen aggregates, so they are kept in a short list rather than hashed.
struct Contributions: Sendable {
    private(set) var tallies: [(key: TallyKey, tally: Tally)] = []

    /// The change when the contributions `old` are replaced by `new`; contributions present in both
    /// cancel out, so an event that leaves a person's contributions as they were changes nothing.
    static func change(from old: [Contribution], to new: [Contribution]) -> Contributions {
        var out = Contributions()
        for c in old where !new.contains(c) { out.add(Tally() - c.tally, of: c) }
        for c in new where !old.contains(c) { out.add(c.tally, of: c) }
        return out
    }

    /// Adds `tally` to every aggregate `contribution` counts in.
    private mutating func add(_ tally: Tally, of contribution: Contribution) {
        for unit in MortalityUnit.units(of: contribution.region) {
            for sex in [Sex.all] + (contribution.sex.map { [$0] } ?? []) {
                let key = TallyKey(year: contribution.year, unit: unit, sex: sex)
                if let i = tallies.firstIndex(where: { $0.key == key }) {
                    tallies[i].tally = tallies[i].tally + tally
                } else {
                    tallies.append((key, tally))
                }
            }
        }
    }
}

extension Contribution {
    /// Everything one person adds, for every year their data touches (indicators.md §2), by year:
    /// as a cohort member of year Y (a qualifying episode in Y−5 … Y−1 and not dead before Y-01-01):
    /// `N1`, `D1` when they died in Y, and the `N2` subtraction when aged 15–50 on Y-01-01, all by the
    /// region and sex of their latest qualifying episode in the window; otherwise, dying in Y aged 15–50
    /// on Y-01-01: `D2` by the death record's municipality and sex (no municipality: no `D2` at all).
    static func of(_ person: PersonMortalityState) -> [Contribution] {
        let latestPerStartYear = person.latestQualifyingEpisodePerStartYear.map { latest in
            (
                year: latest.year, birthDate: latest.episode.birthDate,
                region: MunicipalityRegister.region(of: latest.episode.municipality), sex: sex(ofCode: latest.episode.sex)
            )
        }
        let death = person.death
        var years: [Int] = []
        for latest in latestPerStartYear {
            for year in CohortRules.cohortYears(ofEpisodeStartingIn: latest.year) where !years.contains(year) { years.append(year) }
        }
        if let death, !years.contains(death.deathDate.year) { years.append(death.deathDate.year) }

        var out: [Contribution] = []
        for year in years.sorted() {
            let firstDay = Period.year(year).firstDay
            let diesInYear = death?.deathDate.year == year
            let aliveOnFirstDay = death.map { $0.deathDate >= firstDay } ?? true
            let window = CohortRules.cohortWindow(of: year)
            if aliveOnFirstDay, let latest = latestPerStartYear.first(where: { window.contains($0.year) }) {
                let inBand = CohortRules.ages.contains(latest.birthDate.age(on: firstDay))
                out.append(
                    Contribution(
                        year: year, tally: Tally(d1: diesInYear ? 1 : 0, n1: 1, cohortAgedInBand: inBand ? 1 : 0),
                        region: latest.region, sex: latest.sex))
            } else if diesInYear, let death, let municipality = death.municipality,
                MunicipalityRegister.resolve(municipality).isKnown,
                CohortRules.ages.contains(death.birthDate.age(on: firstDay))
            {
                out.append(
                    Contribution(
                        year: year, tally: Tally(d2: 1), region: MunicipalityRegister.region(of: municipality),
                        sex: sex(ofCode: death.sex)))
            }
        }
        return out
    }

    /// What one population count adds: residents aged 15–50 on 1 January, by the region of its
    /// (2024) municipality and its sex.
    static func of(_ count: PopulationEvent?) -> [Contribution] {
        guard let count, CohortRules.ages.contains(count.age) else { return [] }
        return [
            Contribution(
                year: count.year, tally: Tally(population: count.count),
                region: MunicipalityRegister.region(of: count.municipality), sex: sex(ofCode: count.sex))
        ]
    }
}
