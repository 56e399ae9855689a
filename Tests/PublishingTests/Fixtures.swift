import NPRCore

@testable import Publishing

let asOf = LocalDate("2025-03-01")!

/// A cell with defaults that publish `ok`; size defaults to the denominator, or the numerator.
func makeCell(
    _ indicator: Indicator = .avbrudd, measure: String = "hovedmaltall", period: String = "2024",
    level: Level = .national, unit: String = "NO", sex: Sex = .all, formula: ValueFormula = .share,
    numerator: Int = 10, denominator: Int? = 50, scale: Double? = nil, patients: Int = 40, size: Int? = nil,
    parent: String? = nil, unitName: String? = nil,
    d1: Int? = nil, n1: Int? = nil, d2: Int? = nil, n2: Int? = nil
) -> Cell {
    let key = CellKey(indicator: indicator, measure: measure, period: Period(period)!, level: level, unit: unit, sex: sex)
    return Cell(
        key: key, formula: formula, numerator: numerator, denominator: denominator, scale: scale,
        patients: patients, size: size ?? denominator ?? numerator, parent: parent, unitName: unitName,
        d1: d1, n1: n1, d2: d2, n2: n2, asOf: asOf)
}

/// A mortality cell as the mortality linker would send it: numerator D1, denominator N1, size N1.
func mortalityCell(
    measure: String = "hovedmaltall", level: Level = .national, unit: String = "NO", sex: Sex = .all,
    parent: String? = nil, d1: Int, n1: Int, d2: Int = 400, n2: Int = 1_000_000
) -> Cell {
    let formula: ValueFormula
    switch measure {
    case "hovedmaltall", "maltall-4", "maltall-5": formula = .excessMortality
    case "maltall-2", "maltall-6", "maltall-7": formula = .rate
    default: formula = .count
    }
    return makeCell(
        .overdodelighet, measure: measure, period: "2024", level: level, unit: unit, sex: sex, formula: formula,
        numerator: d1, denominator: n1, scale: formula == .rate ? 100_000 : nil, patients: n1, size: n1,
        parent: parent, d1: d1, n1: n1, d2: d2, n2: n2)
}

/// Publishes `cells` through a fresh engine and returns the values by key string.
func publishAll(_ cells: [Cell]) -> [String: PublishedValue] {
    var engine = PublisherEngine()
    for cell in cells { engine.apply(CellUpdate(key: cell.key, cell: cell)) }
    let (changed, _) = engine.publish(now: "2025-03-01T10:00:00Z")
    return Dictionary(uniqueKeysWithValues: changed.map { ($0.key, $0) })
}

func statuses(_ values: [String: PublishedValue]) -> [String: PublishedStatus] { values.mapValues(\.status) }
