/// Topic names, one place (the catalogue with keys, schemas and partition counts is contracts/topics.json).
public enum Topic {
    public static let activitiesInbound = "npr.activities.inbound"
    public static let receipts = "npr.intake.receipts"
    public static let activities = "npr.activities"
    public static let deaths = "npr.deaths"
    public static let population = "npr.population"
    public static let units = "npr.reference.units"
    public static let municipalities = "npr.reference.municipalities"
    public static let deadLetter = "npr.deadletter"
    public static let stays = "npr.stays"
    public static let cells = "npr.cells"
    public static let indicators = "npr.indicators"
    /// Requests between services: a consumer that lost input asks its producers to republish (`ResyncRequest`).
    public static let control = "npr.control"
}

/// One topic of the catalogue (contracts/topics.json documents the same, checked by a test).
public struct TopicDeclaration: Sendable, Hashable {
    public let name: String
    public let partitions: Int
    public let compacted: Bool
    /// How long records are kept (`retention.ms`); -1 keeps them for ever.
    public let retentionMs: Int64

    /// The topic-level settings a cluster must have for this topic (created with them; drift is reported).
    /// `min.insync.replicas` follows the replication the cluster can give (`Replication`).
    public func configs(brokers: Int) -> [String: String] {
        [
            "cleanup.policy": compacted ? "compact" : "delete", "retention.ms": String(retentionMs),
            "min.insync.replicas": String(Replication(brokers: brokers).minInsyncReplicas),
        ]
    }
}

/// Replication of every topic (contracts/topics.json `replication`): three copies, two of which must
/// acknowledge (acks=all), reduced to what a smaller cluster has (one broker: one copy, one ack).
public struct Replication: Sendable, Hashable {
    public let factor: Int
    public let minInsyncReplicas: Int
    public init(brokers: Int) {
        factor = max(1, min(3, brokers))
        minInsyncReplicas = max(1, factor - 1)
    }
}

extension Topic {
    /// Which service (= consumer group) reads which topics: one place for the services, the pipeline
    /// status and `npr-ops`. Listed upstream first, the order in which `caughtUp` checks them.
    public static let inputs: [(service: String, topics: [String])] = [
        ("intake", [activitiesInbound]),
        ("episode-linker", [units, activities]),
        ("indicator-calculator", [units, population, stays, control]),
        ("mortality-linker", [population, deaths, activities, control]),
        ("publisher", [cells]),
    ]

    /// The catalogue's partition count of a topic (1 for a topic it does not declare).
    public static func partitions(of topic: String) -> Int { catalogue.first { $0.name == topic }?.partitions ?? 1 }

    public static func inputs(of service: String) -> [String] {
        inputs.first { $0.service == service }?.topics ?? []
    }

    public static let catalogue: [TopicDeclaration] = [
        TopicDeclaration(name: activitiesInbound, partitions: 3, compacted: false, retentionMs: 604800000),
        TopicDeclaration(name: receipts, partitions: 3, compacted: false, retentionMs: 604800000),
        TopicDeclaration(name: activities, partitions: 6, compacted: false, retentionMs: -1),
        TopicDeclaration(name: deaths, partitions: 6, compacted: false, retentionMs: -1),
        TopicDeclaration(name: population, partitions: 1, compacted: true, retentionMs: -1),
        TopicDeclaration(name: units, partitions: 1, compacted: true, retentionMs: -1),
        TopicDeclaration(name: municipalities, partitions: 1, compacted: true, retentionMs: -1),
        TopicDeclaration(name: deadLetter, partitions: 1, compacted: false, retentionMs: 2592000000),
        TopicDeclaration(name: stays, partitions: 6, compacted: false, retentionMs: -1),
        TopicDeclaration(name: cells, partitions: 6, compacted: true, retentionMs: -1),
        TopicDeclaration(name: indicators, partitions: 6, compacted: true, retentionMs: -1),
        TopicDeclaration(name: control, partitions: 1, compacted: false, retentionMs: 604800000),
    ]

    /// The services that write a topic the pipeline can rebuild from its producers' current state (see
    /// `ResyncRequest`), and the indicators each of them owns there.
    public static let republishers: [String: [(service: String, owns: [String])]] = [
        cells: [
            ("indicator-calculator", ["tsb-avbrudd", "tsb-nokkeltall", "tsb-poliklinikk"]),
            ("mortality-linker", ["tsb-overdodelighet"]),
        ]
    ]
}
