import Crypto
import Foundation
import IntakeLedger
import IntakeValidation
import NPRCore
import Testing

/// Records and a ledger to decide them with.
enum Records {
    static let institutionA = "974589095"
    static let institutionB = "983974899"
    static let pseudonymizer = Pseudonymizer(key: SymmetricKey(data: [UInt8](repeating: 7, count: 32)))

    static func unit(_ id: String, institution: String, name: String = "Institution") -> NPRCore.Unit {
        NPRCore.Unit(
            unitId: id, name: "Unit " + id, institutionId: institution, institutionName: name, hfId: institution, hfName: "HF", rhf: .sorOst,
            ownership: .public, detox: false, validFrom: LocalDate(year: 2020, month: 1, day: 1)!)
    }
    static let units = ["UA": unit("UA", institution: institutionA), "UB": unit("UB", institution: institutionB)]

    /// Valid person ids (born 1980-05-17 and later days).
    static let persons: [String] = (0..<4).compactMap { i in
        (100...200).lazy.compactMap { PersonId.make(birth: LocalDate(year: 1980, month: 5, day: 17 + i)!, individual: $0) }.first
    }

    static func activity(
        messageId: String, status: EpisodeStatus = .new, revision: Int = 1, institution: String = institutionA, episode: String = "ep-1",
        person: String = persons[0], endType: Int = 1, startDay: Int = 1
    ) -> JSONValue {
        let unit = institution == institutionA ? "UA" : "UB"
        return try! JSONValue.parse(
            #"""
            {"messageId":"\#(messageId)","status":"\#(status.rawValue)","revision":\#(revision),"institutionId":"\#(institution)","episodeId":"\#(episode)",
             "unitId":"\#(unit)","sector":"TSB","patient":{"personId":"\#(person)","sex":1,"municipality":"0301"},
             "referral":{"receivedDate":"2024-01-15","rightToHealthcare":3},"careLevel":1,"admissionUrgency":4,
             "start":"2024-03-\#(startDay < 10 ? "0" : "")\#(startDay)T08:00","end":"2024-03-28T12:30","endType":\#(endType),
             "contactType":2,"activityPlace":1,"activityType":1,"indirectActivity":22,"conditions":["F102","Z5030"],"tariffs":["P12"]}
            """#)
    }

    static func death(messageId: String, person: String = persons[1], day: Int = 30) -> JSONValue {
        try! JSONValue.parse(
            #"{"messageId":"\#(messageId)","status":"N","personId":"\#(person)","deathDate":"2024-06-\#(day)","sex":1,"municipality":"4601"}"#)
    }

    static func population(messageId: String?, count: Int) -> JSONValue {
        let id = messageId.map { #""messageId":"\#($0)","# } ?? ""
        return try! JSONValue.parse(#"{\#(id)"year":2024,"municipality":"0301","sex":2,"age":35,"count":\#(count)}"#)
    }

    static let arrival = Date(timeIntervalSince1970: 1_717_200_000)  // 2024-06-01

    /// `records` of `kind` prepared against `ledger`'s unit register and decided, all reportable.
    static func decide(
        _ ledger: inout Ledger, _ kind: RecordKind, _ records: [JSONValue], submitter: Submitter = Submitter(channel: "http", reporter: "admin"),
        mayReport: @escaping @Sendable (Int, String) -> Bool = { _, _ in true }
    ) -> Decision {
        let prepared = ledger.preparer.prepareInOrder(kind: kind, records: records.map { .success($0) }, mayReport: mayReport)
        return ledger.decide(kind: kind, prepared: prepared, submitter: submitter, arrival: arrival)
    }

    static func newLedger() -> Ledger { Ledger(pseudonymizer: pseudonymizer, restoring: LedgerState(units: units)) }
}

extension RecordPreparer {
    /// Preparation on the calling thread (the tests' records are few).
    func prepareInOrder(kind: RecordKind, records: [Result<JSONValue, JSONParseError>], mayReport: (Int, String) -> Bool) -> [Prepared] {
        records.enumerated().map { prepare(kind: kind, index: $0.offset, $0.element, mayReport: mayReport) }
    }
}

extension Decision {
    var activityEvents: [ActivityEvent] { outputs.compactMap { if case .activity(let e, _) = $0 { e } else { nil } } }
    var deadLetters: [DeadLetter] { outputs.compactMap { if case .deadLetter(let d) = $0 { d } else { nil } } }
    var outcomeNames: [String] { outcomes.map(\.outcome) }
}

@Suite struct LedgerRuleTests {
    @Test func theSameMessageTwiceIsADuplicateAndPublishesNothing() {
        var ledger = Records.newLedger()
        let first = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1")])
        let state = ledger.state
        let again = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1")])
        #expect(first.receipt.accepted == 1 && first.activityEvents.count == 1)
        #expect(again.receipt.duplicates == 1 && again.receipt.accepted == 0)
        #expect(again.outputs.isEmpty && again.changes.messages.isEmpty && again.changes.routes.isEmpty)
        #expect(ledger.state == state)
    }

    @Test func aMessageIdReusedForOtherContentIsAConflict() {
        var ledger = Records.newLedger()
        _ = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1")])
        let d = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1", endType: 2)])
        #expect(d.receipt.rejected.map(\.index) == [0])
        #expect(d.receipt.rejected.first?.errors == [.conflict])
        #expect(d.activityEvents.isEmpty)
        // The dead letter names the message by its keyed hash and carries no clear person id.
        let letter = try! #require(d.deadLetters.first)
        #expect(letter.messageIdHash == Records.pseudonymizer.keyedHash("m1"))
        #expect(letter.record?.contains(Records.persons[0]) == false)
        #expect(letter.record?.contains("\"m1\"") == false)
    }

    @Test func messageIdsAreScopedByInstitutionAndByRegisterKind() {
        var ledger = Records.newLedger()
        let a = Records.decide(
            &ledger, .activity,
            [
                Records.activity(messageId: "m1", institution: Records.institutionA),
                Records.activity(messageId: "m1", institution: Records.institutionB, episode: "ep-9"),
            ])
        #expect(a.outcomeNames == ["accepted", "accepted"])
        let d = Records.decide(&ledger, .death, [Records.death(messageId: "m1")])
        let p = Records.decide(&ledger, .population, [Records.population(messageId: "m1", count: 5)])
        #expect(d.outcomeNames == ["accepted"] && p.outcomeNames == ["accepted"])
        #expect(Records.decide(&ledger, .death, [Records.death(messageId: "m1", day: 29)]).receipt.rejected.first?.errors == [.conflict])
    }

    @Test func populationCountsWithoutAMessageIdAreAlwaysPublished() {
        var ledger = Records.newLedger()
        let d = Records.decide(&ledger, .population, [Records.population(messageId: nil, count: 5), Records.population(messageId: nil, count: 6)])
        #expect(d.outcomeNames == ["accepted", "accepted"])
        #expect(d.outputs.count == 2 && d.changes.messages.isEmpty)
    }

    @Test func anotherVersionAtAnAcceptedRevisionIsARevisionConflictButTheSameVersionIsNot() {
        var ledger = Records.newLedger()
        _ = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1", revision: 1)])
        let d = Records.decide(
            &ledger, .activity,
            [
                Records.activity(messageId: "m2", status: .correction, revision: 1, endType: 2),  // other content at revision 1
                Records.activity(messageId: "m3", status: .correction, revision: 1),  // the same version, other id and status
                Records.activity(messageId: "m4", status: .annulment, revision: 1, endType: 3),  // an annulment is never a conflict
                Records.activity(messageId: "m5", status: .correction, revision: 2, endType: 2),
            ])
        #expect(d.outcomeNames == ["rejected", "accepted", "accepted", "accepted"])
        #expect(d.receipt.rejected.first?.errors.map(\.code) == [.revisionConflict])
    }

    @Test func aPersonIdCorrectedBetweenRevisionsHidesTheEpisodeInItsOldBucket() throws {
        var ledger = Records.newLedger()
        let old = PatientKey(rawValue: Records.pseudonymizer.keyedHash(Records.persons[0]))
        let new = PatientKey(rawValue: Records.pseudonymizer.keyedHash(Records.persons[1]))
        _ = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1", revision: 1, person: Records.persons[0])])
        let moved = Records.decide(&ledger, .activity, [Records.activity(messageId: "m2", status: .correction, revision: 2, person: Records.persons[1])])
        #expect(
            moved.activityEvents.map { [$0.kind.rawValue, $0.patientKey.rawValue, String($0.revision)] } == [
                ["version", new.rawValue, "2"], ["foreign", old.rawValue, "2"], ["foreign", new.rawValue, "1"],
            ])
        // Back to the first person id at revision 3: the old bucket shows it again, the new one hides it.
        let back = Records.decide(&ledger, .activity, [Records.activity(messageId: "m3", status: .correction, revision: 3, person: Records.persons[0])])
        #expect(
            back.activityEvents.map { [$0.kind.rawValue, $0.patientKey.rawValue, String($0.revision)] } == [
                ["version", old.rawValue, "3"], ["foreign", new.rawValue, "3"],
            ])
        let route = try #require(ledger.state.routes[EpisodeKey(institutionId: Records.institutionA, episodeId: "ep-1")])
        #expect(route.buckets == [old.rawValue: 3, new.rawValue: 3])
    }

    @Test func aBucketNewToAnEpisodeLearnsTheHighestRevisionElsewhere() {
        var ledger = Records.newLedger()
        _ = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1", revision: 5, person: Records.persons[0])])
        // An older revision arrives late under another person id: the new bucket gets a placeholder at 5, so
        // the stale version never shows there.
        let late = Records.decide(&ledger, .activity, [Records.activity(messageId: "m2", revision: 2, person: Records.persons[1])])
        let new = Records.pseudonymizer.keyedHash(Records.persons[1])
        #expect(late.activityEvents.contains { $0.kind == .foreign && $0.patientKey.rawValue == new && $0.revision == 5 })
    }

    @Test func recordsTheCallerMayNotReportForAreRejectedWithoutTouchingTheLedger() {
        var ledger = Records.newLedger()
        let before = ledger.state
        let d = Records.decide(
            &ledger, .activity, [Records.activity(messageId: "m1")], submitter: Submitter(httpCaller: [Records.institutionB]),
            mayReport: { _, institution in institution == Records.institutionB })
        #expect(d.receipt.rejected.first?.errors.map(\.code) == [.forbiddenInstitution])
        #expect(d.deadLetters.first?.reporter == Records.institutionB)
        #expect(ledger.state == before)
    }

    @Test func aUnitRegisterChangeReachesValidationOfLaterSubmissions() throws {
        let unknown = Records.activity(messageId: "m1")
        var withoutUnit = Ledger(pseudonymizer: Records.pseudonymizer)
        #expect(Records.decide(&withoutUnit, .activity, [unknown]).receipt.rejected.count == 1)
        let unitRecord = try JSONValue.parse(
            #"{"unitId":"UA","name":"Avrusning","institutionId":"974589095","institutionName":"Oslo","hfId":"974589095","hfName":"Oslo HF","rhf":"sor-ost","ownership":"public","detox":true,"validFrom":"2019-01-01"}"#
        )
        let registered = Records.decide(&withoutUnit, .unit, [unitRecord])
        #expect(registered.changes.units.map(\.unitId) == ["UA"])
        #expect(Records.decide(&withoutUnit, .activity, [unknown]).receipt.accepted == 1)
        #expect(withoutUnit.qualityReport().map(\.institutionName) == ["Oslo"])
    }

    @Test func aRollbackRestoresTheLedgerExactly() {
        var ledger = Records.newLedger()
        _ = Records.decide(&ledger, .activity, [Records.activity(messageId: "m1")])
        let before = ledger.state
        let d1 = Records.decide(&ledger, .activity, [Records.activity(messageId: "m2", status: .correction, revision: 2, person: Records.persons[2])])
        let d2 = Records.decide(&ledger, .death, [Records.death(messageId: "d1")])
        #expect(ledger.state != before)
        ledger.rollback(d2)
        ledger.rollback(d1)
        #expect(ledger.state == before)
    }
}

@Suite struct LedgerMemoryFormTests {
    @Test func aDigestIsTheFirstHalfOfTheSHA256AndReadsBackFromItsHex() throws {
        for text in ["", "activity|974589095|m1", String(repeating: "ø", count: 100)] {
            let digest = Digest128(sha256Of: text)
            #expect(Digest128(hex: sha256Hex(Array(text.utf8))) == digest)
            #expect(digest.hex == String(sha256Hex(Array(text.utf8)).prefix(32)))
            #expect(Digest128(hex: digest.hex) == digest)
        }
        #expect(Digest128(hex: "not hex at all, not hex at all!!") == nil)
        #expect(Digest128(hex: "abc") == nil)
    }

    @Test func routeRowsWrittenWithWholeHashesStillRead() throws {
        let whole = sha256Hex(Array("version".utf8))
        let old = #"{"buckets":{"p1":2},"quality":null,"revisions":{"1":"\#(whole)","2":"\#(whole)"}}"#
        let route = try EpisodeRoute(wireJSON: Array(old.utf8))
        #expect(route.revisions == [1: Digest128(hex: whole)!, 2: Digest128(hex: whole)!])
        #expect(try EpisodeRoute(wireJSON: route.wireJSON) == route)
    }
}
