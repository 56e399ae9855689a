// npr-ops: operator commands.
//   npr-ops lag                 per group and partition: committed, end, lag (messages, seconds), status
//   npr-ops topics [--create]   list the declared topics (and create missing ones with the admin API)
//   npr-ops load --patients N   stream a synthetic year through intake's HTTP API (for `make run`)
//   npr-ops replay SERVICE      rebuild a stopped service from the beginning of its input topics
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import NPRCore
import ServiceRuntime
import SyntheticData

func bootstrapServers() throws -> String {
    try ServiceConfiguration(service: "npr-ops").bootstrapServers
}

let quietLogger = Logger(label: "npr-ops", factory: { _ in SwiftLogNoOpLogHandler() })

@main
struct Ops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "npr-ops", abstract: "Operator commands for the NPR TSB stream.",
                                                    subcommands: [Lag.self, Topics.self, Load.self, Replay.self])
}

struct Lag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Consumer lag per group and partition, with a Burrow-style status.")
    func run() throws {
        let admin = try KafkaAdmin(bootstrap: try bootstrapServers(), logger: quietLogger)
        let now = Date().timeIntervalSince1970 * 1000
        print("group                 topic                       part  committed        end     lag  lag(s)  status")
        for (group, topics) in Topic.inputs {
            for l in try admin.lag(group: group, topics: topics, withTimestamps: true) {
                let seconds = l.lag == 0 ? 0 : (now - Double(l.oldestUnconsumedTimestampMs ?? Int64(now))) / 1000
                // OK: caught up or moving; WARN: lagging; STALL: lagging for over a minute; ERR: offset before log start.
                let status = l.isBehindLogStart ? "ERR" : l.lag == 0 ? "OK" : seconds > 60 ? "STALL" : "WARN"
                print(String(format: "%-21@ %-27@ %4d %10@ %10lld %7lld %7.1f  %@", group as NSString, l.topic as NSString, l.partition,
                             (l.committed.map(String.init) ?? "-") as NSString, l.high, l.lag, seconds, status as NSString))
            }
        }
    }
}

struct Topics: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the declared topics; --create makes missing ones (admin API).")
    @Flag var create = false
    @Flag(help: "Print each topic's partitions with their log start and end offsets as JSON.") var json = false
    func run() throws {
        let admin = try KafkaAdmin(bootstrap: try bootstrapServers(), logger: quietLogger)
        if create {
            for drift in try admin.ensureTopics(Topic.specs(brokers: try admin.brokerCount())) { print("drift: \(drift)") }
        }
        let existing = try admin.topics()
        if json {
            var out: [String: [[String: Int64]]] = [:]
            for t in Topic.catalogue {
                out[t.name] = try (0..<Int32(existing[t.name] ?? 0)).map { p in
                    let w = try admin.watermarks(TopicPartition(t.name, p))
                    return ["partition": Int64(p), "logStart": w.low, "end": w.high]
                }
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        for t in Topic.catalogue {
            print("\(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) partitions \(t.partitions)  \(t.compacted ? "compact" : "delete ")  \(existing[t.name].map { "exists (\($0))" } ?? "MISSING")")
        }
    }
}

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stream a synthetic year through intake over HTTP.")
    @Option var patients = 3000
    @Option var year = 2024
    @Option var seed: UInt64 = 2024
    @Option var intake = "http://127.0.0.1:\(ProcessInfo.processInfo.environment["INTAKE_PORT"] ?? "8080")"
    @Option var token = ProcessInfo.processInfo.environment["NPR_ADMIN_TOKEN"] ?? "dev-admin-token"
    @Option var batch = 2000

    func post(_ path: String, _ method: String, _ body: Data) async throws -> [String: Any] {
        var r = URLRequest(url: URL(string: intake + path)!)
        r.httpMethod = method
        r.httpBody = body
        r.timeoutInterval = 300
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: r)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw ValidationError("\(path): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data, as: UTF8.self))")
        }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    func run() async throws {
        var config = SyntheticConfig.small(year: year, seed: seed)
        config.patients = patients
        let data = SyntheticGenerator.generate(config)
        let encoder = JSONEncoder()
        var accepted = 0, rejected = 0
        _ = try await post("/v1/reference/units", "PUT", try encoder.encode(data.units))
        for chunk in stride(from: 0, to: data.population.count, by: 20_000) {
            let r = try await post("/v1/population", "POST", try encoder.encode(Array(data.population[chunk..<min(chunk + 20_000, data.population.count)])))
            accepted += r["accepted"] as? Int ?? 0
        }
        for chunk in stride(from: 0, to: data.activities.count, by: batch) {
            let r = try await post("/v1/activities", "POST", try encoder.encode(Array(data.activities[chunk..<min(chunk + batch, data.activities.count)])))
            accepted += r["accepted"] as? Int ?? 0
            rejected += (r["rejected"] as? [Any])?.count ?? 0
        }
        let r = try await post("/v1/deaths", "POST", try encoder.encode(data.deaths))
        accepted += r["accepted"] as? Int ?? 0
        rejected += (r["rejected"] as? [Any])?.count ?? 0
        print("loaded \(data.units.count) units, \(data.population.count) population counts, \(data.activities.count) activities, \(data.deaths.count) deaths: \(accepted) accepted, \(rejected) rejected")
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        Rebuild a stopped service from the beginning of its input topics, e.g. when its store was lost or \
        damaged. Its store is moved aside (kept as a backup); on its next start it re-reads every input from \
        offset 0 and republishes absolute values, so consumers converge. The indicator-calculator is rebuilt \
        with the episode-linker (the rebuilt linker numbers its changelogs afresh). Refuses while a service runs \
        or when the broker no longer holds the start of an input topic.
        """)
    @Argument(help: "episode-linker, indicator-calculator, mortality-linker or publisher") var service: String

    /// Services whose state is derived from another's numbered output and must be rebuilt with it.
    static let rebuiltWith = ["episode-linker": ["indicator-calculator"]]

    func run() throws {
        let services = [service] + (Self.rebuiltWith[service] ?? [])
        for s in services {
            let topics = Topic.inputs(of: s)
            guard s != "intake", !topics.isEmpty else {
                throw ValidationError("unknown stateful service \(s)")
            }
            let config = try ServiceConfiguration(service: s)
            if let url = URL(string: "http://127.0.0.1:\(config.httpPort)/health/live"), (try? Data(contentsOf: url)) != nil {
                throw ValidationError("\(s) is running on port \(config.httpPort): stop it first")
            }
            let admin = try KafkaAdmin(bootstrap: config.bootstrapServers, logger: quietLogger)
            let counts = try admin.topics()
            for t in topics {
                for p in 0..<Int32(counts[t] ?? 0) where try admin.watermarks(TopicPartition(t, p)).low > 0 {
                    throw ValidationError("\(t)[\(p)] no longer starts at offset 0: a replay of \(s) would silently miss data")
                }
            }
        }
        for s in services {
            let config = try ServiceConfiguration(service: s)
            let backup = config.storePath + ".replaced-" + String(Int(Date().timeIntervalSince1970))
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: config.storePath + suffix) {
                try FileManager.default.moveItem(atPath: config.storePath + suffix, toPath: backup + suffix)
            }
            print("\(s): store moved to \(backup); it rebuilds from offset 0 of its inputs on its next start")
        }
    }
}
