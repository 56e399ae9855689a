import Foundation

/// SplitMix64: a tiny seeded generator whose integer stream is the same on every platform and Swift
/// version (the standard library's `random(in:using:)` algorithms are not promised to stay fixed, so
/// every draw below is computed here; normal draws use the platform's `log`/`cos`). `init(seed:stream:)` derives independent streams, so a person's or a
/// municipality's values depend only on the seed and its own id, never on how many draws came before.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in `range` (multiply-high, bias below 2^-40 for the ranges used here).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = 1 - unit(), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Log-normal with the given mean and log-scale spread `sigma`.
    public mutating func logNormal(mean: Double, sigma: Double) -> Double {
        exp(log(mean) - sigma * sigma / 2 + sigma * normal())
    }

    /// Poisson by inversion (the rates used here are small).
    public mutating func poisson(_ lambda: Double) -> Int {
        guard lambda > 0 else { return 0 }
        if lambda > 30 { return max(0, Int((lambda + lambda.squareRoot() * normal()).rounded())) }
        var k = 0, p = exp(-lambda), cumulative = p
        let u = unit()
        while u > cumulative {
            k += 1
            p *= lambda / Double(k)
            cumulative += p
        }
        return k
    }
}

/// A fixed categorical distribution: draw with a binary search over the cumulative weights.
struct Weighted<Value: Sendable>: Sendable {
    let values: [Value]
    private let cumulative: [Double]

    init(_ pairs: [(Value, Double)]) {
        precondition(!pairs.isEmpty && pairs.allSatisfy { $0.1 >= 0 })
        values = pairs.map(\.0)
        var running = 0.0
        cumulative = pairs.map {
            running += $0.1
            return running
        }
        precondition(running > 0)
    }

    func draw(_ rng: inout SplitMix64) -> Value {
        let target = rng.unit() * cumulative[cumulative.count - 1]
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return values[low]
    }
}
