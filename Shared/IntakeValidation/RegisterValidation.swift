import NPRCore

// Validators for the register feeds: deaths, population counts and the unit register (messages.md §2–4).

public enum DeathValidation: Sendable, Hashable {
    /// `birthDate` is the one from the person id (a given `birthDate` must agree with it).
    case accepted(DeathRecord, birthDate: LocalDate)
    case rejected([FieldError])

    public var errors: [FieldError] {
        if case .rejected(let e) = self { return e }
        return []
    }
}

public enum PopulationValidation: Sendable, Hashable {
    /// `municipality` is already mapped to its single 2024 number (the upsert key uses it).
    case accepted(PopulationCount)
    case rejected([FieldError])

    public var errors: [FieldError] {
        if case .rejected(let e) = self { return e }
        return []
    }
}

public enum UnitValidation: Sendable, Hashable {
    case accepted(Unit)
    case rejected([FieldError])

    public var errors: [FieldError] {
        if case .rejected(let e) = self { return e }
        return []
    }
}

/// Validates one death record. Unlike activities, a death without a valid person id is useless
/// (it can only ever be linked through the pseudonym), so it is rejected.
public func validateDeath(_ record: JSONValue) -> DeathValidation {
    guard case .object(let object) = record else { return .rejected([.notAnObject]) }
    var r = RecordReader(object)
    let messageId = r.identifier("messageId", .required, length: 1...128)
    let status = r.code("status", .required, allowed: ["N", "C"]).flatMap(DeathStatus.init(rawValue:))
    var personId: String?, birthFromId: LocalDate?
    switch r.personId("personId") {
    case .absent: r.reject("personId", .required, "personId is required on a death record")
    case .wrongType: break  // already an error
    case .invalid(let problem): r.reject("personId", personIdProblem: problem)
    case .valid(let id, let birth): (personId, birthFromId) = (id, birth)
    }
    let deathDate = r.date("deathDate", .required)
    let sex = r.code("sex", .required, allowed: [1, 2])
    let givenBirth = r.date("birthDate", .optional)
    let municipality = r.municipality("municipality", .requiredNullable)?.number
    if let givenBirth, let birthFromId, givenBirth != birthFromId {
        r.reject("birthDate", .disagreesWithPersonId, "birthDate does not agree with the birth date in personId")
    }
    if let deathDate, let birthFromId, deathDate < birthFromId {
        r.reject("deathDate", .beforeBirth, "deathDate is before the birth date in personId")
    }
    guard r.errors.isEmpty, let messageId, let status, let personId, let birthFromId, let deathDate, let sex else {
        return .rejected(r.errors)
    }
    return .accepted(
        DeathRecord(
            messageId: messageId, status: status, personId: personId, deathDate: deathDate,
            sex: sex, birthDate: givenBirth, municipality: municipality),
        birthDate: birthFromId)
}

/// Validates one population count. The municipality must map to exactly one 2024 municipality:
/// a count for a number split between several successors cannot be placed.
public func validatePopulation(_ record: JSONValue) -> PopulationValidation {
    guard case .object(let object) = record else { return .rejected([.notAnObject]) }
    var r = RecordReader(object)
    let messageId = r.identifier("messageId", .optional, length: 1...128)
    // The count is "on 1 January of this year", which must be a real date.
    let year = r.integer("year", .required, in: Plausible.years)
    var municipality2024: String?
    if let reported = r.municipality("municipality", .required) {
        municipality2024 = reported.resolution.single2024
        if municipality2024 == nil {
            r.reject(
                "municipality", .ambiguousMunicipality,
                "municipality was split between several 2024 municipalities; report the count under the 2024 numbers")
        }
    }
    let sex = r.code("sex", .required, allowed: [1, 2])
    let age = r.integer("age", .required, in: Plausible.ages)
    let count = r.integer("count", .required, in: Plausible.populationCount)
    guard r.errors.isEmpty, let year, let municipality2024, let sex, let age, let count else { return .rejected(r.errors) }
    return .accepted(PopulationCount(messageId: messageId, year: year, municipality: municipality2024, sex: sex, age: age, count: count))
}

/// Validates one unit-register entry.
public func validateUnit(_ record: JSONValue) -> UnitValidation {
    guard case .object(let object) = record else { return .rejected([.notAnObject]) }
    var r = RecordReader(object)
    let unitId = r.identifier("unitId", .required, length: 1...32)
    let name = r.string("name", .required, length: 1...256)
    let institutionId = r.digits("institutionId", .required, count: 9)
    let institutionName = r.string("institutionName", .required, length: 1...256)
    let hfId = r.digits("hfId", .required, count: 9)
    let hfName = r.string("hfName", .required, length: 1...256)
    let rhf = r.code("rhf", .required, allowed: RHF.allCases.map(\.rawValue)).flatMap(RHF.init(rawValue:))
    let ownership = r.code("ownership", .required, allowed: Ownership.allCases.map(\.rawValue)).flatMap(Ownership.init(rawValue:))
    let detox = r.bool("detox", .required)
    let validFrom = r.date("validFrom", .required)
    guard r.errors.isEmpty, let unitId, let name, let institutionId, let institutionName, let hfId, let hfName,
        let rhf, let ownership, let detox, let validFrom
    else { return .rejected(r.errors) }
    return .accepted(
        Unit(
            unitId: unitId, name: name, institutionId: institutionId, institutionName: institutionName,
            hfId: hfId, hfName: hfName, rhf: rhf, ownership: ownership, detox: detox, validFrom: validFrom))
}
