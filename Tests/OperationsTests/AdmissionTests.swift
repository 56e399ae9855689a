import Foundation
import ServiceRuntime
import Testing

/// Intake's flow control on the latest lag sample: a request is held while a consumer is beyond its bound,
/// passes on a fresh admitting sample, and is never held on a sample the broker stopped renewing.
@Suite struct AdmissionTests {
    static let stale = Duration.seconds(5)

    func sample(admitting: Bool, at t: Double) -> Backpressure.Sample {
        Backpressure.Sample(admitting: admitting, group: "g", topic: "t", partition: 0, lag: admitting ? 10 : 9_000, bound: 4_000, sampledAt: t)
    }

    @Test func aNewRequestPassesOnARecentAdmittingSampleOnly() {
        #expect(Backpressure.admission(sample(admitting: true, at: 100), now: 100.5, waitingSince: nil, staleAfter: Self.stale) == .admit)
        // Admitting but older than a second: wait for a fresh one, so a burst cannot slip through on it.
        #expect(Backpressure.admission(sample(admitting: true, at: 100), now: 101.5, waitingSince: nil, staleAfter: Self.stale) == .wait)
        #expect(Backpressure.admission(sample(admitting: false, at: 100), now: 100.5, waitingSince: nil, staleAfter: Self.stale) == .wait)
    }

    @Test func aWaitingRequestNeedsAnAdmittingSampleTakenAfterItArrived() {
        #expect(Backpressure.admission(sample(admitting: true, at: 100), now: 101, waitingSince: 100.2, staleAfter: Self.stale) == .wait)
        #expect(Backpressure.admission(sample(admitting: true, at: 100.3), now: 101, waitingSince: 100.2, staleAfter: Self.stale) == .admit)
        #expect(Backpressure.admission(sample(admitting: false, at: 100.3), now: 101, waitingSince: 100.2, staleAfter: Self.stale) == .wait)
    }

    /// The broker is down: its lag queries time out, the last sample ages, and requests go on to publishing
    /// (which refuses them with 503 at once) instead of waiting the whole admission time for nothing.
    @Test func noSampleOrAStaleOneHoldsNothing() {
        for waitingSince in [nil, 100.0] {
            #expect(Backpressure.admission(nil, now: 100, waitingSince: waitingSince, staleAfter: Self.stale) == .admit)
            #expect(Backpressure.admission(sample(admitting: false, at: 100), now: 105.5, waitingSince: waitingSince, staleAfter: Self.stale) == .admit)
            #expect(Backpressure.admission(sample(admitting: false, at: 100), now: 104.5, waitingSince: waitingSince, staleAfter: Self.stale) == .wait)
        }
    }
}
