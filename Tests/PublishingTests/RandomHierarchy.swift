import NPRCore
import SyntheticData

@testable import Publishing

/// A random additive hierarchy of `tsb-avbrudd`-shaped share cells for property tests: every parent's
/// numerator, denominator and patients are the sums of its children's, and a year's the sums of its tertials'.
/// Every parent has at least two children, so every group has at least two members.
struct RandomHierarchy {
    struct Node {
        var level: Level
        var code: String
        var parent: String?
        var children: [Int]
    }

    var nodes: [Node] = []
    var periods: [Period]
    var cells: [CellKey: Cell] = [:]

    /// `levels` from national downwards; `tertials`: cells for the three tertials besides the year.
    init(levels: [Level], tertials: Bool, rng: inout SplitMix64) {
        periods = tertials ? [.year(2024), .tertial(2024, 1), .tertial(2024, 2), .tertial(2024, 3)] : [.year(2024)]
        nodes.append(Node(level: levels[0], code: "NO", parent: nil, children: []))
        var frontier = [0]
        for level in levels.dropFirst() {
            var next: [Int] = []
            for parent in frontier {
                for _ in 0..<Int.random(in: 2...3, using: &rng) {
                    // Codes such as "h12" and "h5" order differently as strings than by number.
                    let code = "\(level.rawValue.prefix(1))\(nodes.count)"
                    nodes.append(Node(level: level, code: code, parent: nodes[parent].code, children: []))
                    nodes[parent].children.append(nodes.count - 1)
                    next.append(nodes.count - 1)
                }
            }
            frontier = next
        }
        let leafPeriods = tertials ? Array(periods.dropFirst()) : periods
        for leaf in frontier {
            for period in leafPeriods {
                let stays = Int.random(in: 1...14, using: &rng)
                let undefined = Int.random(in: 0..<20, using: &rng) == 0
                let patients = undefined ? Int.random(in: 5...9, using: &rng) : Int.random(in: 1...stays, using: &rng)
                let numerator = undefined ? 0 : Int.random(in: 0...stays, using: &rng)
                // An undefined leaf (nothing in the denominator, enough patients) keeps a size of its own.
                add(
                    node: leaf, period: period, numerator: numerator, denominator: undefined ? 0 : stays,
                    patients: patients, size: stays)
            }
            if tertials { addSum(node: leaf, period: periods[0], of: leafPeriods.map { key(leaf, $0) }) }
        }
        for index in nodes.indices.reversed() where !nodes[index].children.isEmpty {
            for period in periods {
                addSum(node: index, period: period, of: nodes[index].children.map { key($0, period) })
            }
        }
    }

    func key(_ node: Int, _ period: Period) -> CellKey {
        CellKey(indicator: .avbrudd, measure: "hovedmaltall", period: period, level: nodes[node].level, unit: nodes[node].code)
    }

    private mutating func add(node: Int, period: Period, numerator: Int, denominator: Int, patients: Int, size: Int) {
        let k = key(node, period)
        cells[k] = Cell(
            key: k, formula: .share, numerator: numerator, denominator: denominator, patients: patients,
            size: size, parent: nodes[node].parent, unitName: nil, asOf: asOf)
    }

    private mutating func addSum(node: Int, period: Period, of parts: [CellKey]) {
        let p = parts.map { cells[$0]! }
        let denominator = p.reduce(0) { $0 + $1.denominator! }
        add(
            node: node, period: period, numerator: p.reduce(0) { $0 + $1.numerator }, denominator: denominator,
            patients: p.reduce(0) { $0 + $1.patients }, size: p.reduce(0) { $0 + $1.size })
    }

    /// Every subtraction group, built from the hierarchy itself: (parent, members).
    var groups: [(parent: CellKey, members: [CellKey])] {
        var result: [(CellKey, [CellKey])] = []
        for index in nodes.indices {
            for period in periods where !nodes[index].children.isEmpty {
                result.append((key(index, period), nodes[index].children.map { key($0, period) }))
            }
            if periods.count > 1 { result.append((key(index, periods[0]), periods.dropFirst().map { key(index, $0) })) }
        }
        return result
    }
}
