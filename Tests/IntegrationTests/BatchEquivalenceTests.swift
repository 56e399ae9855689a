import ActivityIndicators
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MortalityIndicators
import NPRCore
import PipelineReference
import Publishing
import StayLinking
import SyntheticData
import Testing

/// The running pipeline equals a from-scratch computation over the same messages: a synthetic set with
/// corrections and annulments is sent in shuffled order; once caught up, every published value must equal
/// what fresh engines compute from the final episode versions alone.
@Suite(.serialized) struct BatchEquivalenceTests {
    static let asOf = LocalDate(year: 2024, month: 12, day: 31)!

    @Test func shuffledStreamWithCorrectionsEqualsBatch() async throws {
        try await runAndCompare(seed: 11, kills: 0)
    }

    /// kill -9 of random stateful services at random moments during the stream, each restarted at once:
    /// nothing lost, nothing counted twice.
    @Test func killingServicesAtRandomMomentsChangesNothing() async throws {
        try await runAndCompare(seed: 12, kills: 4)
    }

    func runAndCompare(seed: UInt64, kills: Int) async throws {
        var config = SyntheticConfig.small(year: 2024, seed: seed)
        config.patients = 250
        let data = SyntheticGenerator.generate(config)
        #expect(data.activities.contains { $0.status == .correction } && data.activities.contains { $0.status == .annulment })

        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": Self.asOf.description])
        defer { pipeline.stop() }
        let procs = pipeline.services
        let intake = pipeline.intake, publisher = pipeline.publisher
        let encoder = JSONEncoder()
        func post(_ path: String, _ body: Data) async throws {
            let r = try await HTTP.request(path.hasSuffix("units") ? "PUT" : "POST", intake + path, body: body, token: "dev-admin-token")
            #expect(r.status == 200)
            #expect(((r.json as? [String: Any])?["rejected"] as? [Any])?.isEmpty == true, "\(path) rejected records")
        }
        try await post("/v1/reference/units", try encoder.encode(data.units))
        for chunk in stride(from: 0, to: data.population.count, by: 20_000) {
            try await post("/v1/population", try encoder.encode(Array(data.population[chunk..<min(chunk + 20_000, data.population.count)])))
        }
        var rng = SplitMix64(seed: seed &* 7)
        let shuffled = data.activities.shuffled(using: &rng)
        let chunks = Array(stride(from: 0, to: shuffled.count, by: 300))
        let killAfter = Set((0..<kills).map { _ in Int.random(in: 0..<chunks.count, using: &rng) })
        var killed = 0
        for (n, chunk) in chunks.enumerated() {
            try await post("/v1/activities", try encoder.encode(Array(shuffled[chunk..<min(chunk + 300, shuffled.count)])))
            if killAfter.contains(n) {
                // A stateful service dies mid-stream, at whatever point of its loop it happens to be.
                let victim = procs[Int.random(in: 1..<procs.count, using: &rng)]
                let before = victim.process.processIdentifier
                victim.kill9()
                #expect(victim.process.terminationReason == .uncaughtSignal)
                try victim.start()
                #expect(victim.process.processIdentifier != before)
                killed += 1
            }
        }
        #expect(killed == killAfter.count && (kills == 0 || killed > 0))
        try await post("/v1/deaths", try encoder.encode(data.deaths))

        try await waitUntil(.seconds(300), "pipeline caught up") {
            ((try await HTTP.request("GET", publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }
        let published = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", publisher + "/v1/indicators").body)
        let expected = FromScratch.publishedValues(data, asOf: Self.asOf)
        #expect(published.count == expected.count)
        let mismatches = FromScratch.differences(published: published, expected: expected)
        #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(5))")
    }
}
