import NPRCore

/// One published measure of `tsb-overdodelighet` (indicators.md §2): how the publisher computes its value
/// and which sex's aggregate it reads.
struct MortalityMeasure: Sendable {
    let name: String
    let formula: ValueFormula
    let sex: Sex

    /// Rates are per 100 000 persons.
    var scale: Double? { formula == .rate ? 100_000 : nil }

    static let all: [MortalityMeasure] = [
        MortalityMeasure(name: "hovedmaltall", formula: .excessMortality, sex: .all),
        MortalityMeasure(name: "maltall-2", formula: .rate, sex: .all),
        MortalityMeasure(name: "maltall-3", formula: .count, sex: .all),
        MortalityMeasure(name: "maltall-4", formula: .excessMortality, sex: .male),
        MortalityMeasure(name: "maltall-5", formula: .excessMortality, sex: .female),
        MortalityMeasure(name: "maltall-6", formula: .rate, sex: .male),
        MortalityMeasure(name: "maltall-7", formula: .rate, sex: .female),
        MortalityMeasure(name: "maltall-8", formula: .count, sex: .male),
        MortalityMeasure(name: "maltall-9", formula: .count, sex: .female),
    ]
    private static let byName: [String: MortalityMeasure] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    private static let bySex: [Sex: [MortalityMeasure]] = Dictionary(grouping: all, by: \.sex)

    static func named(_ name: String) -> MortalityMeasure? { byName[name] }
    /// The measures that read the aggregate of `sex`.
    static func reading(_ sex: Sex) -> [MortalityMeasure] { bySex[sex] ?? [] }

    func key(year: Int, unit: MortalityUnit) -> CellKey {
        CellKey(indicator: .overdodelighet, measure: name, period: .year(year), level: unit.level, unit: unit.code, sex: sex)
    }

    /// The cell's parts: numerator `D1` and denominator `N1` for every measure (the sex-specific ones:
    /// that sex's), all four mortality parts, and `N1` as the size secondary suppression compares.
    func cell(year: Int, unit: MortalityUnit, tally: Tally, asOf: LocalDate) -> Cell {
        Cell(
            key: key(year: year, unit: unit), formula: formula, numerator: tally.d1, denominator: tally.n1, scale: scale,
            patients: tally.n1, size: tally.n1, parent: unit.parent, unitName: unit.name,
            d1: tally.d1, n1: tally.n1, d2: tally.d2, n2: tally.n2, asOf: asOf)
    }
}
