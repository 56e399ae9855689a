import NPRCore

/// The validation rules of messages.md that can be checked without intake, written independently of
/// the generator: a generated record is valid when `problems` is empty.
enum WireRules {
    static let sectors: Set = ["TSB", "PHV", "PHBU", "SOM"]
    static let episodeSexes: Set = [0, 1, 2, 9]
    static let rightToHealthcare: Set = [1, 2, 3, 4, 5, 9]
    static let careLevels: Set = [1, 2, 3, 8]
    static let contactTypes: Set = [1, 2, 3, 5, 6, 7, 12, 13, 14, 99]
    static let activityPlaces: Set = [1, 2, 3, 4, 5, 6, 9]
    static let tariffs: Set = ["P12", "P13", "P14a", "P14b", "P16", "P17", "P22", "P23", "P24a", "P24b", "P25", "P26", "P27"]

    static func isDigits(_ s: String, count: Int) -> Bool { s.utf8.count == count && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }

    /// `^[A-Z][0-9]{2}[0-9A-Z]{0,4}$`
    static func isConditionCode(_ s: String) -> Bool {
        let u = Array(s.utf8)
        func letter(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
        func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        return (3...7).contains(u.count) && letter(u[0]) && digit(u[1]) && digit(u[2]) && u[3...].allSatisfy { letter($0) || digit($0) }
    }

    static func birthDate(of personId: String?) -> LocalDate? {
        guard let personId, case .success(let d) = PersonId.birthDate(of: personId) else { return nil }
        return d
    }

    static func problems(_ m: ActivityMessage, units: [String: Unit]) -> [String] {
        var p: [String] = []
        func check(_ ok: Bool, _ what: String) { if !ok { p.append(what) } }
        check((1...128).contains(m.messageId.count), "messageId")
        check(m.revision >= 1, "revision")
        check(isDigits(m.institutionId, count: 9), "institutionId")
        check((1...64).contains(m.episodeId.count), "episodeId")
        check((1...32).contains(m.unitId.count), "unitId")
        check(units[m.unitId]?.institutionId == m.institutionId, "unit-institution-mismatch")
        check(sectors.contains(m.sector), "sector")
        check(episodeSexes.contains(m.patient.sex), "patient.sex")
        if let id = m.patient.personId {
            let derived = birthDate(of: id)
            check(derived != nil, "patient.personId")
            if let given = m.patient.birthDate { check(given == derived, "patient.birthDate disagrees") }
        } else {
            check(m.patient.birthDate != nil, "patient.birthDate required")
        }
        if let municipality = m.patient.municipality { check(MunicipalityRegister.resolve(municipality).isKnown, "patient.municipality") }
        if let district = m.patient.district {
            check(m.patient.municipality == "0301" && isDigits(district, count: 6) && district.hasPrefix("0301"), "patient.district")
        }
        if let right = m.referral?.rightToHealthcare { check(rightToHealthcare.contains(right), "referral.rightToHealthcare") }
        check(careLevels.contains(m.careLevel), "careLevel")
        if let urgency = m.admissionUrgency { check((1...5).contains(urgency), "admissionUrgency") }
        if let end = m.end { check(!(end < m.start), "end before start") } else { check(m.careLevel == 1, "end null outside inpatient") }
        if let endType = m.endType { check((1...6).contains(endType), "endType") }
        if let v = m.contactType { check(contactTypes.contains(v), "contactType") }
        if let v = m.activityPlace { check(activityPlaces.contains(v), "activityPlace") }
        if let v = m.activityType { check((1...8).contains(v), "activityType") }
        for code in m.conditions ?? [] { check(isConditionCode(code), "conditions \(code)") }
        for tariff in m.tariffs ?? [] { check(tariffs.contains(tariff), "tariffs \(tariff)") }
        return p
    }

    static func problems(_ d: DeathRecord) -> [String] {
        var p: [String] = []
        func check(_ ok: Bool, _ what: String) { if !ok { p.append(what) } }
        check(!d.messageId.isEmpty, "messageId")
        let derived = birthDate(of: d.personId)
        check(derived != nil, "personId")
        if let given = d.birthDate { check(given == derived, "birthDate disagrees") }
        check([1, 2].contains(d.sex), "sex")
        if let municipality = d.municipality { check(MunicipalityRegister.resolve(municipality).isKnown, "municipality") }
        return p
    }
}
