import Foundation
import Kafka
import NPRCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The publisher alone, fed with cells on npr.cells: SSE resume and restart safety.
@Suite(.serialized) struct PublisherServiceTests {
    func cell(_ unit: String, patients: Int, numerator: Int) -> CellUpdate {
        let key = CellKey(indicator: .avbrudd, measure: "hovedmaltall", period: .year(2024), level: unit == "NO" ? .national : .rhf, unit: unit)
        return CellUpdate(
            key: key,
            cell: Cell(
                key: key, formula: .share, numerator: numerator, denominator: patients, patients: patients,
                size: patients, parent: unit == "NO" ? nil : "NO", unitName: unit, asOf: LocalDate("2024-12-31")!))
    }

    /// Reads the SSE stream with curl until `done` holds for what arrived (bounded by a deadline).
    func stream(_ url: String, lastEventId: String?, until done: (String) -> Bool) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-sN", "--max-time", "30"] + (lastEventId.map { ["-H", "Last-Event-ID: \($0)"] } ?? []) + [url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var text = ""
        while p.isRunning || !text.isEmpty {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if done(text) { break }
        }
        p.terminate()
        return text
    }

    @Test func streamResumesFromLastEventIdAcrossAKill9() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let publisher = try await ServiceProcess.alone("publisher", broker: broker)
        defer { publisher.stop() }
        let base = publisher.base, state = publisher.state, port = publisher.port, env = publisher.environment
        let producer = try producer(broker.bootstrap)
        defer { producer.close() }
        func send(_ u: CellUpdate) async throws {
            try await producer.deliver(OutgoingMessage(topic: Topic.cells, key: u.key.string, value: try JSONEncoder().encode(u).map { $0 }))
        }
        try await send(cell("NO", patients: 20, numerator: 5))
        try await waitUntil(.seconds(30), "first value") {
            (try await HTTP.request("GET", base + "/v1/indicators").json as? [[String: Any]])?.count == 1
        }
        let snapshot = try await HTTP.request("GET", base + "/v1/indicators")
        let first = try #require((snapshot.json as? [[String: Any]])?.first)
        #expect(first["revision"] as? Int == 1)
        // The snapshot tells where the stream continues.
        let since = try #require(try await lastEventId(base + "/v1/indicators"))

        // Two changes after the snapshot: the national value changes, and a region appears.
        try await send(cell("NO", patients: 20, numerator: 6))
        try await send(cell("vest", patients: 12, numerator: 3))
        let events = try stream(base + "/v1/stream?indicator=tsb-avbrudd", lastEventId: since) { $0.components(separatedBy: "event: value").count > 2 }
        #expect(events.contains(#""numerator":6"#))
        #expect(events.contains(#""unit":"vest""#))
        #expect(!events.contains(#""numerator":5"#), "an event from before Last-Event-ID was replayed")
        let ids = events.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int($0.dropFirst(4)) }
        #expect(ids == ids.sorted() && ids.allSatisfy { $0 > Int(since)! })

        // kill -9, restart: same values and revisions, and the stream still resumes from the same id.
        let before = try await HTTP.request("GET", base + "/v1/indicators").body
        publisher.kill9()
        try publisher.start()
        try await waitUntil(.seconds(60), "publisher ready again") { try await HTTP.request("GET", base + "/health/ready").status == 200 }
        let after = try await HTTP.request("GET", base + "/v1/indicators")
        #expect(try JSONSerialization.jsonObject(with: before) as? NSArray == after.json as? NSArray)
        let national = (after.json as? [[String: Any]])?.first { $0["unit"] as? String == "NO" }
        #expect(national?["revision"] as? Int == 2)
        let replay = try stream(base + "/v1/stream", lastEventId: since) { $0.components(separatedBy: "event: value").count > 2 }
        #expect(replay.contains(#""numerator":6"#) && replay.contains(#""unit":"vest""#))

        // npr-ops replay: refused while the publisher runs; once stopped, its store is moved aside and the
        // restarted publisher rebuilds the same values from the beginning of npr.cells.
        func values() async throws -> [String: PublishedValue] {
            let list = try JSONDecoder().decode([PublishedValue].self, from: try await HTTP.request("GET", base + "/v1/indicators").body)
            return Dictionary(uniqueKeysWithValues: list.map { ($0.key, $0) })
        }
        let current = try await values()
        let opsEnv = env.merging(["PUBLISHER_PORT": String(port)]) { $1 }
        #expect(try runOps(["replay", "publisher"], environment: opsEnv).status != 0, "replay must refuse while the service runs")
        publisher.stop()
        #expect(try runOps(["replay", "publisher"], environment: opsEnv).status == 0)
        #expect(!FileManager.default.fileExists(atPath: state + "/publisher.sqlite"))
        try publisher.start()
        // Keys live on different partitions, so a key can appear before a later update of another key is
        // read: wait for the same numbers, not just the same keys.
        func sameNumbers(_ a: [String: PublishedValue], _ b: [String: PublishedValue]) -> Bool {
            a.count == b.count
                && a.allSatisfy { k, v in
                    let r = b[k]
                    return r?.numerator == v.numerator && r?.denominator == v.denominator && r?.value == v.value && r?.status == v.status
                }
        }
        try await waitUntil(.seconds(60), "rebuilt publisher has every value") { sameNumbers(current, try await values()) }
        #expect(sameNumbers(current, try await values()))
    }

    func lastEventId(_ url: String) async throws -> String? {
        let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Last-Event-ID")
    }
}
