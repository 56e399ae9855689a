// npr-ops: operator commands.
//   npr-ops lag [--json] [--watch]  per group and partition: committed, end, lag (messages, seconds), Burrow status
//   npr-ops lag-exporter        serve every group's lag under kafka-lag-exporter's metric names
//   npr-ops topics [--create]   list the declared topics (and create missing ones with the admin API)
//   npr-ops load --patients N   stream a synthetic year through intake's HTTP API (for `make run`)
//   npr-ops replay SERVICE      rebuild a stopped service from the beginning of its input topics
import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import NPRCore
import ServiceRuntime
import SyntheticData

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The cluster and naming settings every command shares with the services (KAFKA_*, NPR_GROUP_PREFIX, …).
func opsConfiguration() throws -> ServiceConfiguration { try ServiceConfiguration(service: "npr-ops") }

func opsAdmin() throws -> KafkaAdmin { try KafkaAdmin(connection: try opsConfiguration().kafka, logger: quietLogger) }

/// Unbuffered output (progress lines and redraws appear at once).
func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

let quietLogger = Logger(label: "npr-ops", factory: { _ in SwiftLogNoOpLogHandler() })

@main
struct Ops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "npr-ops", abstract: "Operator commands for the NPR TSB stream.",
        subcommands: [Lag.self, LagExporter.self, Topics.self, Load.self, Replay.self])
}

struct Lag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumer lag per group and partition, evaluated the way Burrow does.",
        discussion: """
            Samples every group's committed offsets over a sliding window (--samples, --interval) and rates each \
            partition OK, WARN, REWIND, STALL or STOP and each group OK, WARN or ERR (rules in README.md, \
            "Reading lag"). Exits 2 when a group is ERR (not with --watch).
            """)
    @Option(help: "Samples in the window.") var samples = 5
    @Option(help: "Seconds between samples.") var interval = 1.0
    @Option(help: "No progress is a stall once the oldest unprocessed message is this many seconds old.") var stallAfter = 60.0
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Keep sampling and redraw (the window slides).") var watch = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
    }

    func run() throws {
        let config = try opsConfiguration()
        let admin = try KafkaAdmin(connection: config.kafka, logger: quietLogger)
        var monitor = LagMonitor(configuration: config, windowSize: samples, stallAfter: stallAfter)
        var taken = 0
        while true {
            try monitor.sample(admin)
            taken += 1
            if taken >= samples || (watch && taken > 1) {
                let report = monitor.report()
                let clear = watch && isatty(STDOUT_FILENO) != 0 ? "\u{1B}[H\u{1B}[2J" : ""
                write(clear + (json ? String(decoding: try JSONCodec.data(report), as: UTF8.self) : Self.table(report)) + "\n")
                if !watch { throw ExitCode(report.status == .err ? 2 : 0) }
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    static func table(_ report: LagMonitor.Report) -> String {
        var lines = [
            "cluster \(report.clusterName), \(report.samples) samples over \(Int(report.windowSeconds.rounded())) s, \(report.sampledAt)",
            "group                          topic                       part  committed        end     lag  lag(s)  status  reason",
        ]
        func left(_ s: String, _ width: Int) -> String { s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }
        func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        for g in report.groups {
            for p in g.partitions {
                lines.append(
                    [
                        left(g.group, 30), left(p.topic, 27), right(String(p.partition), 4), right(p.committedOffset.map(String.init) ?? "-", 10),
                        right(String(p.endOffset), 10), right(String(p.lagMessages), 7), right(String(format: "%.1f", p.lagSeconds), 7),
                        " " + left(p.status.rawValue, 6), " " + p.reason,
                    ].joined(separator: " "))
            }
            lines.append("\(g.group): \(g.status.rawValue)  (lag \(g.sumLag) messages, max \(String(format: "%.1f", g.maxLagSeconds)) s)")
        }
        return lines.joined(separator: "\n")
    }
}

struct LagExporter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag-exporter",
        abstract: """
            Serve every group's lag on /metrics under kafka-lag-exporter's names, whether or not its consumers run \
            (LAG_EXPORTER_PORT, default 8085; NPR_LAG_POLL_S, default 5).
            """)
    func run() async throws {
        let host: ServiceHost
        do { host = try ServiceHost.start(service: "lag-exporter") } catch { throw ExitCode(ServiceHost.exitStatus(reporting: error, service: "lag-exporter")) }
        let poll = try host.configuration.integer("NPR_LAG_POLL_S", default: 5, in: 1...300, unit: "seconds")
        let exporter = ConsumerLagExporter(configuration: host.configuration, poll: .seconds(poll), readiness: host.readiness, logger: host.logger)
        host.exportMetrics { exporter.exposition }
        host.router.get("/v1/lag") { _, _ -> Response in
            json(try exporter.reportJSON())
        }
        let status = await host.run(services: [exporter])
        if status != 0 { throw ExitCode(status) }
    }
}

struct Topics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            List the declared topics; --create makes missing ones (admin API); --check reports how the cluster's \
            topics differ from contracts/topics.json (exit 1 on drift).
            """)
    @Flag(help: "Create missing topics with the catalogue's partitions and settings.") var create = false
    @Flag(help: "Compare partitions, replication and settings with the catalogue.") var check = false
    @Flag(help: "Print each topic's partitions with their log start and end offsets as JSON.") var json = false
    func run() throws {
        let admin = try opsAdmin()
        let specs = Topic.specs(brokers: try admin.brokerCount())
        if create {
            try admin.ensureTopics(specs)
            for line in TopicCheck.drift(expected: specs, actual: try admin.describeTopics(), configs: nil) { print("drift: \(line)") }
        }
        if check {
            var configs: [String: [String: String]]? = nil
            do { configs = try admin.topicConfigs(specs.map(\.name), timeout: .seconds(5)) } catch {
                print("settings not checked: the cluster does not describe topic settings (\(error))")
            }
            let drift = TopicCheck.drift(expected: specs, actual: try admin.describeTopics(), configs: configs)
            for line in drift { print("drift: \(line)") }
            print(drift.isEmpty ? "topics match contracts/topics.json (\(specs.count) topics)" : "\(drift.count) differences from contracts/topics.json")
            throw ExitCode(drift.isEmpty ? 0 : 1)
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
            print(
                "\(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) partitions \(t.partitions)  \(t.compacted ? "compact" : "delete ")  \(existing[t.name].map { "exists (\($0))" } ?? "MISSING")"
            )
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

    /// Posts, retrying a 503 (the pipeline is behind) after its Retry-After, as integrators' clients do.
    func post(_ path: String, _ method: String, _ body: Data) async throws -> [String: Any] {
        var r = URLRequest(url: URL(string: intake + path)!)
        r.httpMethod = method
        r.httpBody = body
        r.timeoutInterval = 300
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        for attempt in 1... {
            let (data, response) = try await URLSession.shared.data(for: r)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if status == 503, attempt < 10 {
                let wait = ((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After")).flatMap(Int.init) ?? 5
                try await Task.sleep(for: .seconds(wait))
                continue
            }
            guard status == 200 else { throw ValidationError("\(path): HTTP \(status): \(String(decoding: data, as: UTF8.self))") }
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        }
        fatalError("unreachable")
    }

    func run() async throws {
        var config = SyntheticConfig.small(year: year, seed: seed)
        config.patients = patients
        let data = SyntheticGenerator.generate(config)
        let encoder = JSONEncoder()
        var progress = LoadProgress(total: data.population.count + data.activities.count + data.deaths.count)
        _ = try await post("/v1/reference/units", "PUT", try encoder.encode(data.units))
        func send<T: Encodable>(_ path: String, _ records: [T], chunk: Int) async throws {
            for start in stride(from: 0, to: records.count, by: chunk) {
                let part = Array(records[start..<min(start + chunk, records.count)])
                let r = try await post(path, "POST", try encoder.encode(part))
                progress.record(sent: part.count, accepted: r["accepted"] as? Int ?? 0, rejected: (r["rejected"] as? [Any])?.count ?? 0)
            }
        }
        try await send("/v1/population", data.population, chunk: 20_000)
        try await send("/v1/activities", data.activities, chunk: batch)
        try await send("/v1/deaths", data.deaths, chunk: 20_000)
        progress.finish()
        print(
            "loaded \(data.units.count) units, \(data.population.count) population counts, \(data.activities.count) activities, \(data.deaths.count) deaths: \(progress.accepted) accepted, \(progress.rejected) rejected"
        )
    }
}

/// Load progress: on a terminal one line redrawn in place, otherwise a plain line every few seconds.
struct LoadProgress {
    let total: Int
    let started = Date()
    let terminal = isatty(STDOUT_FILENO) != 0
    var sent = 0, accepted = 0, rejected = 0
    var printedAt = Date.distantPast

    mutating func record(sent n: Int, accepted a: Int, rejected r: Int) {
        sent += n
        accepted += a
        rejected += r
        guard terminal || Date().timeIntervalSince(printedAt) >= 5 else { return }
        printedAt = Date()
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(sent) / elapsed
        let eta = rate > 0 ? Double(total - sent) / rate : 0
        let line = String(format: "sent %d/%d  accepted %d  rejected %d  %.0f records/s  ETA %.0f s", sent, total, accepted, rejected, rate, eta)
        write(terminal ? "\r\u{1B}[K" + line : line + "\n")
    }

    func finish() { if terminal { write("\n") } }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
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
            let admin = try KafkaAdmin(connection: config.kafka, logger: quietLogger)
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
