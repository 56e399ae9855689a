import NPRCore

/// Secondary suppression (indicators.md, common rules, **Decision**): no suppressed cell may be derivable by
/// subtraction within a group.
///
/// Groups: (a) the children of one parent for the same indicator, measure, period and sex (members share
/// `level` and `parent`; the parent is not a member; national cells and cells without a parent belong to
/// none); (b) the tertials of one year for the same indicator, measure, level, unit and sex (the year cell is
/// not a member; only tertials that exist are members).
///
/// Simultaneous rounds: on the state at the start of a round, every group with exactly one suppressed member
/// picks its unsuppressed member with the smallest size (ties: smallest period, then unit code, as strings);
/// all picks of the round are then suppressed; repeat until no group picks. A group whose only suppressed
/// member has no unsuppressed sibling picks nothing (the Decision leaves it so).
public enum SecondarySuppression {
    public struct Member: Sendable, Hashable {
        public var key: CellKey
        /// The size compared when picking (stays in the denominator, `N1`, or the count).
        public var size: Int
        /// The parent cell's unit code (nil for national).
        public var parent: String?
        /// Suppressed before secondary suppression (primary); `undefined` cells are not.
        public var suppressed: Bool

        public init(key: CellKey, size: Int, parent: String?, suppressed: Bool) {
            self.key = key
            self.size = size
            self.parent = parent
            self.suppressed = suppressed
        }
    }

    /// The keys that must be suppressed secondarily. Groups never cross one (indicator, measure, sex, year),
    /// so callers may pass one such component at a time or several at once.
    public static func picks(among members: [Member]) -> Set<CellKey> {
        let groups = groups(of: members)
        var groupsOfMember = [[Int]](repeating: [], count: members.count)
        for (g, group) in groups.enumerated() { for m in group { groupsOfMember[m].append(g) } }
        let periodText = members.map { $0.key.period.description }
        func picksBefore(_ a: Int, _ b: Int) -> Bool {
            (members[a].size, periodText[a], members[a].key.unit) < (members[b].size, periodText[b], members[b].key.unit)
        }

        var suppressed = members.map(\.suppressed)
        var picked = Set<Int>()
        // Only groups that gained a suppressed member can change their mind, so each round rechecks those.
        var groupsToCheck = Set(groups.indices)
        while true {
            var roundPicks = Set<Int>()
            for g in groupsToCheck {
                let group = groups[g]
                guard group.lazy.filter({ suppressed[$0] }).count == 1,
                    let pick = group.filter({ !suppressed[$0] }).min(by: picksBefore)
                else { continue }
                roundPicks.insert(pick)
            }
            if roundPicks.isEmpty { break }
            groupsToCheck = []
            for m in roundPicks {
                suppressed[m] = true
                picked.insert(m)
                groupsToCheck.formUnion(groupsOfMember[m])
            }
        }
        return Set(picked.map { members[$0].key })
    }

    private enum GroupKey: Hashable {
        case siblings(Indicator, String, Sex, Period, Level, parent: String)
        case tertials(Indicator, String, Sex, Level, unit: String, year: Int)
    }

    /// The groups as lists of member positions.
    private static func groups(of members: [Member]) -> [[Int]] {
        var groups: [GroupKey: [Int]] = [:]
        for (i, member) in members.enumerated() {
            let k = member.key
            if k.level != .national, let parent = member.parent {
                groups[.siblings(k.indicator, k.measure, k.sex, k.period, k.level, parent: parent), default: []].append(i)
            }
            if case .tertial(let year, _) = k.period {
                groups[.tertials(k.indicator, k.measure, k.sex, k.level, unit: k.unit, year: year), default: []].append(i)
            }
        }
        return Array(groups.values)
    }
}
