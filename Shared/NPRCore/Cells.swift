/// Aggregated cells: what the indicator-calculator and the mortality-linker publish on `npr.cells`
/// (compacted, keyed by `CellKey.string`), and what the publisher turns into `PublishedValue`s.

public enum Indicator: String, Codable, Sendable, Hashable, CaseIterable {
    case avbrudd = "tsb-avbrudd"
    case overdodelighet = "tsb-overdodelighet"
    case nokkeltall = "tsb-nokkeltall"
    case poliklinikk = "tsb-poliklinikk"
}

public enum Level: String, Codable, Sendable, Hashable, CaseIterable {
    case national, rhf, hf, unit, helsefellesskap
    case bostedRHF = "bosted-rhf"
}

public enum Sex: String, Codable, Sendable, Hashable, CaseIterable {
    case all, male, female
}

public struct CellKey: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var indicator: Indicator
    public var measure: String
    public var period: Period
    public var level: Level
    /// `NO` for national; RHF code; hfId; unitId; helsefellesskap name.
    public var unit: String
    public var sex: Sex
    public init(indicator: Indicator, measure: String, period: Period, level: Level, unit: String, sex: Sex = .all) {
        self.indicator = indicator
        self.measure = measure
        self.period = period
        self.level = level
        self.unit = unit
        self.sex = sex
    }
    /// `indicator|measure|period|level|unit|sex`: the Kafka key of cells and published values.
    public var string: String { "\(indicator.rawValue)|\(measure)|\(period)|\(level.rawValue)|\(unit)|\(sex.rawValue)" }
    public var description: String { string }
    public init?(string: String) {
        let p = string.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard p.count == 6, let i = Indicator(rawValue: p[0]), let per = Period(p[2]), let l = Level(rawValue: p[3]),
            let s = Sex(rawValue: p[5])
        else { return nil }
        self.init(indicator: i, measure: p[1], period: per, level: l, unit: p[4], sex: s)
    }
    public static func < (a: CellKey, b: CellKey) -> Bool { a.string < b.string }
}

/// How the publisher turns a cell's parts into its value.
public enum ValueFormula: String, Codable, Sendable, Hashable {
    /// value = numerator; denominator published as null.
    case count
    /// value = numerator / denominator (null when the denominator is 0).
    case share
    /// value = numerator / denominator · scale (per 100 000, per 10 000, …).
    case rate
    /// value = numerator / denominator (e.g. contacts per patient).
    case ratio
    /// Rate1/Rate2 with the Katz log CI, from d1, n1, d2, n2 (tsb-overdodelighet).
    case excessMortality = "excess-mortality"
}

public struct Cell: Codable, Sendable, Hashable {
    public var key: CellKey
    public var formula: ValueFormula
    public var numerator: Int
    public var denominator: Int?
    public var scale: Double?
    /// Distinct patients behind the value (episodes without a pseudonym count as one each): decides
    /// primary suppression for every family but mortality.
    public var patients: Int
    /// The size secondary suppression compares (stays in the denominator, N1, or the count itself).
    public var size: Int
    /// The unit code of the parent cell in the level hierarchy (nil for national).
    public var parent: String?
    public var unitName: String?
    /// Mortality parts (D1, N1, D2, N2); nil for the other families.
    public var d1: Int?, n1: Int?, d2: Int?, n2: Int?
    /// The evaluation date the cell was computed for.
    public var asOf: LocalDate

    public init(
        key: CellKey, formula: ValueFormula, numerator: Int, denominator: Int?, scale: Double? = nil,
        patients: Int, size: Int, parent: String?, unitName: String?, d1: Int? = nil, n1: Int? = nil,
        d2: Int? = nil, n2: Int? = nil, asOf: LocalDate
    ) {
        self.key = key
        self.formula = formula
        self.numerator = numerator
        self.denominator = denominator
        self.scale = scale
        self.patients = patients
        self.size = size
        self.parent = parent
        self.unitName = unitName
        self.d1 = d1
        self.n1 = n1
        self.d2 = d2
        self.n2 = n2
        self.asOf = asOf
    }
}

/// A cell update on `npr.cells`: the cell's absolute current content, or its removal (no contributions
/// left). Absolute values make redelivery and replay harmless.
public struct CellUpdate: Codable, Sendable, Hashable {
    public var key: CellKey
    public var cell: Cell?
    public init(key: CellKey, cell: Cell?) {
        self.key = key
        self.cell = cell
    }
}

public enum PublishedStatus: String, Codable, Sendable, Hashable {
    case ok
    case suppressedPrimary = "suppressed-primary"
    case suppressedSecondary = "suppressed-secondary"
    case undefined
}

/// The published record (interfaces.md `PublishedValue`).
public struct PublishedValue: Codable, Sendable, Hashable {
    public var indicator: String
    public var measure: String
    public var period: String
    public var level: String
    public var unit: String
    public var unitName: String?
    public var sex: String
    public var numerator: Int?
    public var denominator: Int?
    public var value: Double?
    public var ciLower: Double?
    public var ciUpper: Double?
    public var status: PublishedStatus
    public var revision: Int
    public var asOf: LocalDate
    public var updatedAt: String

    public init(
        indicator: String, measure: String, period: String, level: String, unit: String, unitName: String?, sex: String,
        numerator: Int?, denominator: Int?, value: Double?, ciLower: Double?, ciUpper: Double?,
        status: PublishedStatus, revision: Int, asOf: LocalDate, updatedAt: String
    ) {
        self.indicator = indicator
        self.measure = measure
        self.period = period
        self.level = level
        self.unit = unit
        self.unitName = unitName
        self.sex = sex
        self.numerator = numerator
        self.denominator = denominator
        self.value = value
        self.ciLower = ciLower
        self.ciUpper = ciUpper
        self.status = status
        self.revision = revision
        self.asOf = asOf
        self.updatedAt = updatedAt
    }

    public var key: String { "\(indicator)|\(measure)|\(period)|\(level)|\(unit)|\(sex)" }

    enum CodingKeys: String, CodingKey {
        case indicator, measure, period, level, unit, unitName, sex, numerator, denominator, value, ciLower, ciUpper, status, revision, asOf, updatedAt
    }

    // Nullable fields are always present (explicit null), as in the spec's example.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(indicator, forKey: .indicator)
        try c.encode(measure, forKey: .measure)
        try c.encode(period, forKey: .period)
        try c.encode(level, forKey: .level)
        try c.encode(unit, forKey: .unit)
        try c.encode(unitName, forKey: .unitName)
        try c.encode(sex, forKey: .sex)
        try c.encode(numerator, forKey: .numerator)
        try c.encode(denominator, forKey: .denominator)
        try c.encode(value, forKey: .value)
        try c.encode(ciLower, forKey: .ciLower)
        try c.encode(ciUpper, forKey: .ciUpper)
        try c.encode(status, forKey: .status)
        try c.encode(revision, forKey: .revision)
        try c.encode(asOf, forKey: .asOf)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}
