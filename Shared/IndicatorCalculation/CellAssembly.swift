import NPRCore

/// The running sum of a cell's contributions.
public struct CellTotals: Hashable, Sendable {
    public var numerator = 0
    public var denominator = 0
    /// Contributing patient buckets (each contributes at most once).
    public var patients = 0
    public init() {}

    public mutating func add(_ c: Contribution) {
        numerator += c.numerator
        denominator += c.denominator
        patients += 1
    }
    public mutating func retract(_ c: Contribution) {
        numerator -= c.numerator
        denominator -= c.denominator
        patients -= 1
    }
}

/// Turns a cell's totals into the published `Cell`, joining what is read at cell-read time: the measure's
/// shape, names and parents from the unit register, the population behind a rate, the evaluation date.
public enum CellAssembly {
    public static func cell(
        _ key: CellKey, totals: CellTotals, units: UnitRegister, population: PopulationTable,
        asOf: LocalDate
    ) -> Cell {
        let shape = MeasureCatalogue.shape(of: key) ?? MeasureCatalogue.count
        let denominator: Int?
        let size: Int
        switch shape.formula {
        case .count:
            denominator = nil
            size = totals.numerator
        case .rate:
            denominator = population.adults(year: key.period.year, area: key.unit)
            size = totals.patients
        case .share, .ratio, .excessMortality:
            denominator = totals.denominator
            size = totals.denominator
        }
        let (parent, name) = placeMetadata(level: key.level, unit: key.unit, units: units)
        return Cell(
            key: key, formula: shape.formula, numerator: totals.numerator, denominator: denominator,
            scale: shape.scale, patients: totals.patients, size: size, parent: parent, unitName: name, asOf: asOf)
    }

    /// The parent cell's unit code and the display name of a place.
    static func placeMetadata(level: Level, unit: String, units: UnitRegister) -> (parent: String?, name: String?) {
        switch level {
        case .national: return (nil, "Norge")
        case .rhf, .bostedRHF: return ("NO", RHF(rawValue: unit)?.name)
        case .hf:
            let representative = units.representative(ofHF: unit)
            return (representative?.rhf.rawValue, representative?.hfName)
        case .unit: return (units[unit]?.hfId, units[unit]?.name)
        case .helsefellesskap: return (MunicipalityRegister.rhf(ofHelsefellesskap: unit)?.rawValue, unit)
        }
    }
}
