import NPRCore

/// Several national years as one history, in the order a client sends it (`npr-bench national`, the
/// national-volume integration test).
///
/// Each year is `SyntheticConfig.nationalYear` (≈ 34 000 patients, ≈ 620 000 activity messages with
/// corrections and annulments), scaled by `scale`, with its own persons, population counts and deaths;
/// episode and message ids carry the year. Activities arrive shuffled within windows of `window` messages
/// (hospitals report roughly in time order, not in order within it), and a share `duplicates` of them is
/// sent a second time, within the next window.
public struct SyntheticHistory: Sendable {
    public var years = 6
    public var lastYear = 2024
    public var scale = 1.0
    public var duplicates = 0.01
    public var window = 20_000
    public var seed: UInt64 = 0x5EED_2024
    public init() {}

    /// The dataset (every distinct message once, for the from-scratch computation) and the activities in
    /// arrival order (with the duplicates).
    public func generate(progress: (Int, SyntheticDataset) -> Void = { _, _ in }) -> (all: SyntheticDataset, arrival: [ActivityMessage]) {
        var all = SyntheticDataset(units: SyntheticGenerator.units, activities: [], deaths: [], population: [])
        var arrival: [ActivityMessage] = []
        var rng = SplitMix64(seed: seed &* 31)
        for year in (lastYear - years + 1)...lastYear {
            var c = SyntheticConfig.nationalYear(year: year)
            c.seed = seed &+ UInt64(year)
            c.cohortYears = 0  // every year of the history is generated in full
            c.patients = max(10, Int((Double(c.patients) * scale).rounded()))
            var data = SyntheticGenerator.generate(c)
            for i in data.activities.indices {
                data.activities[i].episodeId = "\(year)-" + data.activities[i].episodeId
                data.activities[i].messageId = "\(year)-" + data.activities[i].messageId
            }
            for i in data.deaths.indices { data.deaths[i].messageId = "\(year)-" + data.deaths[i].messageId }
            all.activities += data.activities
            all.deaths += data.deaths
            all.population += data.population
            var carried: [ActivityMessage] = []
            for start in stride(from: 0, to: data.activities.count, by: window) {
                var batch = Array(data.activities[start..<min(start + window, data.activities.count)]) + carried
                carried = batch.filter { _ in Double(rng.next() % 1_000_000) / 1_000_000 < duplicates }
                batch.shuffle(using: &rng)
                arrival += batch
            }
            arrival += carried.shuffled(using: &rng)
            progress(year, data)
        }
        return (all, arrival)
    }
}
