import EpisodeLinking
import Foundation
import IndicatorCalculation
import Kafka
import MortalityLinking
import NPRCore
import PipelineReference
import Publishing
import SyntheticData
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The running pipeline equals a from-scratch computation over the same messages: a synthetic set with
/// corrections and annulments is sent in shuffled order; once caught up, every published value must equal
/// what fresh engines compute from the final episode versions alone.
@Suite(.serialized) struct BatchEquivalenceTests {
    static let asOf = LocalDate(year: 2024, month: 12, day: 31)!

    @Test func shuffledStreamWithCorrectionsEqualsBatch() async throws {
        try await runAndCompare(seed: 11, killsPerService: 0)
    }

    /// Chaos: SIGKILL of every service, intake included and in the middle of requests, at random moments of
    /// the stream (`NPR_CHAOS_KILLS` per service, 3 here; the long variant: `NPR_CHAOS_KILLS=20 swift test
    /// --filter killingEveryService`); the sender retries as clients do. Nothing is lost or counted twice, and
    /// afterwards no clear person id is on any topic, in any log, metric or state file.
    @Test func killingEveryServiceAtRandomMomentsChangesNothing() async throws {
        let perService = Int(ProcessInfo.processInfo.environment["NPR_CHAOS_KILLS"] ?? "") ?? 3
        try await runAndCompare(seed: 12, killsPerService: perService)
    }

    /// Broker faults through the embedded broker's fault injection while the stream runs: raised latency,
    /// request errors on produce, fetch and offset commit, every broker down for 10 s. The same equality,
    /// and no service exits or wedges.
    @Test func brokerFaultsChangeNothing() async throws {
        try await runAndCompare(seed: 13, killsPerService: 0, brokerFaults: true)
    }

    /// Fault injection commands of `kafka-dev-broker`, by the sixth of the stream at which they start.
    static let brokerFaults: [[String]] = [
        ["rtt 1 150", "rtt 2 150", "rtt 3 150"],
        ["error 0 7 25"],  // Produce: REQUEST_TIMED_OUT
        ["error 1 7 25"],  // Fetch
        ["error 8 15 25"],  // OffsetCommit: COORDINATOR_NOT_AVAILABLE
        ["rtt 1 0", "rtt 2 0", "rtt 3 0", "down 1", "down 2", "down 3"],  // outage, ended 10 s later
    ]

    func runAndCompare(seed: UInt64, killsPerService: Int, brokerFaults: Bool = false) async throws {
        var config = SyntheticConfig.small(year: 2024, seed: seed)
        config.patients = 250
        let data = SyntheticGenerator.generate(config)
        #expect(data.activities.contains { $0.status == .correction } && data.activities.contains { $0.status == .annulment })

        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": Self.asOf.description])
        defer { pipeline.stop() }
        let intake = pipeline.intake, publisher = pipeline.publisher
        let encoder = JSONEncoder()
        // As a client does: resend the same request until it is answered 200 (intake may be down or
        // restarting); every answered record is accepted or a duplicate of one accepted earlier.
        @Sendable func post(_ path: String, _ body: Data, records: Int) async throws {
            var reply: HTTP.Reply?
            try await waitUntil(.seconds(120), "\(path) answered") {
                reply = try await HTTP.request(path.hasSuffix("units") ? "PUT" : "POST", intake + path, body: body, token: "dev-admin-token")
                return reply?.status == 200
            }
            let receipt = reply?.json as? [String: Any]
            #expect(((receipt?["rejected"] as? [Any])?.isEmpty) == true, "\(path) rejected records")
            #expect((receipt?["accepted"] as? Int ?? 0) + (receipt?["duplicates"] as? Int ?? 0) == records)
        }
        try await post("/v1/reference/units", try encoder.encode(data.units), records: data.units.count)
        for chunk in stride(from: 0, to: data.population.count, by: 20_000) {
            let part = Array(data.population[chunk..<min(chunk + 20_000, data.population.count)])
            try await post("/v1/population", try encoder.encode(part), records: part.count)
        }
        var rng = SplitMix64(seed: seed &* 7)
        let shuffled = data.activities.shuffled(using: &rng)
        let size = killsPerService == 0 ? (brokerFaults ? 100 : 300) : max(20, shuffled.count / (Pipeline.names.count * killsPerService * 2))
        let chunks = Array(stride(from: 0, to: shuffled.count, by: size))
        // Which service dies during which chunk: every service `killsPerService` times, in random order.
        var victims = Array(repeating: Pipeline.names, count: killsPerService).flatMap { $0 }.shuffled(using: &rng)
        let killDuring = Dictionary(uniqueKeysWithValues: zip(Array(0..<chunks.count).shuffled(using: &rng).prefix(victims.count).sorted(), victims))
        victims = []
        var kills: [String: Int] = [:]
        let pids = pipeline.services.map(\.process.processIdentifier)
        let faultAt =
            brokerFaults ? Dictionary(uniqueKeysWithValues: Self.brokerFaults.enumerated().map { ($0.offset * chunks.count / 6 + 1, $0.element) }) : [:]
        var faults = 0
        for (n, chunk) in chunks.enumerated() {
            let part = Array(shuffled[chunk..<min(chunk + size, shuffled.count)])
            let body = try encoder.encode(part)
            let request = Task { try await post("/v1/activities", body, records: part.count) }
            for command in faultAt[n] ?? [] {
                #expect(try pipeline.broker.command(command) == "OK", "\(command)")
                faults += 1
            }
            if faultAt[n]?.contains("down 1") == true {
                // The outage lasts 10 s, whatever the services do meanwhile.
                try await Task.sleep(for: .seconds(10))
                for b in 1...3 { #expect(try pipeline.broker.command("up \(b)") == "OK") }
            }
            if let name = killDuring[n] {
                // In the middle of the request (or of whatever the service is doing), then restarted at once.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...60, using: &rng)))
                let victim = pipeline[name]
                victim.kill9()
                #expect(victim.process.terminationReason == .uncaughtSignal)
                try victim.start()
                kills[name, default: 0] += 1
            }
            try await request.value
        }
        #expect(kills.values.reduce(0, +) == killDuring.count)
        #expect(!brokerFaults || faults == Self.brokerFaults.joined().count)
        #expect(killsPerService == 0 || Pipeline.names.allSatisfy { kills[$0] == killsPerService }, "kills per service: \(kills)")
        try await post("/v1/deaths", try encoder.encode(data.deaths), records: data.deaths.count)

        try await waitUntil(.seconds(300), "pipeline caught up") {
            ((try await HTTP.request("GET", publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }
        let published = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", publisher + "/v1/indicators").body)
        let expected = FromScratch.publishedValues(data, asOf: Self.asOf)
        #expect(published.count == expected.count)
        let mismatches = FromScratch.differences(published: published, expected: expected)
        #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(5))")
        if killsPerService == 0 && !brokerFaults {
            try checkStatisticalViews(publisher)
            try await checkReportingQuality(publisher, sent: shuffled, data: data)
        }
        if killsPerService > 0 { try await privacyScan(pipeline, data) }
        if brokerFaults {
            #expect(pipeline.services.allSatisfy { $0.process.isRunning }, "a service exited under broker faults")
            #expect(pipeline.services.map(\.process.processIdentifier) == pids)
        }
    }

    /// No clear person id of the inputs on any topic (keys, values, headers), in any log, metric label or
    /// file of the state directory (stores included). Reports where, never the id.
    func privacyScan(_ pipeline: Pipeline, _ data: SyntheticDataset) async throws {
        let ids = Set(data.activities.compactMap(\.patient.personId) + data.deaths.map(\.personId))
        #expect(ids.count > 200)
        func leaks(_ text: String) -> Bool { containsAny(of: ids, in: text.utf8) }
        var leaking: [String] = []
        let topics = Topic.catalogue.map(\.name)
        for m in try await readTopics(pipeline.broker.bootstrap, topics) {
            if containsAny(of: ids, in: (m.key ?? []) + (m.value ?? []) + m.headers.flatMap { Array($0.0.utf8) + $0.1 }) {
                leaking.append("topic \(m.topic)")
            }
        }
        for service in pipeline.services {
            let metrics = String(decoding: try await HTTP.request("GET", service.base + "/metrics").body, as: UTF8.self)
            if leaks(metrics) { leaking.append("metrics of \(service.name)") }
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: pipeline.state) {
            if containsAny(of: ids, in: try Data(contentsOf: URL(fileURLWithPath: pipeline.state + "/" + file))) { leaking.append("file \(file)") }
        }
        #expect(leaking.isEmpty, "clear person ids in: \(Set(leaking).sorted())")
    }
}
