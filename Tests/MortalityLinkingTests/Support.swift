import MortalityLinking
import NPRCore
import SyntheticData

func day(_ text: String) -> LocalDate { LocalDate(text)! }
func at(_ text: String, _ hour: Int = 10, _ minute: Int = 0) -> LocalDateTime {
    LocalDateTime(date: day(text), hour: hour, minute: minute)!
}

let institutionA = "974589095"
let institutionB = "974589096"

func episode(
    _ person: String?, _ id: String = "e1", institution: String = institutionA, start: LocalDateTime,
    born: String = "1990-01-01", sex: Int = 1, municipality: String? = "0301", right: Int? = 3,
    sector: String = "TSB", careLevel: Int = 3
) -> Episode {
    Episode(
        institutionId: institution, episodeId: id, unitId: "U1", sector: sector, pseudonym: person, sex: sex,
        birthDate: day(born), municipality: municipality, rightToHealthcare: right, careLevel: careLevel,
        start: start, end: careLevel == 1 ? nil : start)
}

func version(_ e: Episode, revision: Int = 1) -> ActivityEvent {
    ActivityEvent(kind: .version, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: e)
}

func annulment(_ e: Episode, revision: Int) -> ActivityEvent {
    ActivityEvent(kind: .annulment, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: e)
}

func foreign(_ e: Episode, revision: Int) -> ActivityEvent {
    ActivityEvent(kind: .foreign, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: nil)
}

func death(
    _ person: String, _ date: String, sex: Int = 1, born: String = "1990-01-01", municipality: String? = "0301",
    status: DeathStatus = .registration
) -> DeathEvent {
    DeathEvent(status: status, pseudonym: person, deathDate: day(date), sex: sex, birthDate: day(born), municipality: municipality)
}

func population(_ year: Int, _ municipality: String = "0301", sex: Int = 1, age: Int = 30, count: Int) -> PopulationEvent {
    PopulationEvent(year: year, municipality: municipality, sex: sex, age: age, count: count)
}

/// The four mortality parts of one (year, level, unit, sex), read from the excess-mortality measure of that sex.
struct Parts: Equatable, CustomStringConvertible {
    var d1, n1, d2, n2: Int
    var description: String { "D1=\(d1) N1=\(n1) D2=\(d2) N2=\(n2)" }
}

func excessMortalityMeasure(_ sex: Sex) -> String {
    switch sex {
    case .all: "hovedmaltall"
    case .male: "maltall-4"
    case .female: "maltall-5"
    }
}

func mortalityKey(_ measure: String, _ year: Int, _ level: Level = .national, _ unit: String = "NO", _ sex: Sex = .all) -> CellKey {
    CellKey(indicator: .overdodelighet, measure: measure, period: .year(year), level: level, unit: unit, sex: sex)
}

extension MortalityEngine {
    func parts(_ year: Int, _ level: Level = .national, _ unit: String = "NO", _ sex: Sex = .all) -> Parts? {
        guard let c = cell(mortalityKey(excessMortalityMeasure(sex), year, level, unit, sex)),
            let d1 = c.d1, let n1 = c.n1, let d2 = c.d2, let n2 = c.n2
        else { return nil }
        return Parts(d1: d1, n1: n1, d2: d2, n2: n2)
    }

    mutating func apply(_ events: [ActivityEvent]) { for e in events { apply(e) } }
}

let asOf = day("2024-09-01")
