import NPRCore

/// A from-scratch computation of every `tsb-overdodelighet` cell from the final state of a message
/// history, written straight from indicators.md §2 and independently of the engine: it asks, for each
/// statistics year, unit and sex, which persons belong there.
enum BatchReference {
    enum Message {
        case activity(ActivityEvent)
        case death(DeathEvent)
        case population(PopulationEvent)
    }

    static let rhfNames = ["sor-ost": "Helse Sør-Øst", "vest": "Helse Vest", "midt-norge": "Helse Midt-Norge", "nord": "Helse Nord"]
    static let measures: [(name: String, formula: ValueFormula, sex: Sex)] = [
        ("hovedmaltall", .excessMortality, .all), ("maltall-2", .rate, .all), ("maltall-3", .count, .all),
        ("maltall-4", .excessMortality, .male), ("maltall-5", .excessMortality, .female),
        ("maltall-6", .rate, .male), ("maltall-7", .rate, .female), ("maltall-8", .count, .male), ("maltall-9", .count, .female),
    ]

    static func cells(_ history: [Message], asOf: LocalDate) -> [CellKey: Cell] {
        // Final state. Episodes: highest revision per (pseudonym, episode); a removal at that revision wins.
        var versions: [String: [EpisodeKey: [ActivityEvent]]] = [:]
        var deaths: [String: DeathEvent] = [:]
        var counts: [String: PopulationEvent] = [:]
        for message in history {
            switch message {
            case .activity(let e):
                guard !e.patientKey.isAnonymous else { continue }
                versions[e.patientKey.rawValue, default: [:]][e.episodeKey, default: []].append(e)
            case .death(let d):
                deaths[d.pseudonym] = d.status == .registration ? d : nil
            case .population(let p):
                counts["\(p.year)/\(p.municipality)/\(p.sex)/\(p.age)"] = p
            }
        }
        var episodes: [String: [Episode]] = [:]
        for (person, byKey) in versions {
            for (_, events) in byKey {
                let top = events.map(\.revision).max()!
                let atTop = events.filter { $0.revision == top }
                if atTop.allSatisfy({ $0.kind == .version }), let e = atTop[0].episode { episodes[person, default: []].append(e) }
            }
        }
        let people = Set(episodes.keys).union(deaths.keys)
        let years = Set(counts.values.map(\.year))

        var units: [(level: Level, code: String, name: String, parent: String?, region: (Region?) -> Bool)] =
            [(.national, "NO", "Norge", nil, { _ in true })]
        for (code, name) in rhfNames { units.append((.rhf, code, name, "NO", { $0?.rhf.rawValue == code })) }
        for hf in MunicipalityRegister.allHelsefellesskap {
            units.append((.helsefellesskap, hf.name, hf.name, hf.rhf.rawValue, { $0?.helsefellesskap == hf.name }))
        }
        func sexMatches(_ code: Int, _ sex: Sex) -> Bool { sex == .all || (sex == .male && code == 1) || (sex == .female && code == 2) }
        func in15to50(_ age: Int) -> Bool { age >= 15 && age <= 50 }

        var out: [CellKey: Cell] = [:]
        for year in years {
            let jan1 = LocalDate(year: year, month: 1, day: 1)!
            // Cohort of the year: person → their latest qualifying episode in the window.
            var cohort: [String: Episode] = [:]
            for person in people {
                if let d = deaths[person], d.deathDate < jan1 { continue }
                let qualifying = (episodes[person] ?? []).filter { e in
                    e.sector == "TSB" && [1, 3, 4].contains(e.rightToHealthcare ?? 0)
                        && e.municipality.map { MunicipalityRegister.resolve($0).isKnown } == true
                        && in15to50(e.birthDate.age(on: e.start.date))
                        && e.start.date.year >= year - 5 && e.start.date.year <= year - 1
                }
                if let latest = qualifying.max(by: { a, b in
                    a.start != b.start
                        ? a.start < b.start
                        : a.institutionId != b.institutionId ? a.institutionId < b.institutionId : a.episodeId < b.episodeId
                }) {
                    cohort[person] = latest
                }
            }
            for unit in units {
                for sex in [Sex.all, .male, .female] {
                    var d1 = 0, n1 = 0, d2 = 0, population = 0, cohortInBand = 0
                    for (person, e) in cohort where unit.region(MunicipalityRegister.region(of: e.municipality)) && sexMatches(e.sex, sex) {
                        n1 += 1
                        if deaths[person]?.deathDate.year == year { d1 += 1 }
                        if in15to50(e.birthDate.age(on: jan1)) { cohortInBand += 1 }
                    }
                    for (person, d) in deaths where cohort[person] == nil && d.deathDate.year == year {
                        guard let m = d.municipality, MunicipalityRegister.resolve(m).isKnown,
                            unit.region(MunicipalityRegister.region(of: m)), sexMatches(d.sex, sex),
                            in15to50(d.birthDate.age(on: jan1))
                        else { continue }
                        d2 += 1
                    }
                    for p in counts.values
                    where p.year == year && in15to50(p.age) && sexMatches(p.sex, sex)
                        && unit.region(MunicipalityRegister.region(of: p.municipality))
                    {
                        population += p.count
                    }
                    for measure in measures where measure.sex == sex {
                        let key = CellKey(
                            indicator: .overdodelighet, measure: measure.name, period: .year(year),
                            level: unit.level, unit: unit.code, sex: sex)
                        out[key] = Cell(
                            key: key, formula: measure.formula, numerator: d1, denominator: n1,
                            scale: measure.formula == .rate ? 100_000 : nil, patients: n1, size: n1,
                            parent: unit.parent, unitName: unit.name,
                            d1: d1, n1: n1, d2: d2, n2: population - cohortInBand, asOf: asOf)
                    }
                }
            }
        }
        return out
    }
}
