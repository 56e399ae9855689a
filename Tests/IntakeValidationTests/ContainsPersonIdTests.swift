import NPRCore
import Testing
@testable import IntakeValidation

/// Free-text identifiers and tariff codes travel downstream as they are: a valid person id in them is refused.
@Suite struct ContainsPersonIdTests {
    // 17058012345 is not valid, so build one: born 1980-05-17, individual 123.
    static let pid = PersonId.make(birth: LocalDate(year: 1980, month: 5, day: 17)!, individual: 123)!

    func errors(_ record: JSONValue) -> [String] {
        validateActivity(record, units: Fixtures.units).errors.map { "\($0.field) \($0.code.rawValue)" }
    }

    @Test(arguments: ["episodeId", "messageId"])
    func identifierCarryingAPersonIdIsRejected(field: String) {
        #expect(errors(Fixtures.edit(Fixtures.activity, field, Fixtures.str("EP-" + Self.pid))) == ["\(field) contains-person-id"])
    }

    @Test func tariffCarryingAPersonIdIsRejected() {
        let record = Fixtures.edit(Fixtures.activity, "tariffs", .array([Fixtures.str("P13"), Fixtures.str(Self.pid)]))
        #expect(errors(record) == ["tariffs[1] contains-person-id"])
    }

    @Test func elevenDigitsThatAreNoPersonIdAreAccepted() {
        // Change the last digit: the check digit no longer matches, so this is not a person id.
        let notAnId = String(Self.pid.dropLast()) + String((Int(String(Self.pid.last!))! + 1) % 10)
        #expect(!PersonId.isValid(notAnId))
        #expect(errors(Fixtures.edit(Fixtures.activity, "episodeId", Fixtures.str(notAnId))).isEmpty)
        #expect(errors(Fixtures.edit(Fixtures.activity, "episodeId", Fixtures.str("E-2024-000123"))).isEmpty)
    }

    @Test func scanFindsAnIdInsideALongerRunOfDigits() {
        #expect(PersonIdScan.containsValidPersonId("9" + Self.pid + "9"))
        #expect(!PersonIdScan.containsValidPersonId(String(Self.pid.prefix(10))))
    }
}
