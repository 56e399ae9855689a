import Testing
import NPRCore
@testable import ActivityIndicators

@Test func perfScratch() {
    let clock = ContinuousClock()
    var e = Fx.engine(asOf: "2025-01-15")
    var rng = SplitMix64(seed: 1)
    var changelogs: [StayChangelog] = []
    for p in 0..<3000 {
        var eps: [Episode] = []
        for n in 0..<40 {
            let day = Fx.date("2022-01-01").adding(days: Int.random(in: 0..<1100, using: &rng))
            let inpatient = n % 10 == 0
            eps.append(Fx.episode("e\(p)-\(n)", pseudonym: "p\(p)", municipality: ["0301", "4601", nil].randomElement(using: &rng)!,
                                  careLevel: inpatient ? 1 : 3, start: day.description,
                                  end: inpatient ? day.adding(days: 20).description : day.description, endType: 2,
                                  condition: ["F10", "F11", "Z5030"].randomElement(using: &rng)!, tariffs: ["P13"]))
        }
        let stays = eps.filter(\.isInpatient).flatMap { Fx.stays([$0]) }
        changelogs.append(Fx.changelog(eps, stays: stays))
    }
    let t0 = clock.now
    for c in changelogs { e.apply(c) }
    let t1 = clock.now
    _ = e.takeChangedCells()
    let t2 = clock.now
    // One more event for one heavy patient
    var c = changelogs[7]; c.sequence = 2
    for _ in 0..<100 { e.apply(c); c.sequence += 1 }
    let t3 = clock.now
    print("PERF apply 3000x40: \(t1 - t0), take: \(t2 - t1), 100 single-patient events: \(t3 - t2), cells: \(e.allCells.count)")
}
