import NPRCore
import Testing

@testable import IntakeValidation

/// One edit of the valid fixture and the exact errors it must produce (empty: accepted).
struct RuleCase: Sendable, CustomStringConvertible {
    let name: String
    let changes: [Change]
    let errors: [Expected]

    struct Change: Sendable {
        let path: String
        let value: JSONValue?
    }
    struct Expected: Sendable, Hashable {
        let field: String
        let code: IntakeErrorCode
    }

    var description: String { name }
}

/// `accept("…", ("path", value), …)` / `reject("…", [("field", .code)], ("path", value), …)`; a nil value removes the member.
func accept(_ name: String, _ changes: (String, JSONValue?)...) -> RuleCase {
    RuleCase(name: name, changes: changes.map { .init(path: $0.0, value: $0.1) }, errors: [])
}

func reject(_ name: String, _ errors: [(String, IntakeErrorCode)], _ changes: (String, JSONValue?)...) -> RuleCase {
    RuleCase(name: name, changes: changes.map { .init(path: $0.0, value: $0.1) }, errors: errors.map { .init(field: $0.0, code: $0.1) })
}

@Suite struct ActivityValidationTests {
    static func validate(_ c: RuleCase) -> ActivityValidation {
        validateActivity(Fixtures.edits(Fixtures.activity, c.changes.map { ($0.path, $0.value) }), units: Fixtures.units)
    }

    static let identity: [RuleCase] = [
        accept("the fixture itself"),
        accept("messageId of 1 character", ("messageId", s("m"))),
        accept("messageId of 128 characters", ("messageId", s(String(repeating: "x", count: 128)))),
        accept("messageId of 128 non-ASCII characters", ("messageId", s(String(repeating: "ø", count: 128)))),
        reject("messageId empty", [("messageId", .invalidLength)], ("messageId", s(""))),
        reject("messageId of 129 characters", [("messageId", .invalidLength)], ("messageId", s(String(repeating: "x", count: 129)))),
        reject("messageId with a control character", [("messageId", .invalidFormat)], ("messageId", s("a\nb"))),
        reject("messageId a number", [("messageId", .invalidType)], ("messageId", i(5))),
        reject("messageId missing", [("messageId", .required)], ("messageId", nil)),
        reject("messageId null", [("messageId", .required)], ("messageId", .null)),
        accept("status M", ("status", s("M"))),
        accept("status C (an annulment carries the whole episode)", ("status", s("C"))),
        reject("status lower case", [("status", .invalidCode)], ("status", s("n"))),
        reject("status unknown", [("status", .invalidCode)], ("status", s("X"))),
        reject("status missing", [("status", .required)], ("status", nil)),
        accept("revision large", ("revision", i(1_000_000))),
        accept("revision written 2.0 is an integer", ("revision", n("2.0"))),
        reject("revision 0", [("revision", .outOfRange)], ("revision", i(0))),
        reject("revision negative", [("revision", .outOfRange)], ("revision", i(-3))),
        reject("revision fractional", [("revision", .invalidType)], ("revision", n("1.5"))),
        reject("revision as string", [("revision", .invalidType)], ("revision", s("1"))),
        reject("revision beyond 64 bits", [("revision", .outOfRange)], ("revision", n("1e30"))),
        reject("revision missing", [("revision", .required)], ("revision", nil)),
        reject("institutionId 8 digits", [("institutionId", .invalidFormat)], ("institutionId", s("97458909"))),
        reject("institutionId 10 digits", [("institutionId", .invalidFormat)], ("institutionId", s("9745890950"))),
        reject("institutionId with a letter", [("institutionId", .invalidFormat)], ("institutionId", s("97458909a"))),
        reject("institutionId as number", [("institutionId", .invalidType)], ("institutionId", i(974589095))),
        reject("institutionId missing", [("institutionId", .required)], ("institutionId", nil)),
        accept("episodeId of 64 characters", ("episodeId", s(String(repeating: "e", count: 64)))),
        reject("episodeId of 65 characters", [("episodeId", .invalidLength)], ("episodeId", s(String(repeating: "e", count: 65)))),
        reject("episodeId empty", [("episodeId", .invalidLength)], ("episodeId", s(""))),
        reject("episodeId missing", [("episodeId", .required)], ("episodeId", nil)),
        accept("unitId of 32 characters (registered)", ("unitId", s(Fixtures.longUnitId))),
        reject("unitId of 33 characters", [("unitId", .invalidLength)], ("unitId", s(Fixtures.longUnitId + "U"))),
        reject("unitId empty", [("unitId", .invalidLength)], ("unitId", s(""))),
        reject("unitId not in the register", [("unitId", .unknownUnit)], ("unitId", s("U404"))),
        reject("unitId of another institution", [("unitId", .unitInstitutionMismatch)], ("unitId", s("U2"))),
        reject("institutionId not owning the unit", [("unitId", .unitInstitutionMismatch)], ("institutionId", s(Fixtures.otherInstitution))),
        reject("unitId missing", [("unitId", .required)], ("unitId", nil)),
        accept("sector PHV", ("sector", s("PHV"))),
        accept("sector PHBU", ("sector", s("PHBU"))),
        accept("sector SOM", ("sector", s("SOM"))),
        reject("sector lower case", [("sector", .invalidCode)], ("sector", s("tsb"))),
        reject("sector unknown", [("sector", .invalidCode)], ("sector", s("RUS"))),
        reject("sector missing", [("sector", .required)], ("sector", nil)),
    ]

    static let patient: [RuleCase] = [
        reject("patient missing", [("patient", .required)], ("patient", nil)),
        reject("patient not an object", [("patient", .invalidType)], ("patient", s("x"))),
        accept("sex 0", ("patient.sex", i(0))),
        accept("sex 2", ("patient.sex", i(2))),
        accept("sex 9", ("patient.sex", i(9))),
        reject("sex 3", [("patient.sex", .invalidCode)], ("patient.sex", i(3))),
        reject("sex as string", [("patient.sex", .invalidType)], ("patient.sex", s("1"))),
        reject("sex missing", [("patient.sex", .required)], ("patient.sex", nil)),
        accept("valid id without birthDate", ("patient.birthDate", nil)),
        accept("valid D-number with agreeing birthDate", ("patient.personId", s("41018012365")), ("patient.birthDate", s("1980-01-01"))),
        reject("valid id with another birthDate", [("patient.birthDate", .disagreesWithPersonId)], ("patient.birthDate", s("1980-05-18"))),
        reject("birthDate not a real date", [("patient.birthDate", .invalidDate)], ("patient.birthDate", s("2023-02-29"))),
        reject("birthDate badly written", [("patient.birthDate", .invalidDate)], ("patient.birthDate", s("1980-5-17"))),
        reject("birthDate as number", [("patient.birthDate", .invalidType)], ("patient.birthDate", i(19800517))),
        reject(
            "invalid id without birthDate", [("patient.birthDate", .required), ("patient.personId", .invalidCheckDigit)],
            ("patient.personId", s("17058012328")), ("patient.birthDate", nil)),
        reject(
            "id without a real birth date and no birthDate", [("patient.birthDate", .required), ("patient.personId", .invalidBirthDate)],
            ("patient.personId", s("29029712350")), ("patient.birthDate", nil)),
        reject(
            "malformed id and no birthDate", [("patient.birthDate", .required), ("patient.personId", .invalidFormat)],
            ("patient.personId", s("123")), ("patient.birthDate", nil)),
        reject("no id and no birthDate", [("patient.birthDate", .required)], ("patient.personId", nil), ("patient.birthDate", nil)),
        reject("null id and null birthDate", [("patient.birthDate", .required)], ("patient.personId", .null), ("patient.birthDate", .null)),
        reject("id as number", [("patient.personId", .invalidType)], ("patient.personId", i(17058012327))),
        accept("municipality null (no fixed address)", ("patient.municipality", .null), ("patient.district", nil)),
        accept("municipality 2024 number", ("patient.municipality", s("4601")), ("patient.district", nil)),
        accept("municipality older number", ("patient.municipality", s("1601")), ("patient.district", nil)),
        accept("municipality older number split across regions", ("patient.municipality", s("1850")), ("patient.district", nil)),
        reject("municipality unknown", [("patient.municipality", .invalidCode)], ("patient.municipality", s("9999")), ("patient.district", nil)),
        reject("municipality 3 digits", [("patient.municipality", .invalidFormat)], ("patient.municipality", s("301")), ("patient.district", nil)),
        reject("municipality as number", [("patient.municipality", .invalidType)], ("patient.municipality", i(301)), ("patient.district", nil)),
        reject("municipality missing", [("patient.municipality", .required)], ("patient.municipality", nil), ("patient.district", nil)),
        accept("Oslo without district", ("patient.district", nil)),
        accept("Oslo district 030117", ("patient.district", s("030117"))),
        reject("district outside Oslo", [("patient.district", .districtRequiresOslo)], ("patient.municipality", s("4601"))),
        reject("district without municipality", [("patient.district", .districtRequiresOslo)], ("patient.municipality", .null)),
        reject("district 5 digits", [("patient.district", .invalidFormat)], ("patient.district", s("03010"))),
        reject("district of another municipality", [("patient.district", .invalidCode)], ("patient.district", s("460101"))),
    ]

    static let episode: [RuleCase] = [
        accept("no referral", ("referral", nil)),
        accept("referral null", ("referral", .null)),
        reject("referral not an object", [("referral", .invalidType)], ("referral", i(1))),
        reject("referral date not real", [("referral.receivedDate", .invalidDate)], ("referral.receivedDate", s("2024-13-01"))),
        accept("rightToHealthcare 1", ("referral.rightToHealthcare", i(1))),
        accept("rightToHealthcare 2", ("referral.rightToHealthcare", i(2))),
        accept("rightToHealthcare 4", ("referral.rightToHealthcare", i(4))),
        accept("rightToHealthcare 5", ("referral.rightToHealthcare", i(5))),
        accept("rightToHealthcare 9", ("referral.rightToHealthcare", i(9))),
        reject("rightToHealthcare 6", [("referral.rightToHealthcare", .invalidCode)], ("referral.rightToHealthcare", i(6))),
        reject("rightToHealthcare 0", [("referral.rightToHealthcare", .invalidCode)], ("referral.rightToHealthcare", i(0))),
        accept("careLevel 2", ("careLevel", i(2))),
        accept("careLevel 3", ("careLevel", i(3))),
        accept("careLevel 8", ("careLevel", i(8))),
        reject("careLevel 4", [("careLevel", .invalidCode)], ("careLevel", i(4))),
        reject("careLevel missing", [("careLevel", .required)], ("careLevel", nil)),
        accept("admissionUrgency 1", ("admissionUrgency", i(1))),
        accept("admissionUrgency 5", ("admissionUrgency", i(5))),
        accept("admissionUrgency absent", ("admissionUrgency", nil)),
        reject("admissionUrgency 0", [("admissionUrgency", .invalidCode)], ("admissionUrgency", i(0))),
        reject("admissionUrgency 6", [("admissionUrgency", .invalidCode)], ("admissionUrgency", i(6))),
        accept("start at midnight", ("start", s("2024-03-01T00:00"))),
        reject("start with a space", [("start", .invalidDateTime)], ("start", s("2024-03-01 08:00"))),
        reject("start hour 24", [("start", .invalidDateTime)], ("start", s("2024-03-01T24:00"))),
        reject("start with seconds", [("start", .invalidDateTime)], ("start", s("2024-03-01T08:00:00"))),
        reject("start date only", [("start", .invalidDateTime)], ("start", s("2024-03-01"))),
        reject("start 31 April", [("start", .invalidDateTime)], ("start", s("2024-04-31T08:00"))),
        reject("start missing", [("start", .required)], ("start", nil)),
        reject("start before birth", [("start", .beforeBirth)], ("start", s("1980-05-16T23:59")), ("end", s("2024-03-10T12:30"))),
        accept("start on the birth date", ("start", s("1980-05-17T00:00"))),
        accept("end null for an open inpatient stay", ("end", .null)),
        reject("end null for outpatient", [("end", .nullOnlyForInpatient)], ("end", .null), ("careLevel", i(3))),
        reject("end null for day treatment", [("end", .nullOnlyForInpatient)], ("end", .null), ("careLevel", i(2))),
        reject("end missing", [("end", .required)], ("end", nil)),
        accept("end equal to start", ("end", s("2024-03-01T08:00"))),
        reject("end a minute before start", [("end", .endBeforeStart)], ("end", s("2024-03-01T07:59"))),
        reject("end not a date-time", [("end", .invalidDateTime)], ("end", s("soon"))),
        accept("endType 6", ("endType", i(6))),
        accept("endType null (not reported)", ("endType", .null)),
        reject("endType 7", [("endType", .invalidCode)], ("endType", i(7))),
        reject("endType 0", [("endType", .invalidCode)], ("endType", i(0))),
        accept("contactType 1", ("contactType", i(1))),
        accept("contactType 3", ("contactType", i(3))),
        accept("contactType 5", ("contactType", i(5))),
        accept("contactType 6", ("contactType", i(6))),
        accept("contactType 7", ("contactType", i(7))),
        accept("contactType 12", ("contactType", i(12))),
        accept("contactType 13", ("contactType", i(13))),
        accept("contactType 14", ("contactType", i(14))),
        accept("contactType 99", ("contactType", i(99))),
        reject("contactType 4", [("contactType", .invalidCode)], ("contactType", i(4))),
        reject("contactType 8", [("contactType", .invalidCode)], ("contactType", i(8))),
        reject("contactType 11", [("contactType", .invalidCode)], ("contactType", i(11))),
        accept("activityPlace 6", ("activityPlace", i(6))),
        accept("activityPlace 9", ("activityPlace", i(9))),
        reject("activityPlace 7", [("activityPlace", .invalidCode)], ("activityPlace", i(7))),
        reject("activityPlace 0", [("activityPlace", .invalidCode)], ("activityPlace", i(0))),
        accept("activityType 8", ("activityType", i(8))),
        reject("activityType 9", [("activityType", .invalidCode)], ("activityType", i(9))),
        reject("activityType 0", [("activityType", .invalidCode)], ("activityType", i(0))),
        accept("indirectActivity 71", ("indirectActivity", i(71))),
        reject("indirectActivity fractional", [("indirectActivity", .invalidType)], ("indirectActivity", n("22.5"))),
        reject("indirectActivity as string", [("indirectActivity", .invalidType)], ("indirectActivity", s("22"))),
        accept("no conditions", ("conditions", nil)),
        accept("empty conditions", ("conditions", .array([]))),
        accept("condition of 7 characters", ("conditions", .array([s("F10AB12"), s("Z50")]))),
        reject("condition with a dot", [("conditions[0]", .invalidFormat)], ("conditions", .array([s("F10.2")]))),
        reject("second condition lower case", [("conditions[1]", .invalidFormat)], ("conditions", .array([s("F102"), s("f102")]))),
        reject("condition too short", [("conditions[0]", .invalidFormat)], ("conditions", .array([s("F1")]))),
        reject("condition too long", [("conditions[2]", .invalidFormat)], ("conditions", .array([s("F102"), s("F103"), s("F1023456")]))),
        reject("condition starting with a digit", [("conditions[0]", .invalidFormat)], ("conditions", .array([s("1F02")]))),
        reject("condition as number", [("conditions[0]", .invalidType)], ("conditions", .array([i(5)]))),
        reject("conditions not an array", [("conditions", .invalidType)], ("conditions", s("F102"))),
        accept("tariffs empty", ("tariffs", .array([]))),
        accept("tariff of 32 characters", ("tariffs", .array([s(String(repeating: "P", count: 32))]))),
        reject("tariff empty string", [("tariffs[0]", .invalidLength)], ("tariffs", .array([s("")]))),
        reject("tariff of 33 characters", [("tariffs[1]", .invalidLength)], ("tariffs", .array([s("P12"), s(String(repeating: "P", count: 33))]))),
        reject("tariff as number", [("tariffs[0]", .invalidType)], ("tariffs", .array([i(12)]))),
        accept(
            "unknown fields anywhere are ignored",
            ("future", .object(JSONObject([.init(key: "deep", value: .array([i(1), .null]))]))),
            ("patient.nickname", s("x")), ("referral.source", i(3))),
    ]

    @Test(arguments: identity + patient + episode)
    func rule(_ c: RuleCase) {
        let result = Self.validate(c)
        let found = result.errors.map { RuleCase.Expected(field: $0.field, code: $0.code) }
        #expect(found == c.errors, "\(result.errors)")
        if c.errors.isEmpty, case .rejected = result { Issue.record("rejected") }
    }

    @Test func nonObjectRecordsAreRejected() {
        for v: JSONValue in [.array([]), .null, .string("x"), i(1), .bool(true)] {
            #expect(validateActivity(v, units: Fixtures.units).errors == [.notAnObject])
        }
    }

    @Test func allErrorsOfARecordAreReported() {
        let record = Fixtures.edits(
            Fixtures.activity,
            [
                ("messageId", nil), ("status", s("Q")), ("patient.sex", i(5)), ("careLevel", i(3)), ("end", .null),
                ("conditions", .array([s("F102"), s("x"), i(1)])), ("unitId", s("U404")),
            ])
        let found = Set(validateActivity(record, units: Fixtures.units).errors.map { RuleCase.Expected(field: $0.field, code: $0.code) })
        let expected: Set<RuleCase.Expected> = [
            .init(field: "messageId", code: .required), .init(field: "status", code: .invalidCode),
            .init(field: "patient.sex", code: .invalidCode), .init(field: "end", code: .nullOnlyForInpatient),
            .init(field: "conditions[1]", code: .invalidFormat), .init(field: "conditions[2]", code: .invalidType),
            .init(field: "unitId", code: .unknownUnit),
        ]
        #expect(found == expected)
    }

    @Test func acceptedMessageCarriesTheValidatedFields() {
        guard case .accepted(let m, let birth, let valid, let warnings) = validateActivity(Fixtures.activity, units: Fixtures.units) else {
            Issue.record("fixture rejected")
            return
        }
        let dt = { LocalDateTime($0)! }
        let expected = ActivityMessage(
            messageId: "msg-0001", status: .new, revision: 1, institutionId: "974589095", episodeId: "ep-1", unitId: "U1",
            sector: "TSB",
            patient: .init(personId: "17058012327", sex: 1, birthDate: LocalDate("1980-05-17"), municipality: "0301", district: "030105"),
            referral: .init(receivedDate: LocalDate("2024-01-15"), rightToHealthcare: 3), careLevel: 1, admissionUrgency: 4,
            start: dt("2024-03-01T08:00"), end: dt("2024-03-10T12:30"), endType: 1, contactType: 2, activityPlace: 1,
            activityType: 1, indirectActivity: 22, conditions: ["F102", "Z5030"], tariffs: ["P12", "P14a"])
        #expect(m == expected)
        #expect(birth == LocalDate("1980-05-17"))
        #expect(valid)
        #expect(warnings.isEmpty)
    }

    @Test func birthDateComesFromTheIdWhenNoneIsReported() {
        let record = Fixtures.edits(Fixtures.activity, [("patient.personId", s("17458012490")), ("patient.birthDate", nil)])
        guard case .accepted(let m, let birth, true, []) = validateActivity(record, units: Fixtures.units) else {
            Issue.record("rejected")
            return
        }
        #expect(birth == LocalDate("1980-05-17"))  // H-number, month 45 − 40
        #expect(m.patient.birthDate == nil)
        #expect(m.patient.personId == "17458012490")
    }

    @Test(arguments: [
        ("17058012328", "check digit"),  // wrong k2
        ("29029712350", "birth date"),  // 29 February 1997
        ("1705801232", "11 digits"),  // too short
        ("", "11 digits"),
    ])
    func invalidIdWithBirthDateIsAcceptedWithAWarning(_ id: String, _ reason: String) {
        let record = Fixtures.edits(Fixtures.activity, [("patient.personId", s(id)), ("patient.birthDate", s("1975-07-01"))])
        guard case .accepted(let m, let birth, let valid, let warnings) = validateActivity(record, units: Fixtures.units) else {
            Issue.record("rejected")
            return
        }
        #expect(!valid)
        #expect(birth == LocalDate("1975-07-01"))
        #expect(m.patient.personId == nil)  // never forwarded, never pseudonymised
        #expect(warnings.map(\.code) == [.personIdInvalid])
        #expect(warnings.map(\.field) == ["patient.personId"])
        #expect(warnings.first?.message.contains(reason) == true)
    }

    @Test func missingIdWithBirthDateIsAcceptedWithAWarning() {
        for missing: JSONValue? in [nil, .null] {
            let record = Fixtures.edits(Fixtures.activity, [("patient.personId", missing)])
            guard case .accepted(let m, let birth, false, let warnings) = validateActivity(record, units: Fixtures.units) else {
                Issue.record("rejected or valid")
                return
            }
            #expect(birth == LocalDate("1980-05-17"))
            #expect(m.patient.personId == nil)
            #expect(warnings.map(\.code) == [.personIdInvalid])
        }
    }

    @Test func activityMunicipalityIsKeptAsReported() {
        let record = Fixtures.edits(Fixtures.activity, [("patient.municipality", s("1601")), ("patient.district", nil)])
        guard case .accepted(let m, _, _, _) = validateActivity(record, units: Fixtures.units) else {
            Issue.record("rejected")
            return
        }
        #expect(m.patient.municipality == "1601")  // mapped to 2024 downstream, by MunicipalityRegister
    }
}
