import NPRCore

@testable import IndicatorCalculation

/// Small builders for hand-computed cases.
enum Fx {
    static let instA = "111111111", instB = "222222222", instC = "333333333"

    /// uA1 public (Helse Sør-Øst, HF A), uA2 a detox unit of the same HF, uB1 a private institution
    /// (Helse Vest, its own HF), uC1 public (Helse Nord, HF C).
    static let units: [Unit] = [
        unit("uA1", inst: instA, hf: "hfA", hfName: "HF A", rhf: .sorOst),
        unit("uA2", inst: instA, hf: "hfA", hfName: "HF A", rhf: .sorOst, detox: true),
        unit("uB1", inst: instB, hf: instB, hfName: "Privat B", rhf: .vest, ownership: .privatePurchaseAgreement),
        unit("uC1", inst: instC, hf: "hfC", hfName: "HF C", rhf: .nord),
    ]

    static func unit(
        _ id: String, inst: String, hf: String, hfName: String, rhf: RHF,
        ownership: Ownership = .public, detox: Bool = false, name: String? = nil
    ) -> Unit {
        Unit(
            unitId: id, name: name ?? "Enhet \(id)", institutionId: inst, institutionName: "Inst \(inst)", hfId: hf,
            hfName: hfName, rhf: rhf, ownership: ownership, detox: detox, validFrom: date("2020-01-01"))
    }

    static func date(_ s: String) -> LocalDate { LocalDate(s)! }
    /// `YYYY-MM-DD` (noon) or `YYYY-MM-DDTHH:MM`.
    static func time(_ s: String) -> LocalDateTime { LocalDateTime(s.count == 10 ? s + "T12:00" : s)! }

    static func episode(
        _ id: String, inst: String = instA, unit: String = "uA1", pseudonym: String? = "p1",
        born: String = "1980-06-15", municipality: String? = "0301", sector: String = "TSB",
        careLevel: Int = 1, start: String, end: String?, endType: Int? = nil, condition: String? = nil,
        contactType: Int? = nil, activityPlace: Int? = nil, activityType: Int? = nil,
        indirectActivity: Int? = nil, tariffs: [String] = []
    ) -> Episode {
        Episode(
            institutionId: inst, episodeId: id, unitId: unit, sector: sector, pseudonym: pseudonym, sex: 1,
            birthDate: date(born), municipality: municipality, careLevel: careLevel, start: time(start),
            end: end.map(time), endType: endType, contactType: contactType, activityPlace: activityPlace,
            activityType: activityType, indirectActivity: indirectActivity, mainCondition: condition, tariffs: tariffs)
    }

    /// An outpatient contact (careLevel 3 unless given) on `day`.
    static func contact(
        _ id: String, pseudonym: String? = "p1", on day: String, careLevel: Int = 3, unit: String = "uA1",
        inst: String = instA, municipality: String? = "0301", condition: String? = "F102",
        contactType: Int? = nil, activityPlace: Int? = nil, activityType: Int? = nil,
        indirectActivity: Int? = nil, tariffs: [String] = []
    ) -> Episode {
        episode(
            id, inst: inst, unit: unit, pseudonym: pseudonym, municipality: municipality, careLevel: careLevel,
            start: day, end: day, condition: condition, contactType: contactType, activityPlace: activityPlace,
            activityType: activityType, indirectActivity: indirectActivity, tariffs: tariffs)
    }

    /// A stay built by hand from `members`; the last member is the stay's last episode.
    static func stay(_ kind: Stay.Kind, _ members: [Episode]) -> Stay {
        let first = members[0], last = members[members.count - 1]
        return Stay(
            id: kind.rawValue + ":" + first.key.description, kind: kind, patientKey: first.patientKey,
            episodes: members.map(\.key), start: first.start, end: last.end, lastEpisode: last.key,
            endType: last.endType, unitId: last.unitId, institutionId: last.institutionId)
    }

    /// Both kinds of stay over the same members (a chain within one institution at a non-detox unit).
    static func stays(_ members: [Episode]) -> [Stay] { [stay(.treatment, members), stay(.institution, members)] }

    static func changelog(_ episodes: [Episode], stays: [Stay] = [], sequence: Int = 1, patient: PatientKey? = nil) -> StayChangelog {
        StayChangelog(
            patientKey: patient ?? episodes[0].patientKey, sequence: sequence,
            episodes: episodes.map { EpisodeAssignment(key: $0.key, episode: $0) },
            stays: stays, retracted: [], asserted: [])
    }

    static func engine(asOf: String = "2025-06-30", units: [Unit] = Fx.units, _ changelogs: [StayChangelog] = []) -> CalculatorEngine {
        var e = CalculatorEngine(asOf: date(asOf))
        for u in units { e.apply(unit: u) }
        for c in changelogs { e.apply(c) }
        return e
    }

    static func key(
        _ indicator: Indicator, _ measure: String, _ period: String, _ level: Level = .national,
        _ unit: String = "NO"
    ) -> CellKey {
        CellKey(indicator: indicator, measure: measure, period: Period(period)!, level: level, unit: unit)
    }
}

/// A cell's numerator and denominator, for compact expectations.
struct Parts: Equatable, CustomStringConvertible {
    var numerator: Int, denominator: Int?
    init(_ numerator: Int, _ denominator: Int? = nil) {
        self.numerator = numerator
        self.denominator = denominator
    }
    var description: String { "\(numerator)/\(denominator.map(String.init) ?? "nil")" }
}

extension CalculatorEngine {
    /// Numerator and denominator of a cell, nil when the cell does not exist.
    func parts(_ key: CellKey) -> Parts? { cell(key).map { Parts($0.numerator, $0.denominator) } }
    func cells(of indicator: Indicator) -> [CellKey: Cell] { allCells.filter { $0.key.indicator == indicator } }
}
