import Foundation
import NPRCore
import PipelineReference
import SyntheticData
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two instances of every service on one state directory and one consumer group each: one owns the service's
/// state, the other waits as a standby that answers only health and metrics. The owner of every service is
/// killed (kill -9) twice in the middle of a shuffled stream with corrections; the standby takes over each
/// time and the killed one comes back as the standby. The sender goes to whichever intake answers (as a load
/// balancer would), and once caught up every published value equals the from-scratch computation.
@Suite(.serialized) struct StandbyTests {
    static let asOf = LocalDate(year: 2024, month: 12, day: 31)!

    /// An owner and a standby of one service.
    struct Pair {
        let instances: [ServiceProcess]

        static func isActive(_ s: ServiceProcess) async throws -> Bool {
            let text = String(decoding: try await HTTP.request("GET", s.base + "/metrics").body, as: UTF8.self)
            return text.contains("npr_instance_active{service=\"\(s.name)\"} 1")
        }

        /// The instance whose `npr_instance_active` is 1 while the other's is 0 (both answering).
        func owner() async throws -> ServiceProcess? {
            var active: [ServiceProcess] = [], standby = 0
            for s in instances {
                let text = String(decoding: try await HTTP.request("GET", s.base + "/metrics").body, as: UTF8.self)
                if text.contains("npr_instance_active{service=\"\(s.name)\"} 1") { active.append(s) }
                if text.contains("npr_instance_active{service=\"\(s.name)\"} 0") { standby += 1 }
            }
            return active.count == 1 && standby == 1 ? active[0] : nil
        }

        func waitForOwner() async throws -> ServiceProcess {
            var found: ServiceProcess?
            try await waitUntil(.seconds(60), "one owner of \(instances[0].name)") {
                found = try await owner()
                return found != nil
            }
            return found!
        }
    }

    @Test func standbysTakeOverFromKilledOwnersAndValuesStayExact() async throws {
        var config = SyntheticConfig.small(year: 2024, seed: 21)
        config.patients = 250
        let data = SyntheticGenerator.generate(config)
        // A killed owner leaves its consumer group when its session ends: 6 s instead of librdkafka's 45 s.
        let pipeline = try await Pipeline.start(environment: [
            "NPR_AS_OF": Self.asOf.description, "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        ])
        defer { pipeline.stop() }
        let ports = freePorts(Pipeline.names.count)
        let standbys = try Pipeline.names.enumerated().map {
            try ServiceProcess($0.element, port: ports[$0.offset], environment: pipeline[$0.element].environment)
        }
        defer { standbys.forEach { $0.stop() } }
        var pairs: [String: Pair] = [:]
        for (owner, standby) in zip(pipeline.services, standbys) {
            try await waitUntil(.seconds(60), "\(standby.name) standby live") { try await HTTP.request("GET", standby.base + "/health/live").status == 200 }
            #expect(try await HTTP.request("GET", standby.base + "/health/ready").status == 503)
            // Everything but health and metrics is refused with a reason and a retry time.
            let refused = try await HTTP.request("GET", standby.base + "/v1/status")
            #expect(refused.status == 503)
            #expect((refused.json as? [String: Any])?["title"] as? String == "Standby", "\(String(decoding: refused.body, as: UTF8.self))")
            pairs[owner.name] = Pair(instances: [owner, standby])
            #expect(try await pairs[owner.name]!.owner() === owner)
        }
        let intakes = pairs["intake"]!.instances.map(\.base)

        let encoder = JSONEncoder()
        // As a client behind a load balancer: the same request to whichever intake answers 200.
        @Sendable func post(_ path: String, _ body: Data, records: Int) async throws {
            var reply: HTTP.Reply?
            try await waitUntil(.seconds(120), "\(path) answered") {
                for base in intakes {
                    reply = try? await HTTP.request(path.hasSuffix("units") ? "PUT" : "POST", base + path, body: body, token: "dev-admin-token")
                    if reply?.status == 200 { return true }
                }
                return false
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
        var rng = SplitMix64(seed: 2121)
        let shuffled = data.activities.shuffled(using: &rng)
        let victims = (Pipeline.names + Pipeline.names).shuffled(using: &rng)
        let size = shuffled.count / (victims.count + 2) + 1
        var killed: [String: Int] = [:], takeovers: [String] = []
        for (n, start) in stride(from: 0, to: shuffled.count, by: size).enumerated() {
            let part = Array(shuffled[start..<min(start + size, shuffled.count)])
            let body = try encoder.encode(part)
            let request = Task { try await post("/v1/activities", body, records: part.count) }
            if n >= 1, n - 1 < victims.count {
                let name = victims[n - 1], pair = pairs[name]!
                let owner = try await pair.waitForOwner(), standby = pair.instances.first { $0 !== owner }!
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...60, using: &rng)))
                let killedAt = ContinuousClock.now
                owner.kill9()
                // The standby owns the state at once, and runs once the group has handed it the partitions.
                try await waitUntil(.seconds(10), "\(name) standby taking over") { try await Pair.isActive(standby) }
                try await waitUntil(.seconds(60), "\(name) ready after taking over") {
                    try await HTTP.request("GET", standby.base + "/health/ready").status == 200
                }
                takeovers.append("\(name) \(ContinuousClock.now - killedAt)")
                // Back as the standby.
                try owner.start()
                killed[name, default: 0] += 1
                #expect(try await pair.waitForOwner() === standby)
            }
            try await request.value
        }
        #expect(killed == Dictionary(uniqueKeysWithValues: Pipeline.names.map { ($0, 2) }))
        print("kill -9 of the owner → standby ready: \(takeovers.joined(separator: ", "))")
        try await post("/v1/deaths", try encoder.encode(data.deaths), records: data.deaths.count)

        let publisher = try await pairs["publisher"]!.waitForOwner().base
        try await waitUntil(.seconds(300), "pipeline caught up") {
            ((try await HTTP.request("GET", publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }
        let published = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", publisher + "/v1/indicators").body)
        let expected = FromScratch.publishedValues(data, asOf: Self.asOf)
        #expect(published.count == expected.count)
        let mismatches = FromScratch.differences(published: published, expected: expected)
        #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(5))")
        for pair in pairs.values { #expect(pair.instances.allSatisfy { $0.process.isRunning }, "\(pair.instances[0].name) exited") }
    }

    /// Two instances of one service, each with a state directory of its own, split the group's partitions:
    /// nothing can make their whole-state values right, so the runtime says so instead of staying silent.
    @Test func anInstanceWithAStateOfItsOwnBesideAnotherIsReported() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let environment = ["KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000"]
        let first = try await ServiceProcess.alone("episode-linker", broker: broker, environment: environment)
        defer { first.stop() }
        let series = "npr_unassigned_input_partitions{service=\"episode-linker\"}"
        try await waitUntil(.seconds(30), "a lone instance holding every partition") {
            let text = String(decoding: try await HTTP.request("GET", first.base + "/metrics").body, as: UTF8.self)
            return text.contains("npr_instance_active{service=\"episode-linker\"} 1") && text.contains(series + " 0")
        }
        let second = try await ServiceProcess.alone("episode-linker", broker: broker, environment: environment)
        defer { second.stop() }
        #expect(first.state != second.state)
        try await waitUntil(.seconds(60), "the split reported by both") {
            let split = (try await metric(first.base, series), try await metric(second.base, series))
            return split.0 > 0 && split.1 > 0
        }
        let log = try String(contentsOfFile: second.state + "/episode-linker.log", encoding: .utf8)
        #expect(log.contains("another instance with a state of its own consumes this group"))
    }
}
