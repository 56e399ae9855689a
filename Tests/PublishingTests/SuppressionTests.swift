import NPRCore
import Testing

@testable import Publishing

/// Hand-computed secondary-suppression cases (indicators.md, the Decision).
@Suite struct SuppressionTests {
    /// A region-level cell of `tsb-nokkeltall`/`pasienter`, a count whose size is the count itself.
    func region(_ code: String, _ period: String, size: Int, patients: Int? = nil) -> Cell {
        makeCell(
            .nokkeltall, measure: "pasienter", period: period, level: .bostedRHF, unit: code, formula: .count,
            numerator: size, denominator: nil, patients: patients ?? size, size: size, parent: "NO")
    }

    func national(_ period: String, size: Int = 1000) -> Cell {
        makeCell(
            .nokkeltall, measure: "pasienter", period: period, formula: .count, numerator: size, denominator: nil,
            patients: size, size: size)
    }

    func key(_ cell: Cell) -> String { cell.key.string }

    @Test func oneSmallChildUnderAPublishedParentForcesTheSmallestSibling() {
        let cells = [
            national("2024"), region("sor-ost", "2024", size: 3), region("vest", "2024", size: 50),
            region("midt-norge", "2024", size: 20), region("nord", "2024", size: 35),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[0])] == .ok)
        #expect(s[key(cells[1])] == .suppressedPrimary)
        #expect(s[key(cells[3])] == .suppressedSecondary)
        #expect(s[key(cells[2])] == .ok && s[key(cells[4])] == .ok)
    }

    @Test func secondarySuppressionHidesTheFigures() {
        let cells = [national("2024"), region("sor-ost", "2024", size: 3), region("vest", "2024", size: 50)]
        let vest = publishAll(cells)[key(cells[2])]!
        #expect(vest.status == .suppressedSecondary)
        #expect(vest.numerator == nil && vest.denominator == nil && vest.value == nil)
    }

    @Test func oneSmallTertialForcesTheSmallestOtherTertial() {
        let cells = [
            national("2024", size: 60), national("2024-T1", size: 3), national("2024-T2", size: 40),
            national("2024-T3", size: 30),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[1])] == .suppressedPrimary)
        #expect(s[key(cells[3])] == .suppressedSecondary)
        #expect(s[key(cells[2])] == .ok)
        #expect(s[key(cells[0])] == .ok, "the year is the tertials' parent, not a member")
    }

    @Test func twoSuppressedMembersNeedNothingMore() {
        let cells = [
            national("2024"), region("sor-ost", "2024", size: 3), region("vest", "2024", size: 4),
            region("nord", "2024", size: 20),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[3])] == .ok)
    }

    /// Three regions × three tertials, only A-T1 small. Rounds, on the state at the start of each:
    ///  1. T1 siblings pick B1 (10 < 30); A's tertials pick A2 (8 < 20).
    ///  2. T2 siblings {A2} pick C2 (4 < 5); B's tertials {B1} pick B2 (5 < 50) — both, simultaneously.
    ///  3. C's tertials {C2} pick C3 (9 < 30).
    ///  4. T3 siblings {C3} pick A3 (20 < 50).
    /// Then every group has 0 or ≥ 2 suppressed members. Picking one at a time would have stopped
    /// after B2 without C2, C3, A3.
    @Test func chainsRunInSimultaneousRounds() {
        let sizes: [String: [Int]] = ["A": [2, 8, 20], "B": [10, 5, 50], "C": [30, 4, 9]]
        var cells = ["2024", "2024-T1", "2024-T2", "2024-T3"].map { national($0) }
        for (code, tertials) in sizes {
            cells.append(region(code, "2024", size: 500))
            for (t, size) in tertials.enumerated() {
                // Sizes below 5 other than A-T1 keep enough patients to pass primary suppression.
                cells.append(region(code, "2024-T\(t + 1)", size: size, patients: code == "A" && t == 0 ? 2 : 5))
            }
        }
        let s = statuses(publishAll(cells))
        func status(_ code: String, _ t: Int) -> PublishedStatus? { s["tsb-nokkeltall|pasienter|2024-T\(t)|bosted-rhf|\(code)|all"] }
        #expect(status("A", 1) == .suppressedPrimary)
        let secondary = Set(s.filter { $0.value == .suppressedSecondary }.keys)
        let expected: Set<String> = ["B|1", "A|2", "C|2", "B|2", "C|3", "A|3"].map {
            let p = $0.split(separator: "|")
            return "tsb-nokkeltall|pasienter|2024-T\(p[1])|bosted-rhf|\(p[0])|all"
        }.reduce(into: []) { $0.insert($1) }
        #expect(secondary == expected)
    }

    @Test func tiesGoToTheSmallerUnitCodeAsAString() {
        // "10" < "9" as strings.
        let cells = [
            national("2024"), region("small", "2024", size: 2), region("9", "2024", size: 12),
            region("10", "2024", size: 12), region("8", "2024", size: 13),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[3])] == .suppressedSecondary)
        #expect(s[key(cells[2])] == .ok)
    }

    @Test func tiesGoToTheSmallerPeriod() {
        let cells = [
            national("2024", size: 60), national("2024-T1", size: 9), national("2024-T2", size: 7),
            national("2024-T3", size: 3),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[3])] == .suppressedPrimary)
        #expect(s[key(cells[2])] == .suppressedSecondary)
        #expect(s[key(cells[1])] == .ok)
        let tied = [
            national("2024", size: 60), national("2024-T1", size: 2), national("2024-T2", size: 7),
            national("2024-T3", size: 7),
        ]
        let t = statuses(publishAll(tied))
        #expect(t[key(tied[2])] == .suppressedSecondary && t[key(tied[3])] == .ok)
    }

    @Test func undefinedMembersCountAsUnsuppressedAndCanBePicked() {
        // Mortality helsefellesskap under one RHF: one with D1 = 3 (primary); one with D1 = 0 (undefined ratio)
        // and the smallest N1, which is picked and loses its D1/N1.
        let cells = [
            mortalityCell(level: .rhf, unit: "vest", parent: "NO", d1: 40, n1: 5000),
            mortalityCell(level: .helsefellesskap, unit: "Bergen", parent: "vest", d1: 3, n1: 900),
            mortalityCell(level: .helsefellesskap, unit: "Fonna", parent: "vest", d1: 0, n1: 300),
            mortalityCell(level: .helsefellesskap, unit: "Stavanger", parent: "vest", d1: 20, n1: 1500),
        ]
        let values = publishAll(cells)
        #expect(values[key(cells[1])]!.status == .suppressedPrimary)
        let fonna = values[key(cells[2])]!
        #expect(fonna.status == .suppressedSecondary && fonna.numerator == nil && fonna.denominator == nil)
        #expect(values[key(cells[3])]!.status == .ok)
    }

    @Test func anUndefinedSiblingIsNoProtection() {
        // The only other child is undefined (D1 = 0): it still publishes D1 and N1, so it is picked. Were
        // undefined counted as suppressed, the group would already hold two and nothing would be picked.
        let cells = [
            mortalityCell(level: .rhf, unit: "nord", parent: "NO", d1: 0, n1: 800),
            mortalityCell(level: .rhf, unit: "vest", parent: "NO", d1: 2, n1: 900),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[1])] == .suppressedPrimary)
        #expect(s[key(cells[0])] == .suppressedSecondary)
    }

    @Test func groupsKeepSexesMeasuresAndParentsApart() {
        let small = region("vest", "2024", size: 2)
        var otherSex = region("nord", "2024", size: 10)
        otherSex.key.sex = .male
        var otherMeasure = region("nord", "2024", size: 10)
        otherMeasure.key.measure = "dognpasienter"
        let hf = makeCell(level: .hf, unit: "hf-1", numerator: 1, denominator: 10, patients: 10, parent: "vest")
        let s = statuses(publishAll([small, otherSex, otherMeasure, hf]))
        #expect(s[key(small)] == .suppressedPrimary)
        #expect(s[key(otherSex)] == .ok && s[key(otherMeasure)] == .ok && s[key(hf)] == .ok)
    }

    @Test func aSingletonGroupPicksNothing() {
        let cells = [national("2024"), region("vest", "2024", size: 2)]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[0])] == .ok)
        #expect(s[key(cells[1])] == .suppressedPrimary)
    }

    @Test func avbruddHierarchyCascadesDownLevels() {
        // hf-1 is small: its sibling hf-2 (the only other child of vest) is picked. Suppressing hf-2 leaves its
        // own children untouched (a parent is not a member of its children's group).
        let cells = [
            makeCell(patients: 100),
            makeCell(level: .rhf, unit: "vest", numerator: 20, denominator: 60, patients: 55, parent: "NO"),
            makeCell(level: .rhf, unit: "nord", numerator: 20, denominator: 40, patients: 40, parent: "NO"),
            makeCell(level: .hf, unit: "hf-1", numerator: 1, denominator: 5, patients: 4, parent: "vest"),
            makeCell(level: .hf, unit: "hf-2", numerator: 19, denominator: 55, patients: 51, parent: "vest"),
            makeCell(level: .unit, unit: "u-1", numerator: 9, denominator: 25, patients: 24, parent: "hf-2"),
            makeCell(level: .unit, unit: "u-2", numerator: 10, denominator: 30, patients: 27, parent: "hf-2"),
        ]
        let s = statuses(publishAll(cells))
        #expect(s[key(cells[3])] == .suppressedPrimary)
        #expect(s[key(cells[4])] == .suppressedSecondary)
        #expect(s[key(cells[5])] == .ok && s[key(cells[6])] == .ok && s[key(cells[1])] == .ok)
    }
}
