import NPRCore

/// Synthetic resident population on 1 January (SSB table 07459 shape): every 2024 municipality ×
/// sex 1/2 × age 0–100. Depends on the year only (it is reference data, not part of the seeded
/// sample). The largest municipalities get roughly their real size; the others a fixed log-normal
/// size; the total is scaled to about 5.55 million.
enum SyntheticPopulation {
    static let nationalTotal = 5_550_000.0
    static let maxAge = 100

    /// Approximate 2024 sizes of the largest municipalities (public SSB figures, rounded).
    static let knownSizes: [String: Double] = [
        "0301": 717_700, "4601": 292_000, "5001": 214_600, "1103": 149_000, "3201": 130_800, "4204": 117_000,
        "3301": 103_300, "3203": 98_500, "3205": 92_400, "3107": 84_500, "1108": 83_200, "5501": 78_700,
        "3907": 65_600, "3207": 62_000, "1508": 58_000, "3105": 58_800, "3905": 58_600, "4003": 55_900,
        "1804": 53_700, "3103": 51_000, "3909": 48_500, "3222": 48_000, "4203": 46_000, "3209": 42_000,
        "4626": 39_000, "1106": 38_000, "4001": 37_000, "1506": 32_500, "3403": 32_000, "3407": 31_000,
    ]

    /// 2024 municipality numbers, sorted (dictionary order is not stable between runs).
    static let municipalities: [String] = MunicipalityRegister.byNumber.keys.sorted()

    /// Total residents per municipality, aligned with `municipalities`.
    static let sizes: [Double] = {
        let raw = municipalities.map { number -> Double in
            if let known = knownSizes[number] { return known }
            var rng = SplitMix64(seed: 0x9090_5EED, stream: UInt64(number)!)
            return min(30_000, max(180, rng.logNormal(mean: 8_000, sigma: 1.1)))
        }
        // Summed in municipality order: dictionary order changes between runs, and so would the rounding.
        let knownTotal = municipalities.compactMap { knownSizes[$0] }.reduce(0, +)
        let otherTotal = raw.reduce(0, +) - knownTotal
        let scale = (nationalTotal - knownTotal) / otherTotal
        return zip(municipalities, raw).map { knownSizes[$0.0] != nil ? $0.1 : $0.1 * scale }
    }()

    /// Relative size of one age year: a flat, slowly ageing pyramid.
    static func ageWeight(_ age: Int) -> Double {
        switch age {
        case 0..<20: return 1.10
        case 20..<60: return 1.35
        case 60..<70: return 1.15
        case 70..<80: return 0.90 - Double(age - 70) * 0.03
        case 80..<90: return 0.55 - Double(age - 80) * 0.04
        default: return max(0.002, 0.15 - Double(age - 90) * 0.016)
        }
    }

    private static let ageWeightTotal = (0...maxAge).reduce(0.0) { $0 + ageWeight($1) }

    /// Share of a municipality's residents of `sex` and completed `age`; men a little more numerous
    /// until 70, women beyond.
    static func share(sex: Int, age: Int) -> Double {
        let maleShare = age < 70 ? 0.505 : max(0.35, 0.505 - Double(age - 70) * 0.006)
        return ageWeight(age) / ageWeightTotal * (sex == 1 ? maleShare : 1 - maleShare)
    }

    /// The count of one cell, with a small fixed per-cell variation (±4 %).
    static func count(municipalityIndex m: Int, sex: Int, age: Int, year: Int) -> Int {
        var rng = SplitMix64(seed: UInt64(year), stream: UInt64(m * 1_000 + sex * 200 + age))
        let expected = sizes[m] * share(sex: sex, age: age) * (0.96 + 0.08 * rng.unit())
        return Int(expected.rounded())
    }

    static func counts(year: Int) -> [PopulationCount] {
        var out: [PopulationCount] = []
        out.reserveCapacity(municipalities.count * 2 * (maxAge + 1))
        for (m, number) in municipalities.enumerated() {
            for sex in 1...2 {
                for age in 0...maxAge {
                    out.append(
                        PopulationCount(
                            messageId: "pop-\(year)-\(number)-\(sex)-\(age)", year: year, municipality: number,
                            sex: sex, age: age, count: count(municipalityIndex: m, sex: sex, age: age, year: year)))
                }
            }
        }
        return out
    }
}
