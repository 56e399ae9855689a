import NPRCore
import SyntheticData
import Testing

@testable import IntakeValidation

/// Receipts and dead letters must never carry a clear person id (messages.md, "Pseudonym").
/// Random valid and invalid records carry valid ids in every field where a careless integrator
/// might put one; no error or warning may contain the id or any 5-digit piece of it.
@Suite struct PrivacyPropertyTests {
    static func randomValidId(using rng: inout SplitMix64) -> String {
        while true {
            let birth = LocalDate(
                dayNumber: Int.random(
                    in: LocalDate(year: 1900, month: 1, day: 1)!.dayNumber...LocalDate(year: 2023, month: 12, day: 31)!.dayNumber, using: &rng))
            let yy = birth.year % 100
            // An individual number whose century rule gives this birth year (messages.md).
            let individual =
                birth.year >= 2000
                ? Int.random(in: 500...999, using: &rng)
                : (yy >= 40 && Bool.random(using: &rng) ? Int.random(in: 900...999, using: &rng) : Int.random(in: 0...499, using: &rng))
            if let id = PersonId.make(birth: birth, individual: individual, dNumber: Bool.random(using: &rng)) { return id }
        }
    }

    /// Everything a validation result says in words or paths.
    static func texts(_ result: ActivityValidation) -> [String] {
        switch result {
        case .rejected(let errors): return errors.flatMap { [$0.field, $0.message] }
        case .accepted(_, _, _, let warnings): return warnings.flatMap { [$0.field, $0.message] }
        }
    }

    static func pieces(of id: String, length: Int) -> [String] {
        let chars = Array(id)
        return (0...(chars.count - length)).map { String(chars[$0..<($0 + length)]) }
    }

    static func hasDigitRun(_ text: String, length: Int) -> Bool {
        var run = 0
        for c in text.unicodeScalars {
            run = ("0"..."9").contains(c) ? run + 1 : 0
            if run >= length { return true }
        }
        return false
    }

    @Test func noMessageOrFieldContainsThePersonId() {
        var rng = SplitMix64(seed: 0x9815_0001)
        var outcomes = (accepted: 0, warned: 0, rejected: 0)
        for _ in 0..<400 {
            let id = Self.randomValidId(using: &rng)
            #expect(PersonId.isValid(id))
            var typo = Array(id)
            let position = Int.random(in: 0..<11, using: &rng)
            typo[position] = Character(String((Int(String(typo[position]))! + Int.random(in: 1...9, using: &rng)) % 10))
            let nearId = String(typo)
            let idString = JSONValue.string(id)

            // Each mutation is one way an integrator could get the record wrong while the id is in it.
            let mutations: [(String, JSONValue?)] = [
                ("patient.birthDate", nil), ("patient.birthDate", s("1901-01-01")), ("patient.birthDate", idString),
                ("patient.personId", s(nearId)), ("patient.personId", s(id + "0")), ("patient.personId", s(String(id.dropLast()))),
                ("patient.personId", i(Int(id)!)), ("patient.personId", s("x" + id)),
                ("messageId", idString), ("episodeId", idString), ("unitId", idString), ("institutionId", idString),
                ("revision", idString), ("status", idString), ("sector", idString), ("careLevel", idString),
                ("start", idString), ("end", idString), ("patient.sex", i(Int(id)!)),
                ("patient.municipality", idString), ("patient.district", idString), ("referral.receivedDate", idString),
                ("conditions", .array([s("F102"), idString])), ("tariffs", .array([idString])),
                ("unknownField", idString), ("patient.extra", idString), ("careLevel", i(3)), ("end", .null),
                ("messageId", nil), ("patient", nil), ("patient", idString), ("referral", idString),
            ]
            let birthFromId = try! PersonId.birthDate(of: id).get()
            // Mostly the valid id; sometimes a typo of it, a padded copy, or none at all.
            let reported: JSONValue? = [idString, idString, idString, s(nearId), s(nearId), s(id + "0"), nil].randomElement(using: &rng)!
            var changes: [(String, JSONValue?)] = [
                ("patient.personId", reported),
                ("patient.birthDate", Bool.random(using: &rng) ? nil : s(birthFromId.description)),
            ]
            // Half the records stay valid; the rest get one to four mutations.
            let mutationCount = Bool.random(using: &rng) ? 0 : Int.random(in: 1...4, using: &rng)
            for _ in 0..<mutationCount { changes.append(mutations.randomElement(using: &rng)!) }
            let result = validateActivity(Fixtures.edits(Fixtures.activity, changes), units: Fixtures.units)

            switch result {
            case .accepted(_, _, _, let w): if w.isEmpty { outcomes.accepted += 1 } else { outcomes.warned += 1 }
            case .rejected: outcomes.rejected += 1
            }
            for text in Self.texts(result) {
                for secret in [id, nearId] {
                    #expect(!text.contains(secret), "\(text)")
                    for piece in Self.pieces(of: secret, length: 5) { #expect(!text.contains(piece), "\(text)") }
                }
                #expect(!Self.hasDigitRun(text, length: 4), "\(text)")
            }
        }
        // The generator reaches all three outcomes.
        #expect(outcomes.accepted > 20, "\(outcomes)")
        #expect(outcomes.warned > 20, "\(outcomes)")
        #expect(outcomes.rejected > 20, "\(outcomes)")
    }

    /// The same for deaths, where an invalid id rejects the record.
    @Test func deathErrorsNeverContainThePersonId() {
        var rng = SplitMix64(seed: 0x9815_0002)
        for _ in 0..<200 {
            let id = Self.randomValidId(using: &rng)
            let changes: [(String, JSONValue?)] = [
                ("personId", Bool.random(using: &rng) ? s(id) : s(String(id.dropLast()) + "x")),
                ("birthDate", Bool.random(using: &rng) ? nil : s("1901-01-01")),
                ("messageId", Bool.random(using: &rng) ? s(id) : i(Int(id)!)),
                ("municipality", s(id)),
            ]
            for error in validateDeath(Fixtures.edits(Fixtures.death, changes)).errors {
                for piece in Self.pieces(of: id, length: 5) { #expect(!error.message.contains(piece) && !error.field.contains(piece)) }
            }
        }
    }
}
