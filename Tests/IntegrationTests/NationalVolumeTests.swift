import Foundation
import Kafka
import Logging
import NPRCore
import PipelineReference
import Publishing
import SyntheticData
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The national-history path of `npr-bench national` at test size: several years with corrections,
/// annulments, duplicates and shuffled arrival through intake's HTTP API from parallel senders, with flow
/// control tight enough to engage; and what happens when a consumer's input is gone from the broker.
@Suite(.serialized) struct NationalVolumeTests {
    static let asOf = LocalDate(year: 2024, month: 12, day: 31)!

    /// POSTs NDJSON, retrying 503 after Retry-After as an ordinary client does; returns the receipt.
    func post(_ url: String, _ lines: [Data]) async throws -> [String: Any] {
        var body = Data()
        for l in lines {
            body += l
            body.append(0x0A)
        }
        for _ in 0..<100 {
            let r = try await HTTP.request("POST", url, body: body, token: "dev-admin-token", contentType: "application/x-ndjson")
            if r.status == 503 {
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            #expect(r.status == 200, "\(url): \(String(decoding: r.body, as: UTF8.self))")
            return r.json as? [String: Any] ?? [:]
        }
        Issue.record("\(url): refused 100 times")
        return [:]
    }

    @Test func historyThroughTheFrontDoorEqualsFromScratchWithFlowControlEngaged() async throws {
        var history = SyntheticHistory()
        history.years = 3
        history.scale = 0.006  // ≈ 200 patients a year
        history.window = 500
        history.duplicates = 0.05
        let (data, arrival) = history.generate()
        #expect(arrival.count > data.activities.count)  // duplicates are sent

        // A bound this small makes intake hold requests while the pipeline catches up.
        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": Self.asOf.description, "NPR_MAX_PIPELINE_LAG": "100"])
        defer { pipeline.stop() }
        let pids = pipeline.services.map(\.process.processIdentifier)
        let encoder = JSONEncoder()
        let units = try await HTTP.request("PUT", pipeline.intake + "/v1/reference/units", body: try encoder.encode(data.units), token: "dev-admin-token")
        #expect(units.status == 200)
        for chunk in stride(from: 0, to: data.population.count, by: 5_000) {
            _ = try await post(
                pipeline.intake + "/v1/population", try data.population[chunk..<min(chunk + 5_000, data.population.count)].map { try encoder.encode($0) })
        }
        // Four senders, 250 records a request, as integrators stream.
        let lines = try arrival.map { try encoder.encode($0) }
        let chunks = stride(from: 0, to: lines.count, by: 250).map { Array(lines[$0..<min($0 + 250, lines.count)]) }
        let intake = pipeline.intake
        let accepted = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for sender in 0..<4 {
                group.addTask {
                    var a = 0, d = 0
                    for (i, c) in chunks.enumerated() where i % 4 == sender {
                        let r = try await post(intake + "/v1/activities", c)
                        a += r["accepted"] as? Int ?? 0
                        d += r["duplicates"] as? Int ?? 0
                        #expect((r["rejected"] as? [Any])?.isEmpty == true)
                    }
                    return (a, d)
                }
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        #expect(accepted.0 + accepted.1 == arrival.count)
        #expect(accepted.1 >= arrival.count - data.activities.count)
        _ = try await post(pipeline.intake + "/v1/deaths", try data.deaths.map { try encoder.encode($0) })

        try await waitUntil(.seconds(300), "pipeline caught up") {
            ((try await HTTP.request("GET", pipeline.publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }
        let published = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", pipeline.publisher + "/v1/indicators").body)
        let mismatches = FromScratch.differences(published: published, expected: FromScratch.publishedValues(data, asOf: Self.asOf))
        #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(5))")

        // No service restarted, flow control held requests, and no stage wrote more than one record per input.
        #expect(pipeline.services.allSatisfy { $0.process.isRunning })
        #expect(pipeline.services.map(\.process.processIdentifier) == pids)
        let metrics = String(decoding: try await HTTP.request("GET", pipeline.intake + "/metrics").body, as: UTF8.self)
        let waits =
            metrics.split(separator: "\n").first { $0.hasPrefix("intake_backpressure_waits_total ") }
            .flatMap { Double($0.split(separator: " ")[1]) } ?? 0
        #expect(waits > 0, "flow control never held a request")
        let admin = try KafkaAdmin(bootstrap: pipeline.broker.bootstrap, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        func written(_ topic: String) throws -> Int64 {
            try (0..<Int32(6)).reduce(0) { $0 + (try admin.watermarks(TopicPartition(topic, $1)).high) }
        }
        let inputs = Int64(arrival.count + data.population.count + data.deaths.count)
        let cells = try written(Topic.cells), stays = try written(Topic.stays)
        #expect(cells <= inputs, "npr.cells: \(cells) records for \(inputs) inputs")
        #expect(stays <= inputs, "npr.stays: \(stays) records for \(inputs) inputs")
    }

    /// Fills partition 0 of `topic` past what the embedded broker keeps (5 MiB), so it drops the oldest data.
    func overfill(_ topic: String, broker: BrokerProcess) throws -> Int64 {
        let producer = try producer(broker.bootstrap)
        defer { producer.close() }
        var rng = SplitMix64(seed: 78)
        for i in 0..<900 {
            // Incompressible: the broker keeps compressed batches.
            let name = String((0..<8_000).map { _ in Character(Unicode.Scalar(UInt8(65 + rng.next() % 26))) })
            try producer.send(OutgoingMessage(topic: topic, key: "filler-\(i)", value: Array("{\"filler\":\"\(name)\"}".utf8), partition: 0))
        }
        try producer.flush()
        let admin = try KafkaAdmin(bootstrap: broker.bootstrap, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try admin.watermarks(TopicPartition(topic, 0)).low
    }

    /// The publisher's progress is deleted while the broker has dropped the start of npr.cells: it reports the
    /// loss, skips to the end, asks the calculator and the mortality-linker to republish every current cell,
    /// and ends with exactly the from-scratch values, without restarting.
    @Test func publisherRebuildsLostCellsFromItsProducers() async throws {
        var config = SyntheticConfig.small(year: 2024, seed: 31)
        config.patients = 150
        let data = SyntheticGenerator.generate(config)
        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": Self.asOf.description])
        defer { pipeline.stop() }
        let encoder = JSONEncoder()
        _ = try await HTTP.request("PUT", pipeline.intake + "/v1/reference/units", body: try encoder.encode(data.units), token: "dev-admin-token")
        for chunk in stride(from: 0, to: data.population.count, by: 10_000) {
            _ = try await post(
                pipeline.intake + "/v1/population", try data.population[chunk..<min(chunk + 10_000, data.population.count)].map { try encoder.encode($0) })
        }
        for chunk in stride(from: 0, to: data.activities.count, by: 500) {
            _ = try await post(
                pipeline.intake + "/v1/activities", try data.activities[chunk..<min(chunk + 500, data.activities.count)].map { try encoder.encode($0) })
        }
        _ = try await post(pipeline.intake + "/v1/deaths", try data.deaths.map { try encoder.encode($0) })
        let expected = FromScratch.publishedValues(data, asOf: Self.asOf)
        func caughtUpAndEqual() async throws -> Bool {
            guard ((try await HTTP.request("GET", pipeline.publisher + "/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true else {
                return false
            }
            let values = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", pipeline.publisher + "/v1/indicators").body)
            return FromScratch.differences(published: values, expected: expected).isEmpty
        }
        try await waitUntil(.seconds(300), "pipeline caught up") { try await caughtUpAndEqual() }

        let publisher = pipeline["publisher"]
        publisher.stop()
        #expect(try overfill(Topic.cells, broker: pipeline.broker) > 0, "the broker kept everything; the test needs it to drop data")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: pipeline.state + "/publisher.sqlite" + suffix) }
        try publisher.start()
        try await waitUntil(.seconds(120), "publisher rebuilt from its producers") { try await caughtUpAndEqual() }
        #expect(publisher.process.isRunning)
        let metrics = String(decoding: try await HTTP.request("GET", pipeline.publisher + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("npr_input_offsets_lost_total{service=\"publisher\"}"))
        let log = try String(contentsOfFile: pipeline.state + "/publisher.log", encoding: .utf8)
        #expect(log.contains("input lost: skipped to the end of the partition and asked its producers to republish"))
        // Provenance says so: values published from the republished cells name the rebuild as their cause.
        let reply = try await HTTP.request("GET", pipeline.publisher + "/v1/history?indicator=tsb-nokkeltall")
        let history = try #require(reply.json as? [[String: Any]])
        #expect(history.contains { ($0["causes"] as? [[String: Any]])?.contains { $0["cause"] as? String == "rebuild" } == true })
    }

    /// The source log itself is gone (activities never processed, dropped by the broker): nothing upstream
    /// can rebuild it, so the consumer stops with the command that rebuilds, and stays down instead of
    /// restarting into the same loss.
    @Test func lostSourceInputStopsWithTheRebuildCommand() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let linker = try await ServiceProcess.alone("episode-linker", broker: broker)
        defer { linker.stop() }
        let state = linker.state
        linker.stop()
        #expect(try overfill(Topic.activities, broker: broker) > 0, "the broker kept everything; the test needs it to drop data")
        // Its progress is deleted: it would start at offset 0, which the broker no longer has.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + "/episode-linker.sqlite" + suffix) }
        try linker.start()
        linker.process.waitUntilExit()
        #expect(linker.process.terminationStatus == 78)
        let log = try String(contentsOfFile: state + "/episode-linker.log", encoding: .utf8)
        #expect(log.contains("input lost"))
        #expect(log.contains("npr-ops replay episode-linker"))
        #expect(log.contains("\(Topic.activities)[0]"))
        // Operators see it too: the group is ERR, its lost partitions STOP with the reason.
        let lag = try lagReport(broker.bootstrap)
        #expect(lag.exit == 2)
        #expect(lag.groups["npr-tsb.episode-linker"] == "ERR")
        let lost = lag.partitions["npr-tsb.episode-linker"]?.first { $0["topic"] as? String == Topic.activities && $0["partition"] as? Int == 0 }
        #expect(lost?["status"] as? String == "STOP")
        #expect((lost?["reason"] as? String)?.contains("never processed are gone") == true)
    }
}
