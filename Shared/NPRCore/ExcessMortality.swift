import Foundation

/// Excess mortality Rate1/Rate2 with the Katz log 95 % interval (indicators.md §2):
/// exp(ln(RR) ± 1.959964 · sqrt(1/D1 − 1/N1 + 1/D2 − 1/N2)). Undefined when any part is 0.
public enum ExcessMortality {
    public static let z = 1.959964

    public struct Estimate: Hashable, Sendable {
        public var ratio: Double
        public var lower: Double
        public var upper: Double
    }

    public static func estimate(d1: Int, n1: Int, d2: Int, n2: Int) -> Estimate? {
        guard d1 > 0, n1 > 0, d2 > 0, n2 > 0 else { return nil }
        let rr = (Double(d1) / Double(n1)) / (Double(d2) / Double(n2))
        let se = (1 / Double(d1) - 1 / Double(n1) + 1 / Double(d2) - 1 / Double(n2)).squareRoot()
        return Estimate(ratio: rr, lower: exp(log(rr) - z * se), upper: exp(log(rr) + z * se))
    }
}
