import NPRCore

/// Outcome of validating one activity record (messages.md §1).
public enum ActivityValidation: Sendable, Hashable {
    /// `birthDate` is the one to compute ages with: from the person id when it is valid, else the
    /// reported `patient.birthDate`. The message's `patient.personId` is set only when the id is
    /// valid, so an invalid id can never be pseudonymised or forwarded by mistake.
    case accepted(ActivityMessage, birthDate: LocalDate, personIdValid: Bool, warnings: [Warning])
    /// Every problem found in the record, in field order.
    case rejected([FieldError])

    public var errors: [FieldError] {
        if case .rejected(let e) = self { return e }
        return []
    }

    public var warnings: [Warning] {
        if case .accepted(_, _, _, let w) = self { return w }
        return []
    }
}

/// NPR code lists and fixed vocabularies of the activity message, as the spec lists them.
enum ActivityCodeList {
    static let status = ["N", "M", "C"]
    static let sector = ["TSB", "PHV", "PHBU", "SOM"]
    static let sex = [0, 1, 2, 9]
    static let rightToHealthcare = [1, 2, 3, 4, 5, 9]
    static let careLevel = [1, 2, 3, 8]
    static let admissionUrgency = Array(1...5)
    static let endType = Array(1...6)
    static let contactType = [1, 2, 3, 5, 6, 7, 12, 13, 14, 99]
    static let activityPlace = [1, 2, 3, 4, 5, 6, 9]
    static let activityType = Array(1...8)
    static let oslo = "0301"
    static let inpatient = 1
}

/// Validates one activity record. `units` looks a unit up in the current unit register.
/// Unknown fields are ignored; all problems of the record are reported together.
public func validateActivity(_ record: JSONValue, units: (String) -> Unit?) -> ActivityValidation {
    guard case .object(let object) = record else { return .rejected([.notAnObject]) }
    var r = RecordReader(object)
    let messageId = r.identifier("messageId", .required, length: 1...128)
    let status = r.code("status", .required, allowed: ActivityCodeList.status).flatMap(EpisodeStatus.init(rawValue:))
    let revision = r.integer("revision", .required, in: 1...Int.max)
    let institutionId = r.digits("institutionId", .required, count: 9)
    let episodeId = r.identifier("episodeId", .required, length: 1...64)
    let unitId = r.identifier("unitId", .required, length: 1...32)
    let sector = r.code("sector", .required, allowed: ActivityCodeList.sector)
    let patient = r.nested("patient", .required) { $0.activityPatient() } ?? nil
    let referral = r.nested("referral", .optional) { p in
        ActivityMessage.Referral(
            receivedDate: p.date("receivedDate", .optional),
            rightToHealthcare: p.code("rightToHealthcare", .optional, allowed: ActivityCodeList.rightToHealthcare))
    }
    let careLevel = r.code("careLevel", .required, allowed: ActivityCodeList.careLevel)
    let admissionUrgency = r.code("admissionUrgency", .optional, allowed: ActivityCodeList.admissionUrgency)
    let start = r.dateTime("start", .required)
    let end = r.dateTime("end", .requiredNullable)
    if r.isNull("end"), let careLevel, careLevel != ActivityCodeList.inpatient {
        r.reject("end", .nullOnlyForInpatient, "end may be null only for an inpatient episode still open (careLevel 1)")
    }
    if let start, let end, end < start {
        r.reject("end", .endBeforeStart, "end must not be before start")
    }
    if let start, let birth = patient?.birthDate, start.date < birth {
        r.reject("start", .beforeBirth, "start is before the patient's birth date")
    }
    let endType = r.code("endType", .optional, allowed: ActivityCodeList.endType)
    let contactType = r.code("contactType", .optional, allowed: ActivityCodeList.contactType)
    let activityPlace = r.code("activityPlace", .optional, allowed: ActivityCodeList.activityPlace)
    let activityType = r.code("activityType", .optional, allowed: ActivityCodeList.activityType)
    let indirectActivity = r.integer("indirectActivity", .optional)
    let conditions = r.array("conditions", .optional).map { elements in
        elements.enumerated().compactMap { i, e in r.icd10(e, at: "conditions[\(i)]") }
    }
    let tariffs = r.array("tariffs", .optional).map { elements in
        elements.enumerated().compactMap { i, e in r.string(e, at: "tariffs[\(i)]", length: 1...32) }
    }
    if let unitId {
        if let unit = units(unitId) {
            if let institutionId, unit.institutionId != institutionId {
                r.reject("unitId", .unitInstitutionMismatch, "unitId belongs to another institution in the unit register")
            }
        } else {
            r.reject("unitId", .unknownUnit, "unitId is not in the unit register")
        }
    }

    guard r.errors.isEmpty, let messageId, let status, let revision, let institutionId, let episodeId, let unitId,
        let sector, let patient, let birthDate = patient.birthDate, let careLevel, let start
    else {
        return .rejected(r.errors)
    }
    let message = ActivityMessage(
        messageId: messageId, status: status, revision: revision, institutionId: institutionId, episodeId: episodeId,
        unitId: unitId, sector: sector, patient: patient.patient, referral: referral, careLevel: careLevel,
        admissionUrgency: admissionUrgency, start: start, end: end, endType: endType, contactType: contactType,
        activityPlace: activityPlace, activityType: activityType, indirectActivity: indirectActivity,
        conditions: conditions, tariffs: tariffs)
    return .accepted(
        message, birthDate: birthDate, personIdValid: patient.personIdValid,
        warnings: patient.warning.map { [$0] } ?? [])
}

/// What the `patient` object yields once the person-id decision is taken.
struct ActivityPatientReading {
    var patient: ActivityMessage.Patient
    /// The birth date to use (from the id when valid), nil when unknown.
    var birthDate: LocalDate?
    var personIdValid: Bool
    var warning: Warning?
}

extension RecordReader {
    /// Reads `patient` and applies the person-id decision of messages.md: a missing or invalid id is
    /// accepted with a warning when `birthDate` is given, rejected without it; a valid id must agree
    /// with a given `birthDate`.
    mutating func activityPatient() -> ActivityPatientReading? {
        let reading = personId("personId")
        let sex = code("sex", .required, allowed: ActivityCodeList.sex)
        let givenBirth = date("birthDate", .optional)
        let municipality = self.municipality("municipality", .requiredNullable)?.number
        let district = digits("district", .optional, count: 6)
        if let district, !district.hasPrefix(ActivityCodeList.oslo) {
            reject(path("district"), .invalidCode, "\(path("district")) must be an Oslo district number (Oslo's municipality number followed by two digits)")
        }
        if isGiven("district"), isNull("municipality") || (municipality.map { $0 != ActivityCodeList.oslo } ?? false) {
            reject(path("district"), .districtRequiresOslo, "\(path("district")) may only be given when the municipality is Oslo")
        }

        var birthDate = givenBirth
        var valid = false
        var warning: Warning?
        let idPath = path("personId"), birthPath = path("birthDate")
        let consequence =
            "; the episode is accepted on \(birthPath) without a pseudonym, so it counts in episode figures but not in patient counts, linking or mortality"
        switch reading {
        case .valid(_, let fromId):
            valid = true
            birthDate = fromId
            if let givenBirth, givenBirth != fromId {
                reject(birthPath, .disagreesWithPersonId, "\(birthPath) does not agree with the birth date in \(idPath)")
            }
        case .invalid(let problem):
            if isGiven("birthDate") {
                warning = Warning(field: idPath, code: .personIdInvalid, message: "\(idPath) " + problem.explanation + consequence)
            } else {
                reject(birthPath, .required, "\(birthPath) is required when \(idPath) is missing or invalid")
                reject(idPath, personIdProblem: problem)
            }
        case .absent:
            if isGiven("birthDate") {
                warning = Warning(field: idPath, code: .personIdInvalid, message: "\(idPath) is missing" + consequence)
            } else {
                reject(birthPath, .required, "\(birthPath) is required when \(idPath) is missing or invalid")
            }
        case .wrongType:
            break  // already an error
        }
        guard let sex else { return nil }
        let validId: String? = if case .valid(let id, _) = reading { id } else { nil }
        return ActivityPatientReading(
            patient: ActivityMessage.Patient(
                personId: validId, sex: sex, birthDate: givenBirth,
                municipality: municipality, district: district),
            birthDate: birthDate, personIdValid: valid, warning: warning)
    }

    /// An ICD-10 code without a dot: `^[A-Z][0-9]{2}[0-9A-Z]{0,4}$`.
    mutating func icd10(_ v: JSONValue, at path: String) -> String? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a string")
            return nil
        }
        let u = Array(s.utf8)
        let isUpper = { (c: UInt8) in c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }
        guard (3...7).contains(u.count), isUpper(u[0]), isDigit(u[1]), isDigit(u[2]),
            u[3...].allSatisfy({ isDigit($0) || isUpper($0) })
        else {
            reject(
                path, .invalidFormat, "\(path) must be an ICD-10 code without a dot: a capital letter, two digits, then up to four digits or capital letters")
            return nil
        }
        return s
    }
}
