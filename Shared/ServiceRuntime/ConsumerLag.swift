import Foundation
import Kafka
import Logging
import NPRCore
import ServiceLifecycle
import Synchronization

/// One look at a partition from a consumer group's side: the group's committed offset beside the log's
/// start and end, when it was taken.
public struct OffsetSample: Sendable, Hashable, Codable {
    public var at: Double
    public var committed: Int64?
    public var logStart: Int64
    public var end: Int64
    public init(at: Double, committed: Int64?, logStart: Int64, end: Int64) {
        self.at = at
        self.committed = committed
        self.logStart = logStart
        self.end = end
    }
    init(_ l: PartitionLag, at: Double) { self.init(at: at, committed: l.committed, logStart: l.low, end: l.high) }
    /// See `PartitionLag.position`.
    public var position: Int64 { committed ?? 0 }
    public var lag: Int64 { end - position }
}

/// Burrow's consumer-lag evaluation over a sliding window of offset samples per partition (the rules are
/// in README.md, "Reading lag"). A window is a few samples a second or more apart, oldest first.
public enum LagEvaluation {
    public enum PartitionStatus: String, Sendable, Codable, Comparable {
        case ok = "OK", warn = "WARN", rewind = "REWIND", stall = "STALL", stop = "STOP"
        var severity: Int { [.ok: 0, .warn: 1, .rewind: 1, .stall: 2, .stop: 2][self]! }
        public static func < (a: Self, b: Self) -> Bool { a.severity < b.severity }
    }
    public enum GroupStatus: String, Sendable, Codable {
        case ok = "OK", warn = "WARN", err = "ERR"
        public var gaugeValue: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
    }

    /// The partition's status and why. `membersAssigned`: whether a live group member owns the partition
    /// (nil when the cluster cannot say), which tells a stopped consumer from a stalled one. `lagSeconds`: age
    /// of the oldest unprocessed message; no progress counts as a stall only once that is `stallAfter` old,
    /// since a healthy service commits at intervals and a long flush is a pause, not a stall.
    public static func partition(
        _ window: [OffsetSample], membersAssigned: Bool? = nil, lagSeconds: Double = .infinity,
        stallAfter: Double = 60
    ) -> (status: PartitionStatus, reason: String) {
        guard let last = window.last else { return (.ok, "no samples") }
        if last.position < last.logStart {
            return (
                .stop,
                "next offset \(last.position) is below the log start \(last.logStart): \(last.logStart - last.position) messages it never processed are gone"
            )
        }
        // Rule 1: a consumer that was caught up at any moment of the window is fine.
        if window.contains(where: { $0.lag <= 0 }) { return (.ok, "caught up within the window") }
        let pairs = zip(window, window.dropFirst())
        // Rule 5: the committed offset went backwards.
        if pairs.contains(where: { $1.position < $0.position }) { return (.rewind, "committed offset moved backwards") }
        guard window.count >= 2 else { return (.warn, "lagging \(last.lag); one sample, no trend yet") }
        // Rules 2 and 4: no progress over the whole window while lagging.
        if window.first!.position == last.position {
            guard lagSeconds >= stallAfter else {
                return (.warn, "no progress in \(Int((last.at - window.first!.at).rounded())) s; oldest unprocessed message \(Int(lagSeconds)) s old")
            }
            if membersAssigned == false { return (.stop, "no member owns the partition and its offset does not move (lag \(last.lag))") }
            return (.stall, "offset \(last.position) did not move in \(Int((last.at - window.first!.at).rounded())) s while lagging \(last.lag)")
        }
        // Rule 3: progressing, but the lag grew in every interval.
        if pairs.allSatisfy({ $1.lag > $0.lag }) { return (.warn, "progressing, but lag grew in every interval (now \(last.lag))") }
        return (.ok, "progressing")
    }

    /// ERR when any partition stalled or stopped, WARN when any warns or rewound, else OK.
    public static func group(_ partitions: [PartitionStatus]) -> GroupStatus {
        let worst = partitions.max() ?? .ok
        return worst.severity == 2 ? .err : worst.severity == 1 ? .warn : .ok
    }
}

/// Per group and partition, a sliding window of offset samples: what `npr-ops lag` and the lag exporter
/// evaluate and show.
public struct LagMonitor: Sendable {
    public struct Partition: Sendable, Codable {
        public var topic: String
        public var partition: Int32
        public var committedOffset: Int64?
        public var logStartOffset: Int64
        public var endOffset: Int64
        public var lagMessages: Int64
        /// Age of the oldest message the group has not processed.
        public var lagSeconds: Double
        public var status: LagEvaluation.PartitionStatus
        public var reason: String
        /// The member that owns the partition (empty when none or when the cluster cannot say).
        public var memberHost: String
        public var consumerId: String
        public var clientId: String
        public init(
            topic: String, partition: Int32, committedOffset: Int64?, logStartOffset: Int64, endOffset: Int64, lagMessages: Int64,
            lagSeconds: Double, status: LagEvaluation.PartitionStatus, reason: String, memberHost: String, consumerId: String, clientId: String
        ) {
            self.topic = topic
            self.partition = partition
            self.committedOffset = committedOffset
            self.logStartOffset = logStartOffset
            self.endOffset = endOffset
            self.lagMessages = lagMessages
            self.lagSeconds = lagSeconds
            self.status = status
            self.reason = reason
            self.memberHost = memberHost
            self.consumerId = consumerId
            self.clientId = clientId
        }
    }
    public struct Group: Sendable, Codable {
        public var service: String
        public var group: String
        public var status: LagEvaluation.GroupStatus
        public var partitions: [Partition]
        public init(service: String, group: String, status: LagEvaluation.GroupStatus, partitions: [Partition]) {
            self.service = service
            self.group = group
            self.status = status
            self.partitions = partitions
        }
        public var sumLag: Int64 { partitions.reduce(0) { $0 + $1.lagMessages } }
        public var maxLag: Int64 { partitions.map(\.lagMessages).max() ?? 0 }
        public var maxLagSeconds: Double { partitions.map(\.lagSeconds).max() ?? 0 }
    }
    public struct Report: Sendable, Codable {
        public var clusterName: String
        public var sampledAt: String
        public var samples: Int
        public var windowSeconds: Double
        public var groups: [Group]
        public init(clusterName: String, sampledAt: String, samples: Int, windowSeconds: Double, groups: [Group]) {
            self.clusterName = clusterName
            self.sampledAt = sampledAt
            self.samples = samples
            self.windowSeconds = windowSeconds
            self.groups = groups
        }
        public var status: LagEvaluation.GroupStatus { LagEvaluation.group(groups.flatMap(\.partitions).map(\.status)) }
    }

    public let services: [(service: String, topics: [String])]
    public let configuration: ServiceConfiguration
    public let windowSize: Int
    public let stallAfter: Double
    var windows: [String: [TopicPartition: [OffsetSample]]] = [:]
    var latest: [String: [PartitionLag]] = [:]
    var members: [String: [GroupMember]]? = nil

    /// Watches the groups of `services` (by default every service), keeping the last `windowSize` samples.
    public init(
        configuration: ServiceConfiguration, windowSize: Int = 10, stallAfter: Double = 60,
        services: [(service: String, topics: [String])] = Topic.inputs
    ) {
        self.configuration = configuration
        self.windowSize = max(1, windowSize)
        self.stallAfter = stallAfter
        self.services = services
    }

    /// Takes one sample of every group (committed offsets, watermarks, the age of the oldest unprocessed
    /// message, group members).
    public mutating func sample(_ admin: KafkaAdmin) throws {
        let now = Date().timeIntervalSince1970
        let groups = services.map { (configuration.consumerGroup(of: $0.service), $0.topics) }
        let lags = try admin.lags(groups, withTimestamps: true)
        members = admin.groupMembers()
        latest = Dictionary(grouping: lags, by: \.group)
        for l in lags {
            var w = windows[l.group, default: [:]][TopicPartition(l.topic, l.partition), default: []]
            w.append(OffsetSample(l, at: now))
            windows[l.group, default: [:]][TopicPartition(l.topic, l.partition)] = Array(w.suffix(windowSize))
        }
    }

    public func report() -> Report {
        let nowMs = Date().timeIntervalSince1970 * 1000
        var span = 0.0, samples = 0
        let groups = services.map { s -> Group in
            let group = configuration.consumerGroup(of: s.service)
            let owners = members?[group].map { ms in
                Dictionary(ms.flatMap { m in m.assignment.map { ($0, m) } }, uniquingKeysWith: { a, _ in a })
            }
            let partitions = (latest[group] ?? []).map { l -> Partition in
                let tp = TopicPartition(l.topic, l.partition)
                let window = windows[group]?[tp] ?? []
                if let first = window.first, let last = window.last {
                    span = max(span, last.at - first.at)
                    samples = max(samples, window.count)
                }
                let owner = owners?[tp]
                let seconds = l.lagSeconds(nowMs: nowMs)
                let (status, reason) = LagEvaluation.partition(
                    window, membersAssigned: owners.map { _ in owner != nil },
                    lagSeconds: seconds, stallAfter: stallAfter)
                return Partition(
                    topic: l.topic, partition: l.partition, committedOffset: l.committed, logStartOffset: l.low, endOffset: l.high,
                    lagMessages: l.lag, lagSeconds: seconds, status: status, reason: reason,
                    memberHost: owner?.host ?? "", consumerId: owner?.memberId ?? "", clientId: owner?.clientId ?? "")
            }
            return Group(service: s.service, group: group, status: LagEvaluation.group(partitions.map(\.status)), partitions: partitions)
        }
        return Report(
            clusterName: configuration.clusterName, sampledAt: ISO8601DateFormatter().string(from: Date()),
            samples: samples, windowSeconds: span, groups: groups)
    }
}

extension LagMonitor.Report {
    /// The report in Prometheus text format under kafka-lag-exporter's metric names and labels, so its
    /// Grafana dashboards and alerts work unchanged; plus the Burrow status per group.
    public var exposition: String {
        func escaped(_ v: String) -> String {
            v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        func labels(_ pairs: [(String, String)]) -> String { "{" + pairs.map { "\($0.0)=\"\(escaped($0.1))\"" }.joined(separator: ",") + "}" }
        func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
        var families: [(name: String, samples: [(String, Double)])] = []
        func family(_ name: String, _ samples: [(String, Double)]) { families.append((name, samples)) }
        let cluster = ("cluster_name", clusterName)
        func partitionLabels(_ g: LagMonitor.Group, _ p: LagMonitor.Partition) -> String {
            labels([
                cluster, ("group", g.group), ("topic", p.topic), ("partition", String(p.partition)),
                ("member_host", p.memberHost), ("consumer_id", p.consumerId), ("client_id", p.clientId),
            ])
        }
        func groupLabels(_ g: LagMonitor.Group) -> String { labels([cluster, ("group", g.group), ("is_simple_consumer", "false")]) }
        family("kafka_consumergroup_group_offset", groups.flatMap { g in g.partitions.map { (partitionLabels(g, $0), Double($0.committedOffset ?? 0)) } })
        family("kafka_consumergroup_group_lag", groups.flatMap { g in g.partitions.map { (partitionLabels(g, $0), Double($0.lagMessages)) } })
        family("kafka_consumergroup_group_lag_seconds", groups.flatMap { g in g.partitions.map { (partitionLabels(g, $0), $0.lagSeconds) } })
        family("kafka_consumergroup_group_max_lag", groups.map { (groupLabels($0), Double($0.maxLag)) })
        family("kafka_consumergroup_group_max_lag_seconds", groups.map { (groupLabels($0), $0.maxLagSeconds) })
        family("kafka_consumergroup_group_sum_lag", groups.map { (groupLabels($0), Double($0.sumLag)) })
        var seen = Set<TopicPartition>()
        let partitions = groups.flatMap(\.partitions).filter { seen.insert(TopicPartition($0.topic, $0.partition)).inserted }
        func topicLabels(_ p: LagMonitor.Partition) -> String { labels([cluster, ("topic", p.topic), ("partition", String(p.partition))]) }
        family("kafka_partition_latest_offset", partitions.map { (topicLabels($0), Double($0.endOffset)) })
        family("kafka_partition_earliest_offset", partitions.map { (topicLabels($0), Double($0.logStartOffset)) })
        family("npr_consumergroup_status", groups.map { (labels([cluster, ("group", $0.group)]), Double($0.status.gaugeValue)) })
        return families.map { f in
            "# HELP \(f.name) \(MetricCatalogue.help[f.name] ?? "")\n# TYPE \(f.name) gauge\n"
                + f.samples.map { "\(f.name)\($0.0) \(number($0.1))\n" }.joined()
        }.joined()
    }
}

/// The lag exporter's sampling loop: a `LagMonitor` sampled every `poll`, its latest report served as
/// metrics. It reads offsets from the broker, so a group's lag keeps growing on the graphs while its
/// consumers are down.
public final class ConsumerLagExporter: Service, Sendable {
    let configuration: ServiceConfiguration
    let poll: Duration
    let readiness: Readiness
    let logger: Logger
    let latest = Mutex<LagMonitor.Report?>(nil)

    public init(configuration: ServiceConfiguration, poll: Duration, readiness: Readiness, logger: Logger) {
        self.configuration = configuration
        self.poll = poll
        self.readiness = readiness
        self.logger = logger
    }

    public var exposition: String { latest.withLock { $0 }?.exposition ?? "" }
    public func reportJSON() throws -> Data { try JSONCodec.data(latest.withLock { $0 }) }

    public func run() async throws {
        let admin = try KafkaAdmin(connection: configuration.kafka, logger: logger)
        var monitor = LagMonitor(configuration: configuration, windowSize: 10)
        while !Task.isShuttingDownGracefully {
            do {
                try monitor.sample(admin)
                let report = monitor.report()
                latest.withLock { $0 = report }
                readiness.set(true)
            } catch {
                logger.warning("lag sample failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: poll)
        }
    }
}

/// How the topics on a cluster differ from the catalogue (contracts/topics.json): `npr-ops topics --check`.
public enum TopicCheck {
    /// One line per difference; `configs` nil when the cluster cannot describe topic settings.
    public static func drift(expected: [TopicSpec], actual topics: [String: TopicShape], configs: [String: [String: String]]?) -> [String] {
        expected.flatMap { spec -> [String] in
            guard let actual = topics[spec.name] else { return ["\(spec.name): missing"] }
            var out: [String] = []
            if actual.partitions != spec.partitions { out.append("\(spec.name): \(actual.partitions) partitions, declared \(spec.partitions)") }
            if actual.replicationFactor != spec.replicationFactor {
                out.append("\(spec.name): replication factor \(actual.replicationFactor), declared \(spec.replicationFactor)")
            }
            if let settings = configs?[spec.name] {
                for (name, value) in spec.configs.sorted(by: { $0.key < $1.key }) where settings[name] != value {
                    out.append("\(spec.name): \(name) is \(settings[name] ?? "unset"), declared \(value)")
                }
            }
            return out
        }
    }
}
