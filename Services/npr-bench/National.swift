import Foundation
import NPRCore
import PipelineReference
import Publishing
import StreamCodec
import SyntheticData

/// `npr-bench national`: a generated national history (`SyntheticHistory`) written as the files a client
/// sends (NDJSON), and the published values a from-scratch computation gives for them (`expected.json`, and
/// the data-quality report's stay figures in `expected-stays.json`);
/// then `scripts/national_bench.py` streams the files through intake's HTTP API into the running stack and
/// measures it (see README, Benchmarks).
enum National {
    static func generate(_ history: SyntheticHistory, out: String, reference computeReference: Bool) throws {
        let started = ContinuousClock.now
        let (all, arrival) = history.generate { year, data in
            print("generated \(year): \(data.activities.count) activity messages, \(data.deaths.count) deaths, \(data.population.count) population counts")
        }
        let units = all.units
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let asOf = LocalDate(year: history.lastYear, month: 12, day: 31)!
        try write(arrival, to: out + "/activities.ndjson")
        try write(all.deaths, to: out + "/deaths.ndjson")
        try write(all.population, to: out + "/population.ndjson")
        try JSONEncoder().encode(units).write(to: URL(fileURLWithPath: out + "/units.json"))
        try write(MunicipalityRegister.knownNumbers.map(MunicipalityFacts.init), to: out + "/municipalities.ndjson")
        try Data(asOf.description.utf8).write(to: URL(fileURLWithPath: out + "/as-of.txt"))
        print(
            "wrote \(arrival.count) activity messages (\(arrival.count - all.activities.count) duplicates), \(all.deaths.count) deaths, \(all.population.count) population counts to \(out)"
        )

        guard computeReference else { return }
        let reference = ContinuousClock.now
        let expected = FromScratch.publishedValues(all, asOf: asOf)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(expected.values.sorted { $0.key < $1.key }).write(to: URL(fileURLWithPath: out + "/expected.json"))
        // The data-quality report's stay figures, which the publisher's /v1/quality must equal too.
        try encoder.encode(FromScratch.stayEndTypeRows(all)).write(to: URL(fileURLWithPath: out + "/expected-stays.json"))
        print(
            String(
                format: "from-scratch reference: %d published values in %.1f s (generation %.1f s)", expected.count,
                (ContinuousClock.now - reference).seconds, (reference - started).seconds))
    }

    /// One JSON document per line, encoded on every core.
    static func write<T: Encodable & Sendable>(_ items: [T], to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        for start in stride(from: 0, to: items.count, by: 50_000) {
            let lines = try BatchCodec.map(Array(items[start..<min(start + 50_000, items.count)])) { item -> [UInt8] in
                let encoder = JSONEncoder()
                return Array(try encoder.encode(item)) + [0x0A]
            }
            var chunk: [UInt8] = []
            chunk.reserveCapacity(lines.reduce(0) { $0 + $1.count })
            for l in lines { chunk += l }
            try handle.write(contentsOf: chunk)
        }
    }

}

/// What an independent batch engine needs to know of a municipality number (2024 numbering applied).
struct MunicipalityFacts: Codable, Sendable {
    var number: String
    var rhf: String?
    var helsefellesskap: String?
    var split: Bool
    init(_ number: String) {
        self.number = number
        let r = MunicipalityRegister.resolve(number)
        rhf = r.region?.rhf.rawValue
        helsefellesskap = r.region?.helsefellesskap
        if case .splitAcrossRegions = r { split = true } else { split = false }
    }
}
