import Testing
import NPRCore
@testable import SyntheticData

@Test func scratchStats() {
    let acts = smallSet.activities
    let eps = statisticsYearEpisodes(smallSet, smallConfig)
    print("year eps", eps.count, "all msgs", acts.count, "N", acts.filter{$0.status == .new}.count)
    print("careLevels", Dictionary(grouping: eps, by: \.careLevel).mapValues(\.count))
    print("endTypes", Dictionary(grouping: eps.filter{$0.careLevel == 1}, by: { $0.endType ?? -1 }).mapValues(\.count))
    print("contactTypes", Dictionary(grouping: eps, by: { $0.contactType ?? -1 }).mapValues(\.count))
    print("sectors", Dictionary(grouping: eps, by: \.sector).mapValues(\.count))
    print("deaths", smallSet.deaths.count, "C", smallSet.deaths.filter{$0.status == .annulment}.count)
    let treated = Set(acts.compactMap(\.patient.personId))
    print("treated deaths", smallSet.deaths.filter { treated.contains($0.personId) && $0.status == .registration }.count,
          "in year", smallSet.deaths.filter { treated.contains($0.personId) && $0.status == .registration && $0.deathDate.year == 2024 }.count)
    print("no pid", eps.filter { $0.patient.personId == nil }.count, "older muni", eps.filter { $0.patient.municipality != nil && MunicipalityRegister.byNumber[$0.patient.municipality!] == nil }.map { $0.patient.municipality! })
    // one inpatient patient
    let inp = eps.first { $0.careLevel == 1 && $0.end != nil }!
    for m in acts where m.patient.personId == inp.patient.personId && m.careLevel != 3 { print(m.messageId, m.unitId, m.careLevel, m.start, m.end.map(\.description) ?? "open", m.endType ?? -1, m.conditions ?? []) }
    print("units used", Dictionary(grouping: eps, by: \.unitId).mapValues(\.count).sorted { $0.key < $1.key })
}
@Test func scratchNationalDeaths() {
    let c = SyntheticConfig.nationalYear(year: 2024)
    var registry = PersonRegistry(c)
    let deaths = DeathGenerator.records(c, registry: &registry)
    let patients = registry.people.prefix(c.patients + Int(Double(c.patients) * c.historyOnlyPatientsPerYear * Double(c.cohortYears)))
    let patientIds = Set(patients.map(\.personId))
    let inYear = deaths.filter { $0.status == .registration && $0.deathDate.year == c.year }
    print("national deaths", deaths.count, "in year", inYear.count, "patients in year", inYear.filter { patientIds.contains($0.personId) }.count, "C", deaths.filter { $0.status == .annulment }.count)
    let j1 = LocalDate(year: c.year, month: 1, day: 1)!
    let pat1550 = inYear.filter { patientIds.contains($0.personId) && (15...50).contains(WireRules.birthDate(of: $0.personId)!.age(on: j1)) }
    print("patients 15-50 deaths in year", pat1550.count)
}
