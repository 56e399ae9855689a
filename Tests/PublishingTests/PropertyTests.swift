import NPRCore
import SyntheticData
import Testing

@testable import Publishing

@Suite struct PropertyTests {
    static let shapes: [(levels: [Level], tertials: Bool)] = [
        ([.national, .rhf, .hf, .unit], true),  // tsb-avbrudd
        ([.national, .rhf, .helsefellesskap], false),  // tsb-overdodelighet
        ([.national, .bostedRHF], true),  // tsb-nokkeltall
    ]

    /// On random hierarchies, try every single-subtraction derivation (parent minus the other members) and
    /// check that none reveals a suppressed cell.
    @Test(arguments: 0..<3) func noSuppressedCellIsDerivableBySubtraction(shape: Int) {
        var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(shape))
        var secondaryCount = 0
        for _ in 0..<150 {
            let h = RandomHierarchy(levels: Self.shapes[shape].levels, tertials: Self.shapes[shape].tertials, rng: &rng)
            let values = publishAll(Array(h.cells.values))
            #expect(values.count == h.cells.count)
            func published(_ k: CellKey) -> PublishedValue { values[k.string]! }
            func isSuppressed(_ k: CellKey) -> Bool { [.suppressedPrimary, .suppressedSecondary].contains(published(k).status) }
            secondaryCount += values.values.filter { $0.status == .suppressedSecondary }.count

            for group in h.groups {
                let suppressedMembers = group.members.filter(isSuppressed)
                #expect(suppressedMembers.count != 1, "group of \(group.parent) has exactly one suppressed member")
                guard !isSuppressed(group.parent) else { continue }
                for hidden in suppressedMembers {
                    let others = group.members.filter { $0 != hidden }
                    guard others.allSatisfy({ !isSuppressed($0) }) else { continue }
                    // Everything needed is published: the derivation succeeds, which must never happen.
                    let parent = published(group.parent)
                    let numerator = parent.numerator! - others.reduce(0) { $0 + published($1).numerator! }
                    let denominator = parent.denominator! - others.reduce(0) { $0 + published($1).denominator! }
                    #expect(
                        numerator != h.cells[hidden]!.numerator || denominator != h.cells[hidden]!.denominator,
                        "\(hidden) derivable from \(group.parent)")
                }
            }
        }
        #expect(secondaryCount > 100, "the generator must exercise secondary suppression")
    }

    /// Secondary suppression applied to the union of several components equals it applied to each alone, and
    /// does not depend on the members' order.
    @Test func suppressionIsLocalToItsComponentAndOrderFree() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let a = RandomHierarchy(levels: [.national, .rhf, .hf], tertials: true, rng: &rng)
            var b = RandomHierarchy(levels: [.national, .bostedRHF], tertials: true, rng: &rng)
            b.cells = Dictionary(
                uniqueKeysWithValues: b.cells.values.map { cell in
                    var c = cell
                    c.key.measure = "maltall-2"
                    return (c.key, c)
                })
            func members(_ cells: some Sequence<Cell>) -> [SecondarySuppression.Member] {
                cells.map { .init(key: $0.key, size: $0.size, parent: $0.parent, suppressed: $0.patients < 5) }
            }
            let alone = SecondarySuppression.picks(among: members(a.cells.values))
                .union(SecondarySuppression.picks(among: members(b.cells.values)))
            let together = members(a.cells.values) + members(b.cells.values)
            #expect(SecondarySuppression.picks(among: together.shuffled(using: &rng)) == alone)
        }
    }

    /// Incremental updates with publishes in between end in the same published content as one batch over
    /// the final cells; every key's revision equals the number of times it was published as changed.
    @Test func incrementalPublishingMatchesBatch() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<60 {
            let h = RandomHierarchy(levels: [.national, .rhf, .hf, .unit], tertials: true, rng: &rng)
            var engine = PublisherEngine()
            var current: [CellKey: Cell] = [:]
            var changes: [String: Int] = [:]
            var clock = 0
            let keys = h.cells.keys.sorted()
            for _ in 0..<400 {
                let k = keys.randomElement(using: &rng)!
                var cell: Cell? = h.cells[k]
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: cell = nil
                case 1...3: cell!.patients = Int.random(in: 1...12, using: &rng)
                case 4: cell!.numerator = Int.random(in: 0...cell!.denominator!, using: &rng)
                default: break
                }
                current[k] = cell
                engine.apply(CellUpdate(key: k, cell: cell))
                if Int.random(in: 0..<25, using: &rng) == 0 {
                    clock += 1
                    for v in engine.publish(now: "t\(clock)").changed { changes[v.key, default: 0] += 1 }
                }
            }
            clock += 1
            let last = engine.publish(now: "t\(clock)")
            for v in last.changed { changes[v.key, default: 0] += 1 }
            #expect(engine.publish(now: "later") == ([], []) as ([PublishedValue], [String]))

            let batch = publishAll(current.values.compactMap { $0 })
            let incremental = engine.values(indicator: nil, measure: nil, period: nil, level: nil, unit: nil, sex: nil)
            #expect(incremental.count == batch.count)
            for v in incremental {
                var expected = batch[v.key]!
                expected.revision = v.revision
                expected.updatedAt = v.updatedAt
                #expect(v == expected)
                #expect(v.revision == changes[v.key])
            }
        }
    }
}
