import EpisodeLinking
import NPRCore

let instA = "100000001"
let instB = "100000002"
let patient1 = PatientKey(rawValue: "p1")

/// `YYYY-MM-DDTHH:MM`, or `YYYY-MM-DD` meaning noon.
func at(_ text: String) -> LocalDateTime { LocalDateTime(text.count == 10 ? text + "T12:00" : text)! }

func episode(
    _ id: String, inst: String = instA, unit: String = "U1", _ start: String, _ end: String?,
    endType: Int? = nil, sector: String = "TSB", careLevel: Int = 1, pseudonym: String? = "p1"
) -> Episode {
    Episode(
        institutionId: inst, episodeId: id, unitId: unit, sector: sector, pseudonym: pseudonym, sex: 1,
        birthDate: LocalDate(year: 1980, month: 5, day: 17)!, municipality: "0301", careLevel: careLevel,
        start: at(start), end: end.map(at), endType: endType)
}

func unit(_ id: String, inst: String = instA, detox: Bool) -> Unit {
    Unit(
        unitId: id, name: "Unit " + id, institutionId: inst, institutionName: "Institution " + inst, hfId: inst,
        hfName: "HF " + inst, rhf: .sorOst, ownership: .public, detox: detox, validFrom: LocalDate(year: 2020, month: 1, day: 1)!)
}

func key(_ id: String, inst: String = instA) -> EpisodeKey { EpisodeKey(institutionId: inst, episodeId: id) }

func version(_ e: Episode, revision: Int) -> ActivityEvent {
    ActivityEvent(kind: .version, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: e)
}

func annulment(_ e: Episode, revision: Int) -> ActivityEvent {
    ActivityEvent(kind: .annulment, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: e)
}

func foreign(_ e: Episode, revision: Int) -> ActivityEvent {
    ActivityEvent(kind: .foreign, patientKey: e.patientKey, episodeKey: e.key, revision: revision, episode: nil)
}

/// Treatment stays with no unit register (every unit counts as not detox).
func treatment(_ episodes: [Episode], units: [Unit] = []) -> [Stay] {
    StayLinker.treatmentStays(patientKey: patient1, episodes: episodes, unit: { id in units.first { $0.unitId == id } })
}

func institution(_ episodes: [Episode]) -> [Stay] {
    StayLinker.institutionStays(patientKey: patient1, episodes: episodes)
}
