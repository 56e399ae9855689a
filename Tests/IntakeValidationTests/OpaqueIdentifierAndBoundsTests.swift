import NPRCore
import Testing

@testable import IntakeValidation

/// Identifiers are the sender's opaque values (spec: *opaque identifiers*): never inspected for person ids.
/// Dates and counts stay within `Plausible` bounds, which the tallies downstream rely on.
@Suite struct OpaqueIdentifierAndBoundsTests {
    static let pid = PersonId.make(birth: LocalDate(year: 1980, month: 5, day: 17)!, individual: 123)!

    func errors(_ record: JSONValue) -> [String] {
        validateActivity(record, units: Fixtures.units).errors.map { "\($0.field) \($0.code.rawValue)" }
    }

    func populationErrors(_ record: JSONValue) -> [String] {
        guard case .rejected(let e) = validatePopulation(record) else { return [] }
        return e.map { "\($0.field) \($0.code.rawValue)" }
    }

    @Test(arguments: ["messageId", "episodeId"])
    func identifiersThatLookLikePersonIdsAreAccepted(field: String) {
        #expect(PersonId.isValid(Self.pid))
        for id in [Self.pid, "EP-" + Self.pid, "a-140831046607"] {
            #expect(errors(Fixtures.edit(Fixtures.activity, field, Fixtures.str(id))).isEmpty, "\(field) = \(id.count) characters")
        }
    }

    @Test func tariffCodesAreNotInspected() {
        #expect(errors(Fixtures.edit(Fixtures.activity, "tariffs", .array([Fixtures.str("P13"), Fixtures.str(Self.pid)]))).isEmpty)
    }

    @Test func identifiersStillRefuseControlCharacters() {
        #expect(errors(Fixtures.edit(Fixtures.activity, "episodeId", Fixtures.str("E\n1"))) == ["episodeId invalid-format"])
    }

    @Test(arguments: [
        ("start", "1799-12-31T23:59", true), ("start", "1800-01-01T00:00", false), ("end", "2200-01-01T00:00", true),
        ("referral.receivedDate", "0001-01-01", true), ("referral.receivedDate", "2199-12-31", false),
    ])
    func datesOutsideTheRegistersEraAreOutOfRange(field: String, value: String, rejected: Bool) {
        // Moving one date can break the order of start and end too; only this field's code matters here.
        let found = errors(Fixtures.edit(Fixtures.activity, field, Fixtures.str(value)))
        #expect(found.contains("\(field) out-of-range") == rejected, "\(found)")
    }

    @Test(arguments: [(Plausible.populationCount.upperBound, false), (Plausible.populationCount.upperBound + 1, true), (Int.max, true), (-1, true)])
    func populationCountsAreBounded(count: Int, rejected: Bool) {
        #expect(populationErrors(Fixtures.edit(Fixtures.population, "count", Fixtures.int(count))) == (rejected ? ["count out-of-range"] : []))
    }

    @Test func populationYearsAreBounded() {
        #expect(populationErrors(Fixtures.edit(Fixtures.population, "year", Fixtures.int(9999))) == ["year out-of-range"])
        #expect(populationErrors(Fixtures.edit(Fixtures.population, "year", Fixtures.int(1900))).isEmpty)
    }

    @Test func theEventCheckAgreesWithIntake() {
        let ok = PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 40, count: 7)
        #expect(ok.isPlausible)
        for bad in [
            PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 40, count: Int.max),
            PopulationEvent(year: 9999, municipality: "0301", sex: 1, age: 40, count: 7),
            PopulationEvent(year: 2024, municipality: "0301", sex: 3, age: 40, count: 7),
            PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 131, count: 7),
        ] {
            #expect(!bad.isPlausible)
        }
    }
}
