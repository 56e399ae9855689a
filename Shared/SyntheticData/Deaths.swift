import NPRCore

/// Death records for the statistics year and the deaths of patients in the history years.
///
/// - Patients die at the rates `PersonRegistry` draws (about 1 % a year, more for opioid users): these
///   deaths carry the same person ids as the activities, so the mortality cohort has its `D1`.
/// - The general population dies at age- and sex-specific rates for ages 15–50 on 1 January (about
///   0.08 % a year, giving `D2` a realistic size); a sample of deaths outside that band (8 %) checks the
///   age filter. Deaths of non-patients in the history years are not generated (no indicator uses them).
/// - About 2 % of patients' deaths are first registered with a wrong date and re-registered (`N` again);
///   erroneous registrations of living patients (2 % of the patients' deaths, at least 3) are annulled (`C`).
enum DeathGenerator {
    static let outsideBandShare = 0.08
    static let erroneousShare = 0.02

    /// Death rate at `age` (on 1 January) for ages 15–50.
    static func rate(age: Int, sex: Int) -> Double {
        (0.0002 + Double(age - 15) / 35 * 0.0012) * (sex == 1 ? 1.3 : 0.7)
    }

    static func records(_ c: SyntheticConfig, registry: inout PersonRegistry) -> [DeathRecord] {
        var rng = SplitMix64(seed: c.seed ^ 0xDEAD_0DE5, stream: 0)
        var pending: [(arrival: Int, order: UInt64, record: DeathRecord)] = []
        var serial = 0
        func register(_ status: DeathStatus, _ p: Person, on day: Int, municipality: String?, arrival: Int) {
            serial += 1
            let record = DeathRecord(
                messageId: "death-\(c.year)-\(serial)", status: status, personId: p.personId,
                deathDate: LocalDate(dayNumber: day), sex: p.sex,
                birthDate: rng.chance(0.5) ? p.birth : nil, municipality: municipality)
            pending.append((arrival, rng.next(), record))
        }
        func municipalityNumber(_ index: Int16) -> String? { index < 0 ? nil : SyntheticPopulation.municipalities[Int(index)] }

        let yearStart = LocalDate(year: c.year, month: 1, day: 1)!.dayNumber
        let yearEnd = LocalDate(year: c.year, month: 12, day: 31)!.dayNumber
        let patients = registry.people

        // Patients (the population register uses the 2024 number of where they lived).
        var patientDeaths = 0
        for p in patients where p.deathDay >= 0 {
            patientDeaths += 1
            let day = Int(p.deathDay)
            let municipality = municipalityNumber(p.municipality(onDay: day))
            var arrival = day + rng.int(2...30)
            let wrongDay = min(yearEnd, day + rng.int(1...5))
            if rng.chance(0.02), wrongDay != day {
                register(.registration, p, on: wrongDay, municipality: municipality, arrival: arrival)
                arrival += rng.int(5...40)
            }
            register(.registration, p, on: day, municipality: municipality, arrival: arrival)
        }

        // The general population aged 15–50 on 1 January.
        var generalDeaths = 0
        for (m, number) in SyntheticPopulation.municipalities.enumerated() {
            for sex in 1...2 {
                for age in 15...50 {
                    let expected = Double(SyntheticPopulation.count(municipalityIndex: m, sex: sex, age: age, year: c.year)) * rate(age: age, sex: sex)
                    for _ in 0..<rng.poisson(expected) {
                        let p = registry.newPerson(ageOnFirstJanuary: age, of: c.year, sex: sex, &rng)
                        let day = yearStart + rng.int(0...(yearEnd - yearStart))
                        register(.registration, p, on: day, municipality: rng.chance(0.01) ? nil : number, arrival: day + rng.int(2...30))
                        generalDeaths += 1
                    }
                }
            }
        }
        // A sample outside the band: children and older adults.
        for _ in 0..<Int((Double(generalDeaths) * outsideBandShare).rounded()) {
            let age = rng.chance(0.2) ? rng.int(0...14) : rng.int(51...95)
            let m = ReportedMunicipalities.residence.draw(&rng)
            let p = registry.newPerson(ageOnFirstJanuary: age, of: c.year, sex: rng.chance(0.5) ? 1 : 2, &rng)
            let day = yearStart + rng.int(0...(yearEnd - yearStart))
            register(.registration, p, on: day, municipality: municipalityNumber(m), arrival: day + rng.int(2...30))
        }

        // Erroneous registrations of living patients, annulled later.
        let living = patients.indices.filter { patients[$0].deathDay < 0 }
        var chosen = Set<Int>()
        for _ in 0..<max(3, Int((Double(patientDeaths) * erroneousShare).rounded())) where chosen.count < living.count {
            var i = rng.pick(living)
            while chosen.contains(i) { i = rng.pick(living) }
            chosen.insert(i)
            let p = patients[i]
            let day = yearStart + rng.int(0...(yearEnd - yearStart))
            let arrival = day + rng.int(2...30)
            let municipality = municipalityNumber(p.municipality(onDay: day))
            register(.registration, p, on: day, municipality: municipality, arrival: arrival)
            register(.annulment, p, on: day, municipality: municipality, arrival: arrival + rng.int(5...60))
        }
        return pending.sorted { ($0.arrival, $0.order) < ($1.arrival, $1.order) }.map(\.record)
    }
}
