import Foundation
import Kafka
import NPRCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What operators and integrators see: lag under kafka-lag-exporter's names (also for a dead consumer),
/// `npr-ops lag` with Burrow's statuses, `npr-ops topics --check`, Prometheus conventions on every
/// service, the served OpenAPI documents and problem details for unknown paths.
@Suite(.serialized) struct OperationsIntegrationTests {
    /// One sample value from Prometheus text (the first series of `name` whose labels contain `labels`).
    func sample(_ text: String, _ name: String, _ labels: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + "{") && $0.contains(labels) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    func stays(_ range: Range<Int>) -> [ActivityMessage] {
        // A birth date of its own for each of up to 336 patients (the check digits depend on it).
        range.map { i in
            let birth = LocalDate(year: 1980, month: 1 + i / 28 % 12, day: 1 + i % 28)!
            return PipelineTests().stay(i, endType: 1, personId: (100..<200).lazy.compactMap { PersonId.make(birth: birth, individual: $0) }.first!)
        }
    }

    func post(_ pipeline: Pipeline, _ records: [ActivityMessage]) async throws {
        let r = try await HTTP.request("POST", "\(pipeline.intake)/v1/activities", body: try JSONEncoder().encode(records), token: "dev-admin-token")
        #expect(r.status == 200)
    }

    @Test func lagIsReadTheWayKafkaOperatorsReadIt() async throws {
        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": "2024-12-31"])
        defer { pipeline.stop() }
        let exporter = try ServiceProcess(
            "lag-exporter", port: freePorts(1)[0],
            environment: ["KAFKA_BOOTSTRAP_SERVERS": pipeline.broker.bootstrap, "NPR_STATE_DIR": pipeline.state, "NPR_LAG_POLL_S": "1"])
        defer { exporter.stop() }
        try await waitUntil(.seconds(60), "lag exporter ready") { try await HTTP.request("GET", exporter.base + "/health/ready").status == 200 }
        #expect(
            try await HTTP.request("PUT", "\(pipeline.intake)/v1/reference/units", body: PipelineTests().unitJSON(), token: "dev-admin-token").status == 200)
        try await post(pipeline, stays(0..<40))
        try await waitUntil(.seconds(60), "caught up") {
            ((try await HTTP.request("GET", pipeline.publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }

        // Caught up: every group OK, exit 0; the exporter shows zero lag under kafka-lag-exporter's names.
        let healthy = try lagReport(pipeline.broker.bootstrap)
        #expect(healthy.exit == 0)
        #expect(Set(healthy.groups.keys) == Set(Topic.inputs.map { "npr-tsb." + $0.service }))
        #expect(healthy.groups.values.allSatisfy { $0 == "OK" }, "\(healthy.groups)")
        let admin = try KafkaAdmin(bootstrap: pipeline.broker.bootstrap, logger: quiet)
        let activityEnds = try (0..<Int32(Topic.partitions(of: Topic.activities))).map { try admin.watermarks(TopicPartition(Topic.activities, $0)).high }
        try await waitUntil(.seconds(30), "exporter sees the caught-up pipeline") {
            let text = String(decoding: try await HTTP.request("GET", exporter.base + "/metrics").body, as: UTF8.self)
            return sample(text, "kafka_consumergroup_group_sum_lag", #"group="npr-tsb.episode-linker""#) == 0
                && sample(text, "kafka_partition_latest_offset", #"topic="npr.activities",partition="0""#) == Double(activityEnds[0])
        }
        let metrics = String(decoding: try await HTTP.request("GET", exporter.base + "/metrics").body, as: UTF8.self)
        for p in 0..<activityEnds.count {
            #expect(
                sample(
                    metrics, "kafka_consumergroup_group_lag",
                    #"cluster_name="npr-tsb",group="npr-tsb.episode-linker",topic="npr.activities",partition="\#(p)",member_host=""#) == 0)
        }
        for name in [
            "kafka_consumergroup_group_lag_seconds", "kafka_consumergroup_group_max_lag", "kafka_consumergroup_group_max_lag_seconds",
            "kafka_partition_earliest_offset", "npr_consumergroup_status",
        ] {
            #expect(metrics.contains("# HELP \(name) ") && metrics.contains("\n\(name){"), "\(name)")
        }

        // A dead consumer: its lag keeps growing on the exporter, npr-ops lag calls the group ERR (exit 2).
        pipeline["episode-linker"].stop()
        try await post(pipeline, stays(100..<130))
        try await waitUntil(.seconds(30), "dead linker's lag is 30") {
            let text = String(decoding: try await HTTP.request("GET", exporter.base + "/metrics").body, as: UTF8.self)
            return sample(text, "kafka_consumergroup_group_sum_lag", #"group="npr-tsb.episode-linker""#) == 30
        }
        try await post(pipeline, stays(200..<250))
        try await waitUntil(.seconds(30), "dead linker's lag grows to 80") {
            let text = String(decoding: try await HTTP.request("GET", exporter.base + "/metrics").body, as: UTF8.self)
            return sample(text, "kafka_consumergroup_group_sum_lag", #"group="npr-tsb.episode-linker""#) == 80
        }
        let stalled = try lagReport(pipeline.broker.bootstrap)
        #expect(stalled.exit == 2)
        #expect(stalled.groups["npr-tsb.episode-linker"] == "ERR")
        #expect(stalled.partitions["npr-tsb.episode-linker"]?.contains { ["STALL", "STOP"].contains($0["status"] as? String) } == true)

        // Back up: current again, OK again.
        try pipeline["episode-linker"].start()
        try await waitUntil(.seconds(60), "linker caught up") {
            let text = String(decoding: try await HTTP.request("GET", exporter.base + "/metrics").body, as: UTF8.self)
            return sample(text, "kafka_consumergroup_group_sum_lag", #"group="npr-tsb.episode-linker""#) == 0
        }
        try await waitUntil(.seconds(60), "npr-ops lag OK") { try lagReport(pipeline.broker.bootstrap).groups["npr-tsb.episode-linker"] == "OK" }

        // The embedded broker's topics match the catalogue (its settings cannot be described there).
        let check = try runOps(["topics", "--check"], environment: ["KAFKA_BOOTSTRAP_SERVERS": pipeline.broker.bootstrap])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("topics match contracts/topics.json"))

        // Prometheus conventions on every service: HELP for every family, counters end in _total, histograms
        // name their unit; the state size is there.
        for service in pipeline.services + [exporter] {
            let text = String(decoding: try await HTTP.request("GET", service.base + "/metrics").body, as: UTF8.self)
            let lines = text.split(separator: "\n").map(String.init)
            for (i, line) in lines.enumerated() where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                let name = String(parts[2]), type = String(parts[3])
                #expect(i > 0 && lines[i - 1].hasPrefix("# HELP \(name) "), "\(service.name): \(name) has no HELP")
                if type == "counter" { #expect(name.hasSuffix("_total"), "\(service.name): counter \(name)") }
                if type == "histogram" { #expect(name.hasSuffix("_seconds") || name.hasSuffix("_bytes"), "\(service.name): histogram \(name)") }
            }
            if service.name != "lag-exporter" && service.name != "intake" {
                #expect(text.contains("npr_state_size_bytes{service=\"\(service.name)\"}"), "\(service.name)")
            }
        }

        // Intake and the publisher serve their OpenAPI documents (the validated files in the repository);
        // errors, also for paths nobody serves, are problem details.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for (service, base) in [("intake", pipeline.intake), ("publisher", pipeline.publisher)] {
            let served = try await HTTP.request("GET", base + "/openapi.json")
            #expect(served.status == 200)
            #expect(served.body == (try Data(contentsOf: root.appendingPathComponent("Services/\(service)/openapi.json"))))
            #expect((served.json as? [String: Any])?["openapi"] as? String == "3.1.0")
            let (body, response) = try await URLSession.shared.data(from: URL(string: base + "/no/such/path")!)
            let http = try #require(response as? HTTPURLResponse)
            #expect(http.statusCode == 404)
            #expect(http.value(forHTTPHeaderField: "Content-Type") == "application/problem+json")
            #expect((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["status"] as? Int == 404)
        }
    }
}
