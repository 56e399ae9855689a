import Foundation
import IntakeLedger
import IntakeValidation
import NPRCore
import SyntheticData
import Testing

/// Random activity streams with duplicates, reused message ids, revision conflicts, annulments and person ids
/// corrected between revisions, decided by the ledger, checked against rules stated independently of it.
@Suite struct LedgerPropertyTests {
    /// One generated record, by the fields that make versions differ.
    struct Draft: Hashable {
        var messageId: String
        var status: EpisodeStatus
        var revision: Int
        var institution: String
        var episode: String
        var person: Int
        var endType: Int
        var startDay: Int

        var record: JSONValue {
            Records.activity(
                messageId: messageId, status: status, revision: revision, institution: institution, episode: episode, person: Records.persons[person],
                endType: endType, startDay: startDay)
        }
        var episodeKey: EpisodeKey { EpisodeKey(institutionId: institution, episodeId: episode) }
        /// What `PreparedActivity.version` hashes: everything but `messageId` and `status`.
        var version: [String] { [String(revision), institution, episode, String(person), String(endType), String(startDay)] }
    }

    static func stream(seed: UInt64) -> [Draft] {
        var rng = SplitMix64(seed: seed)
        let count = rng.int(40...160)
        var drafts: [Draft] = []
        for _ in 0..<count {
            if !drafts.isEmpty && rng.chance(0.15) {
                drafts.append(rng.pick(drafts))  // redelivery
                continue
            }
            let status: EpisodeStatus = rng.chance(0.4) ? .new : rng.chance(0.6) ? .correction : .annulment
            drafts.append(
                Draft(
                    messageId: "m\(rng.int(0...count))", status: status, revision: rng.int(1...4),
                    institution: rng.chance(0.5) ? Records.institutionA : Records.institutionB, episode: "ep-\(rng.int(1...3))",
                    person: rng.int(0...2), endType: rng.int(1...2), startDay: rng.int(1...2)))
        }
        return drafts
    }

    /// Which records a from-scratch reading of the stream accepts, in arrival order: a message id (per institution)
    /// is taken once, a resend of the same content is a duplicate and other content a conflict; a version other than
    /// the one accepted at its revision is a revision conflict; an annulment never is.
    static func acceptedByRule(_ drafts: [Draft]) -> [String] {
        var messages: [String: Draft] = [:]
        var versions: [String: [String]] = [:]
        return drafts.map { d in
            let messageKey = d.institution + "|" + d.messageId
            if let earlier = messages[messageKey] { return earlier == d ? "duplicate" : "rejected" }
            let versionKey = d.episodeKey.description + "|\(d.revision)"
            if d.status != .annulment, let accepted = versions[versionKey], accepted != d.version { return "rejected" }
            messages[messageKey] = d
            if d.status != .annulment { versions[versionKey] = d.version }
            return "accepted"
        }
    }

    @Test(arguments: 1...200)
    func everyBucketShowsAnEpisodeAsTheWholeHistoryWould(seed: UInt64) throws {
        let drafts = Self.stream(seed: seed)
        var ledger = Records.newLedger()
        var rng = SplitMix64(seed: seed, stream: 1)
        var decisions: [Decision] = []
        var rest = drafts[...]
        while !rest.isEmpty {
            let n = min(rest.count, rng.int(1...12))
            decisions.append(Records.decide(&ledger, .activity, rest.prefix(n).map(\.record)))
            rest = rest.dropFirst(n)
        }
        let outcomes = decisions.flatMap(\.outcomeNames)
        let expectedOutcomes = Self.acceptedByRule(drafts)
        #expect(outcomes == expectedOutcomes)

        // Every bucket's slots, the events applied in a shuffled order (buckets live on different partitions).
        var slots: [String: EpisodeSlot] = [:]
        for e in decisions.flatMap(\.activityEvents).shuffled(using: &rng) {
            let key = e.patientKey.rawValue + "|" + e.episodeKey.description
            if slots[key] == nil { slots[key] = EpisodeSlot.initial(e) } else { slots[key]!.apply(e) }
        }
        // The whole history: the highest accepted revision decides; an annulment at it removes the episode.
        let accepted = zip(drafts, expectedOutcomes).filter { $0.1 == "accepted" }.map(\.0)
        let preparer = ledger.preparer
        for (episodeKey, versions) in Dictionary(grouping: accepted, by: \.episodeKey) {
            let top = versions.map(\.revision).max()!
            let final = versions.contains { $0.revision == top && $0.status == .annulment } ? nil : versions.first { $0.revision == top }
            var expected: [String: Episode] = [:]
            if let final, case .activity(let a) = preparer.prepare(kind: .activity, index: 0, .success(final.record), mayReport: { _, _ in true }) {
                expected[a.episode.patientKey.rawValue] = a.episode
            }
            let visible = slots.filter { $0.key.hasSuffix("|" + episodeKey.description) && $0.value.episode != nil }
            #expect(
                Dictionary(uniqueKeysWithValues: visible.map { (String($0.key.prefix { $0 != "|" }), $0.value.episode!) }) == expected,
                "episode \(episodeKey)")
        }
    }

    @Test(arguments: 1...100)
    func theStoredChangesRestoreTheLedgerAndItDecidesOnAsBefore(seed: UInt64) {
        let drafts = Self.stream(seed: seed).map(\.record)
        var rng = SplitMix64(seed: seed, stream: 2)
        let cut = rng.int(0...drafts.count)
        var live = Records.newLedger()
        var stored = LedgerState(units: Records.units)
        for record in drafts[..<cut] { stored.apply(Records.decide(&live, .activity, [record]).changes) }
        #expect(stored == live.state)
        var restored = Ledger(pseudonymizer: Records.pseudonymizer, restoring: stored)
        let onLive = Records.decide(&live, .activity, Array(drafts[cut...]))
        let onRestored = Records.decide(&restored, .activity, Array(drafts[cut...]))
        #expect(onLive.outputs == onRestored.outputs)
        #expect(onLive.receipt == onRestored.receipt)
        #expect(live.state == restored.state)
    }

    @Test(arguments: 1...100)
    func roundsRolledBackLeaveTheLedgerAsIfTheyNeverCame(seed: UInt64) {
        let drafts = Self.stream(seed: seed).map(\.record)
        var rng = SplitMix64(seed: seed, stream: 3)
        var ledger = Records.newLedger(), reference = Records.newLedger()
        var rest = drafts[...]
        while !rest.isEmpty {
            // A round: a few submissions decided one after another, then published and committed, or all undone.
            var round: [[JSONValue]] = []
            for _ in 0..<rng.int(1...3) where !rest.isEmpty {
                let n = min(rest.count, rng.int(1...5))
                round.append(Array(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            let decisions = round.map { Records.decide(&ledger, .activity, $0) }
            if rng.chance(0.3) {
                for d in decisions.reversed() { ledger.rollback(d) }
            } else {
                for (submission, d) in zip(round, decisions) {
                    let expected = Records.decide(&reference, .activity, submission)
                    #expect(d.outputs == expected.outputs && d.receipt == expected.receipt)
                }
            }
            #expect(ledger.state == reference.state)
        }
    }
}
