import Foundation
import Kafka
import ServiceRuntime
import Testing

/// Burrow's rules, one by one, on windows of offset samples a second apart.
struct LagEvaluationTests {
    /// Samples with the given committed offsets and end offsets (log start 0).
    func window(_ committed: [Int64?], _ end: [Int64], logStart: Int64 = 0) -> [OffsetSample] {
        zip(committed, end).enumerated().map { i, pair in OffsetSample(at: Double(i), committed: pair.0, logStart: logStart, end: pair.1) }
    }

    @Test func caughtUpAtAnyMomentIsOK() {
        #expect(LagEvaluation.partition(window([10, 20, 30], [10, 40, 90])).status == .ok)
        #expect(LagEvaluation.partition(window([0, 0], [0, 0])).status == .ok)
    }

    @Test func progressingWithLagThatDoesNotGrowEveryIntervalIsOK() {
        // A streaming consumer: lag goes up and down while it commits.
        #expect(LagEvaluation.partition(window([100, 300, 500, 800], [400, 700, 800, 1200])).status == .ok)
    }

    @Test func lagGrowingInEveryIntervalWhileProgressingIsWARN() {
        let e = LagEvaluation.partition(window([100, 150, 200, 250], [200, 300, 400, 500]))
        #expect(e.status == .warn)
        #expect(e.reason.contains("grew"))
    }

    @Test func noProgressWhileLaggingIsSTALLWithAMemberAndSTOPWithout() {
        let stuck = window([100, 100, 100], [200, 200, 250])
        #expect(LagEvaluation.partition(stuck).status == .stall)
        #expect(LagEvaluation.partition(stuck, membersAssigned: true, lagSeconds: 61).status == .stall)
        #expect(LagEvaluation.partition(stuck, membersAssigned: false, lagSeconds: 61).status == .stop)
    }

    /// A service between commits (or in a long flush) has not stalled: only WARN until the oldest
    /// unprocessed message is `stallAfter` old.
    @Test func aPauseShorterThanTheStallTimeIsOnlyWARN() {
        let paused = window([100, 100, 100], [200, 300, 400])
        let e = LagEvaluation.partition(paused, membersAssigned: true, lagSeconds: 12, stallAfter: 60)
        #expect(e.status == .warn)
        #expect(e.reason.contains("12 s old"))
        #expect(LagEvaluation.partition(paused, lagSeconds: 60, stallAfter: 60).status == .stall)
    }

    @Test func anOffsetMovingBackwardsIsREWIND() {
        #expect(LagEvaluation.partition(window([500, 400, 450], [900, 900, 900])).status == .rewind)
    }

    @Test func aPositionBelowTheLogStartIsSTOPAndTheGroupERR() {
        let lost = LagEvaluation.partition(window([5, 5], [900, 900], logStart: 100))
        #expect(lost.status == .stop)
        #expect(lost.reason.contains("95 messages"))
        // Nothing committed means the services read from offset 0, which this log no longer has.
        #expect(LagEvaluation.partition(window([nil], [900], logStart: 100)).status == .stop)
        #expect(LagEvaluation.group([.ok, .stop]) == .err)
    }

    @Test func aSingleLaggingSampleWarnsWithoutATrend() {
        #expect(LagEvaluation.partition(window([10], [20])).status == .warn)
    }

    @Test func theGroupTakesItsWorstPartition() {
        #expect(LagEvaluation.group([]) == .ok)
        #expect(LagEvaluation.group([.ok, .ok]) == .ok)
        #expect(LagEvaluation.group([.ok, .warn]) == .warn)
        #expect(LagEvaluation.group([.rewind, .ok]) == .warn)
        #expect(LagEvaluation.group([.warn, .stall]) == .err)
    }

    /// Random windows: the status follows from the rules' definitions, checked independently.
    @Test func randomWindowsFollowTheRules() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let n = Int.random(in: 1...6, using: &rng)
            var committed: [Int64] = [], end: [Int64] = []
            var c = Int64.random(in: 0...50, using: &rng), e = c + Int64.random(in: 0...50, using: &rng)
            for _ in 0..<n {
                c += Int64.random(in: -5...30, using: &rng)
                c = max(0, c)
                e = max(e + Int64.random(in: 0...30, using: &rng), c)
                committed.append(c)
                end.append(e)
            }
            let w = window(committed, end)
            let lagSeconds = Double.random(in: 0...120, using: &rng)
            let status = LagEvaluation.partition(w, lagSeconds: lagSeconds, stallAfter: 60).status
            let lags = zip(committed, end).map { $1 - $0 }
            if lags.contains(0) {
                #expect(status == .ok)
                continue
            }
            if zip(committed, committed.dropFirst()).contains(where: { $1 < $0 }) {
                #expect(status == .rewind)
                continue
            }
            if n == 1 {
                #expect(status == .warn)
                continue
            }
            if committed.first == committed.last {
                #expect(status == (lagSeconds >= 60 ? .stall : .warn))
                continue
            }
            let grewEveryInterval = zip(lags, lags.dropFirst()).allSatisfy { $1 > $0 }
            #expect(status == (grewEveryInterval ? .warn : .ok))
        }
    }
}

struct ConsumerAssignmentTests {
    /// Kafka's consumer-protocol assignment, written out by hand: version 1, two topics, user data.
    @Test func readsTheConsumerProtocolAssignment() {
        func int16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func int32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(v >> $0 & 0xFF) } }
        func string(_ s: String) -> [UInt8] { int16(s.utf8.count) + Array(s.utf8) }
        let bytes =
            int16(1) + int32(2) + string("npr.activities") + int32(2) + int32(0) + int32(5)
            + string("npr.units") + int32(1) + int32(0) + int32(3) + [1, 2, 3]
        #expect(
            ConsumerAssignment.partitions(bytes) == [TopicPartition("npr.activities", 0), TopicPartition("npr.activities", 5), TopicPartition("npr.units", 0)])
        #expect(ConsumerAssignment.partitions([]) == [])
        // Cut anywhere before the last partition's end (the user data, length and bytes, follows): not an assignment.
        for cut in 1..<(bytes.count - 7) { #expect(ConsumerAssignment.partitions(Array(bytes.prefix(cut))) == nil, "cut at \(cut)") }
    }
}
