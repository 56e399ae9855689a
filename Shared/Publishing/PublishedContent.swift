import NPRCore

/// Everything a published value shows apart from its key, revision and `updatedAt`: the part whose
/// change bumps the revision.
public struct PublishedContent: Codable, Sendable, Hashable {
    public var numerator: Int?
    public var denominator: Int?
    public var value: Double?
    public var ciLower: Double?
    public var ciUpper: Double?
    public var status: PublishedStatus
    public var unitName: String?
    public var asOf: LocalDate

    public init(
        numerator: Int?, denominator: Int?, value: Double?, ciLower: Double?, ciUpper: Double?,
        status: PublishedStatus, unitName: String?, asOf: LocalDate
    ) {
        self.numerator = numerator
        self.denominator = denominator
        self.value = value
        self.ciLower = ciLower
        self.ciUpper = ciUpper
        self.status = status
        self.unitName = unitName
        self.asOf = asOf
    }

    /// The cell's content after primary suppression (status `ok`, `undefined` or `suppressed-primary`).
    ///
    /// Primary suppression is checked first for every family, so it takes precedence over `undefined`
    /// (spec §2 says so for mortality; for the other families a cell with an empty denominator has fewer
    /// than 5 patients anyway).
    public init(cell: Cell) {
        let parts = PublishedParts(cell: cell)
        self.init(
            numerator: parts.numerator, denominator: parts.denominator, value: nil, ciLower: nil, ciUpper: nil,
            status: .ok, unitName: cell.unitName, asOf: cell.asOf)
        if PrimarySuppression.applies(to: cell) {
            self = hidden(as: .suppressedPrimary)
            return
        }
        switch cell.formula {
        case .count:
            value = Double(cell.numerator)
        case .share, .ratio:
            value = Self.quotient(cell.numerator, cell.denominator)
        case .rate:
            // A rate without a scale is a plain quotient.
            value = Self.quotient(cell.numerator, cell.denominator).map { $0 * (cell.scale ?? 1) }
        case .excessMortality:
            if let d1 = cell.d1, let n1 = cell.n1, let d2 = cell.d2, let n2 = cell.n2,
                let estimate = ExcessMortality.estimate(d1: d1, n1: n1, d2: d2, n2: n2)
            {
                value = estimate.ratio
                ciLower = estimate.lower
                ciUpper = estimate.upper
            }
        }
        if value == nil { status = .undefined }
    }

    public var isSuppressed: Bool { status == .suppressedPrimary || status == .suppressedSecondary }

    /// The same content with every figure hidden, as a suppressed value is published.
    public func hidden(as status: PublishedStatus) -> PublishedContent {
        PublishedContent(
            numerator: nil, denominator: nil, value: nil, ciLower: nil, ciUpper: nil,
            status: status, unitName: unitName, asOf: asOf)
    }

    private static func quotient(_ numerator: Int, _ denominator: Int?) -> Double? {
        guard let denominator, denominator != 0 else { return nil }
        return Double(numerator) / Double(denominator)
    }
}

/// The numerator and denominator a cell publishes: `D1` and `N1` for every mortality measure
/// (interfaces.md), the count alone for count measures of the other families, both otherwise.
struct PublishedParts {
    var numerator: Int
    var denominator: Int?

    init(cell: Cell) {
        if cell.key.indicator == .overdodelighet {
            numerator = cell.d1 ?? cell.numerator
            denominator = cell.n1 ?? cell.denominator
        } else {
            numerator = cell.numerator
            denominator = cell.formula == .count ? nil : cell.denominator
        }
    }
}

/// Primary suppression, per family (indicators.md §1–§4).
public enum PrimarySuppression {
    /// Smallest number of distinct patients (or cohort persons) a published figure may rest on.
    public static let minimumPatients = 5

    /// Mortality: `D1` from 1 to 4, or `N1` below 5. Every other family: fewer than 5 distinct patients
    /// behind the cell (a cell with 0 patients is hidden too; such cells are not expected to exist).
    public static func applies(to cell: Cell) -> Bool {
        switch cell.key.indicator {
        case .overdodelighet:
            let parts = PublishedParts(cell: cell)
            return (1..<minimumPatients).contains(parts.numerator) || (parts.denominator ?? 0) < minimumPatients
        case .avbrudd, .nokkeltall, .poliklinikk:
            return cell.patients < minimumPatients
        }
    }
}
