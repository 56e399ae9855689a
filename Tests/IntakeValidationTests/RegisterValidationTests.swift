import NPRCore
import Testing

@testable import IntakeValidation

private func found(_ errors: [FieldError]) -> [RuleCase.Expected] { errors.map { .init(field: $0.field, code: $0.code) } }

@Suite struct DeathValidationTests {
    static let cases: [RuleCase] = [
        accept("the fixture itself"),
        accept("annulment", ("status", s("C"))),
        accept("no birthDate: derived from the id", ("birthDate", nil)),
        accept("municipality null (no Norwegian address)", ("municipality", .null)),
        accept("older municipality number", ("municipality", s("1601"))),
        accept("female", ("sex", i(2))),
        accept("death on the birth date", ("deathDate", s("1945-12-24"))),
        reject("messageId missing", [("messageId", .required)], ("messageId", nil)),
        reject("messageId too long", [("messageId", .invalidLength)], ("messageId", s(String(repeating: "d", count: 129)))),
        reject("status M does not exist for deaths", [("status", .invalidCode)], ("status", s("M"))),
        reject("personId missing", [("personId", .required)], ("personId", nil)),
        reject("personId null", [("personId", .required)], ("personId", .null)),
        reject("personId wrong check digit", [("personId", .invalidCheckDigit)], ("personId", s("24124595077"))),
        reject("personId without a real birth date", [("personId", .invalidBirthDate)], ("personId", s("01014580049")), ("birthDate", nil)),
        reject("personId 10 digits", [("personId", .invalidFormat)], ("personId", s("2412459507"))),
        reject("personId as number", [("personId", .invalidType)], ("personId", i(24124595076))),
        reject("birthDate disagreeing with the id", [("birthDate", .disagreesWithPersonId)], ("birthDate", s("1945-12-25"))),
        reject("birthDate not a real date", [("birthDate", .invalidDate)], ("birthDate", s("1945-02-30"))),
        reject("deathDate missing", [("deathDate", .required)], ("deathDate", nil)),
        reject("deathDate a date-time", [("deathDate", .invalidDate)], ("deathDate", s("2024-06-30T10:00"))),
        reject("deathDate before birth", [("deathDate", .beforeBirth)], ("deathDate", s("1945-12-23"))),
        reject("sex 0 is not allowed for deaths", [("sex", .invalidCode)], ("sex", i(0))),
        reject("sex 9 is not allowed for deaths", [("sex", .invalidCode)], ("sex", i(9))),
        reject("municipality missing", [("municipality", .required)], ("municipality", nil)),
        reject("municipality unknown", [("municipality", .invalidCode)], ("municipality", s("9999"))),
        reject("municipality 5 digits", [("municipality", .invalidFormat)], ("municipality", s("04601"))),
    ]

    @Test(arguments: cases)
    func rule(_ c: RuleCase) {
        let result = validateDeath(Fixtures.edits(Fixtures.death, c.changes.map { ($0.path, $0.value) }))
        #expect(found(result.errors) == c.errors, "\(result.errors)")
    }

    @Test func acceptedDeathCarriesTheBirthDateFromTheId() {
        let record = Fixtures.edit(Fixtures.death, "birthDate", nil)
        guard case .accepted(let d, let birth) = validateDeath(record) else {
            Issue.record("rejected")
            return
        }
        #expect(
            d
                == DeathRecord(
                    messageId: "d-1", status: .registration, personId: "24124595076",
                    deathDate: LocalDate("2024-06-30")!, sex: 1, birthDate: nil, municipality: "4601"))
        #expect(birth == LocalDate("1945-12-24"))
    }

    @Test func allErrorsAreReported() {
        let record = Fixtures.edits(Fixtures.death, [("personId", s("24124595077")), ("sex", i(3)), ("deathDate", s("x"))])
        #expect(
            Set(found(validateDeath(record).errors)) == [
                .init(field: "personId", code: .invalidCheckDigit), .init(field: "sex", code: .invalidCode),
                .init(field: "deathDate", code: .invalidDate),
            ])
    }
}

@Suite struct PopulationValidationTests {
    static let cases: [RuleCase] = [
        accept("the fixture itself"),
        accept("with a messageId", ("messageId", s("p-1"))),
        accept("age 0", ("age", i(0))),
        accept("age 130", ("age", i(130))),
        accept("count 0", ("count", i(0))),
        accept("year written 2024.0", ("year", n("2024.0"))),
        reject("messageId empty", [("messageId", .invalidLength)], ("messageId", s(""))),
        reject("year missing", [("year", .required)], ("year", nil)),
        reject("year 0", [("year", .outOfRange)], ("year", i(0))),
        reject("year 10000", [("year", .outOfRange)], ("year", i(10000))),
        reject("year fractional", [("year", .invalidType)], ("year", n("2024.5"))),
        reject("municipality null", [("municipality", .required)], ("municipality", .null)),
        reject("municipality unknown", [("municipality", .invalidCode)], ("municipality", s("9999"))),
        reject("municipality split between successors", [("municipality", .ambiguousMunicipality)], ("municipality", s("1850"))),
        reject("municipality as number", [("municipality", .invalidType)], ("municipality", i(301))),
        reject("sex 0", [("sex", .invalidCode)], ("sex", i(0))),
        reject("sex 3", [("sex", .invalidCode)], ("sex", i(3))),
        reject("age 131", [("age", .outOfRange)], ("age", i(131))),
        reject("age -1", [("age", .outOfRange)], ("age", i(-1))),
        reject("count -1", [("count", .outOfRange)], ("count", i(-1))),
        reject("count fractional", [("count", .invalidType)], ("count", n("1.5"))),
        reject("count missing", [("count", .required)], ("count", nil)),
    ]

    @Test(arguments: cases)
    func rule(_ c: RuleCase) {
        let result = validatePopulation(Fixtures.edits(Fixtures.population, c.changes.map { ($0.path, $0.value) }))
        #expect(found(result.errors) == c.errors, "\(result.errors)")
    }

    /// From the renumbering table (shared/reference/kommune_endringer.csv): 1601 Trondheim → 5001 (2018);
    /// 0709 Larvik → 0712 (2018) → 3805 (2020) → 3909 (2024); 0301 is a 2024 number itself.
    @Test(arguments: [("1601", "5001"), ("0709", "3909"), ("0712", "3909"), ("3805", "3909"), ("0301", "0301")])
    func municipalityIsMappedTo2024(_ reported: String, _ expected: String) {
        guard case .accepted(let p) = validatePopulation(Fixtures.edit(Fixtures.population, "municipality", s(reported))) else {
            Issue.record("rejected")
            return
        }
        #expect(p == PopulationCount(year: 2024, municipality: expected, sex: 2, age: 35, count: 4711))
    }
}

@Suite struct UnitValidationTests {
    static let cases: [RuleCase] = [
        accept("the fixture itself"),
        accept("each RHF", ("rhf", s("nord"))),
        accept("midt-norge", ("rhf", s("midt-norge"))),
        accept("vest", ("rhf", s("vest"))),
        accept("private purchase agreement", ("ownership", s("private-purchase-agreement"))),
        accept("private operating agreement", ("ownership", s("private-operating-agreement"))),
        accept("free choice", ("ownership", s("free-choice"))),
        accept("not detox", ("detox", .bool(false))),
        reject("unitId too long", [("unitId", .invalidLength)], ("unitId", s(String(repeating: "u", count: 33)))),
        reject("name empty", [("name", .invalidLength)], ("name", s(""))),
        reject("institutionId 8 digits", [("institutionId", .invalidFormat)], ("institutionId", s("12345678"))),
        reject("hfId missing", [("hfId", .required)], ("hfId", nil)),
        reject("hfName missing", [("hfName", .required)], ("hfName", nil)),
        reject("institutionName not a string", [("institutionName", .invalidType)], ("institutionName", i(1))),
        reject("rhf spelled as a name", [("rhf", .invalidCode)], ("rhf", s("Helse Nord"))),
        reject("ownership unknown", [("ownership", .invalidCode)], ("ownership", s("private"))),
        reject("detox as string", [("detox", .invalidType)], ("detox", s("true"))),
        reject("detox as number", [("detox", .invalidType)], ("detox", i(1))),
        reject("validFrom not a date", [("validFrom", .invalidDate)], ("validFrom", s("2019"))),
        reject("validFrom missing", [("validFrom", .required)], ("validFrom", nil)),
    ]

    @Test(arguments: cases)
    func rule(_ c: RuleCase) {
        let result = validateUnit(Fixtures.edits(Fixtures.unitRecord, c.changes.map { ($0.path, $0.value) }))
        #expect(found(result.errors) == c.errors, "\(result.errors)")
    }

    @Test func acceptedUnitHasEveryField() {
        guard case .accepted(let u) = validateUnit(Fixtures.unitRecord) else {
            Issue.record("rejected")
            return
        }
        #expect(
            u
                == NPRCore.Unit(
                    unitId: "U9", name: "Avrusning", institutionId: "974589095",
                    institutionName: "Oslo universitetssykehus HF", hfId: "974589095",
                    hfName: "Oslo universitetssykehus HF", rhf: .sorOst, ownership: .public, detox: true,
                    validFrom: LocalDate(year: 2019, month: 1, day: 1)!))
    }
}
