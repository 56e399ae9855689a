import NPRCore

/// Municipality numbers as episodes report them: the 2024 numbers (indices shared with
/// `SyntheticPopulation.municipalities`) followed by a few older numbers that some hospital systems
/// still send (one of them split between successors).
enum ReportedMunicipalities {
    static let olderNumbers = ["1201", "1601", "0219", "0220", "1902", "0602", "1001", "0806", "3004", "0713", "1507", "5012", "1850"]

    static let all: [String] = SyntheticPopulation.municipalities + olderNumbers.filter { MunicipalityRegister.resolve($0).isKnown }

    /// 2024 index → indices of the older numbers that lead to it.
    static let olderNumbersOf: [Int: [Int16]] = {
        let index2024 = Dictionary(uniqueKeysWithValues: SyntheticPopulation.municipalities.enumerated().map { ($1, $0) })
        var d: [Int: [Int16]] = [:]
        for i in SyntheticPopulation.municipalities.count..<all.count {
            let successors: [String]
            switch MunicipalityRegister.resolve(all[i]) {
            case .region(_, let s), .splitAcrossRegions(let s): successors = s
            case .unknown: successors = []
            }
            for s in successors { if let m = index2024[s] { d[m, default: []].append(Int16(i)) } }
        }
        return d
    }()

    static let oslo = SyntheticPopulation.municipalities.firstIndex(of: "0301")!

    /// Where patients live: proportional to the population.
    static let residence = Weighted<Int16>(SyntheticPopulation.sizes.enumerated().map { (Int16($0.offset), $0.element) })
}

/// One synthetic person. Patients are indexed 0..<patients (treated in the statistics year) and then
/// history-only persons; decedents from the general population follow when deaths are generated.
struct Person: Sendable {
    var personId: String
    var birth: LocalDate
    var sex: Int
    /// 2024 municipality index (`ReportedMunicipalities`), -1 = no fixed address.
    var home: Int16
    /// A move to another municipality on `moveDay` (day number), or -1.
    var movedTo: Int16 = -1
    var moveDay: Int32 = -1
    /// The older number this person's reports carry instead of `home`, or -1.
    var olderNumber: Int16 = -1
    /// Oslo bydel index (`OsloDistricts.all`), or -1.
    var district: Int8 = -1
    var firstYear: Int16 = 0
    var lastYear: Int16 = 0
    /// Day number of death, or -1.
    var deathDay: Int32 = -1
    var group: DiagnosisGroup = .f10
    /// In opioid maintenance treatment (LAR): many Z5030 dispensing contacts.
    var lar = false
    /// rettTilHelsehjelp on the person's referrals, -1 = not reported.
    var rightToHealthcare: Int8 = -1

    func municipality(onDay day: Int) -> Int16 { moveDay >= 0 && day >= Int(moveDay) ? movedTo : home }
    var isPatient: Bool { lastYear > 0 }
}

/// Builds persons with unique, valid person ids: synthetic test numbers (month + 80), so no generated
/// record can carry a real person's fødselsnummer; 2 % are D-numbers. Sequential on purpose:
/// the uniqueness check makes a person's id depend on the persons before it, and building in index
/// order keeps that deterministic.
struct PersonRegistry: Sendable {
    private(set) var people: [Person] = []
    private var usedIds = Set<String>()
    let seed: UInt64

    /// Age on 1 January of the reference year: TSB patients (most 30–39, 53 % older; ages 15–79).
    static let patientAges = Weighted<ClosedRange<Int>>([
        (15...17, 0.02), (18...22, 0.08), (23...29, 0.17), (30...39, 0.25), (40...49, 0.20),
        (50...59, 0.16), (60...69, 0.09), (70...79, 0.03),
    ])
    static let rightToHealthcare = Weighted<Int8>([(3, 0.62), (4, 0.24), (1, 0.02), (2, 0.01), (5, 0.04), (9, 0.02), (-1, 0.05)])
    /// Years in treatment before the statistics year, for its patients.
    static let yearsBefore = Weighted<Int>([(0, 0.45), (1, 0.22), (2, 0.13), (3, 0.09), (4, 0.06), (5, 0.05)])

    init(seed: UInt64) { self.seed = seed }

    /// The patients of a configuration: `patients` treated in `year`, then the history-only persons.
    init(_ c: SyntheticConfig) {
        self.init(seed: c.seed)
        let historyOnly = Int((Double(c.patients) * c.historyOnlyPatientsPerYear * Double(c.cohortYears)).rounded())
        people.reserveCapacity(c.patients + historyOnly)
        for i in 0..<(c.patients + historyOnly) {
            var rng = SplitMix64(seed: c.seed, stream: UInt64(i))
            people.append(makePatient(c, treatedInYear: i < c.patients, &rng))
        }
    }

    private mutating func makePatient(_ c: SyntheticConfig, treatedInYear: Bool, _ rng: inout SplitMix64) -> Person {
        let lastYear = treatedInYear ? c.year : c.year - rng.int(1...max(1, c.cohortYears))
        let ageBand = PersonRegistry.patientAges.draw(&rng)
        let ageAtLast = rng.int(ageBand)
        // Treatment starts no earlier than the year the person turns 15 (age on 1 January ≥ 15).
        let maxYearsBefore = min(c.cohortYears - (c.year - lastYear), ageAtLast - 15)
        let yearsBefore = treatedInYear ? min(PersonRegistry.yearsBefore.draw(&rng), maxYearsBefore) : min(rng.int(0...2), maxYearsBefore)
        var p = newPerson(ageOnFirstJanuary: ageAtLast, of: lastYear, sex: rng.chance(0.66) ? 1 : 2, &rng)
        p.lastYear = Int16(lastYear)
        p.firstYear = Int16(lastYear - max(0, yearsBefore))
        p.home = rng.chance(0.007) ? -1 : ReportedMunicipalities.residence.draw(&rng)
        if p.home >= 0, rng.chance(0.04) {
            p.movedTo = ReportedMunicipalities.residence.draw(&rng)
            let from = LocalDate(year: Int(p.firstYear), month: 3, day: 1)!.dayNumber
            let to = LocalDate(year: c.year, month: 12, day: 31)!.dayNumber
            p.moveDay = Int32(rng.int(from...max(from, to)))
        }
        if p.home >= 0, let older = ReportedMunicipalities.olderNumbersOf[Int(p.home)], rng.chance(0.15) {
            p.olderNumber = rng.pick(older)
        }
        if Int(p.home) == ReportedMunicipalities.oslo { p.district = Int8(rng.int(0...(OsloDistricts.all.count - 1))) }
        p.group = DiagnosisGroup.patientDistribution.draw(&rng)
        p.lar = p.group == .f11 && rng.chance(0.35)
        p.rightToHealthcare = PersonRegistry.rightToHealthcare.draw(&rng)
        p.deathDay = deathDay(of: p, until: c.year, &rng)
        return p
    }

    /// Yearly death risk from the first treatment year on: about 1.1 %, higher for opioid users and
    /// for the elderly (TSB patients die at many times the rate of their age group).
    private func deathDay(of p: Person, until year: Int, _ rng: inout SplitMix64) -> Int32 {
        for y in Int(p.firstYear)...year {
            var risk = 0.011
            if p.group == .f11 { risk *= 1.6 }
            if p.birth.age(on: LocalDate(year: y, month: 1, day: 1)!) >= 60 { risk *= 2 }
            if rng.chance(risk) {
                let first = LocalDate(year: y, month: 1, day: 1)!.dayNumber
                return Int32(first + rng.int(0...(LocalDate.isLeap(y) ? 365 : 364)))
            }
        }
        return -1
    }

    /// A person aged `age` on 1 January of `year`, with a fresh valid person id.
    mutating func newPerson(ageOnFirstJanuary age: Int, of year: Int, sex: Int, _ rng: inout SplitMix64) -> Person {
        // Born on 2 January – 31 December of year − age − 1: exactly `age` on 1 January of `year`.
        let birthYear = year - age - 1
        let firstDay = LocalDate(year: birthYear, month: 1, day: 2)!.dayNumber
        var birth = LocalDate(dayNumber: firstDay + rng.int(0...(LocalDate.isLeap(birthYear) ? 364 : 363)))
        let dNumber = rng.chance(0.02)
        while true {
            if let id = unusedPersonId(birth: birth, dNumber: dNumber, &rng) { return Person(personId: id, birth: birth, sex: sex, home: -1) }
            // Every individual number of that birth date is taken (never at these sizes): next day.
            birth = birth.adding(days: 1)
        }
    }

    /// A valid id not used before: individual numbers 000–499 for the 1900s, 500–999 for 2000–2039
    /// (messages.md); an individual number whose check digit would be 10, or that is taken, is skipped.
    private mutating func unusedPersonId(birth: LocalDate, dNumber: Bool, _ rng: inout SplitMix64) -> String? {
        let individuals = birth.year >= 2000 ? 500...999 : 0...499
        var individual = rng.int(individuals)
        for _ in 0..<individuals.count {
            if let id = PersonId.make(birth: birth, individual: individual, dNumber: dNumber, synthetic: true), !usedIds.contains(id) {
                usedIds.insert(id)
                return id
            }
            individual = individual == individuals.upperBound ? individuals.lowerBound : individual + 1
        }
        return nil
    }

    mutating func append(_ p: Person) { people.append(p) }
}
