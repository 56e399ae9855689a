import CRdKafka
import Foundation
import Logging
import Synchronization

public struct TopicSpec: Sendable, Hashable, Codable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// Topic-level settings (`cleanup.policy`, `retention.ms`, `min.insync.replicas`, …).
    public var configs: [String: String]
    public init(name: String, partitions: Int, replicationFactor: Int, configs: [String: String]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as cluster metadata shows it.
public struct TopicShape: Sendable, Hashable {
    public var partitions: Int
    /// Replicas of its first partition.
    public var replicationFactor: Int
    public init(partitions: Int, replicationFactor: Int) {
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }
}

public struct PartitionLag: Sendable, Hashable, Codable {
    public var group: String
    public var topic: String
    public var partition: Int32
    /// Next offset the group will read (nil: nothing committed yet).
    public var committed: Int64?
    public var low: Int64
    public var high: Int64
    /// Timestamp of the first message the group has not processed (when asked for and lagging).
    public var oldestUnconsumedTimestampMs: Int64? = nil
    /// Where the group reads next: its committed offset, or with none offset 0 (the services never reset
    /// to a later offset: `auto.offset.reset=error`).
    public var position: Int64 { committed ?? 0 }
    /// Messages between the position and the end; not clamped to the log start, so a group that fell off
    /// the log shows how far behind it is.
    public var lag: Int64 { high - position }
    /// The group's next offset is below the log start: messages it never processed are gone.
    public var isBehindLogStart: Bool { position < low }
    /// Age of the oldest message the group has not processed (0 when it has no lag or the age is unknown).
    public func lagSeconds(nowMs: Double) -> Double {
        lag <= 0 ? 0 : max(0, (nowMs - Double(oldestUnconsumedTimestampMs ?? Int64(nowMs))) / 1000)
    }
}

/// A member of a consumer group as the group coordinator describes it.
public struct GroupMember: Sendable, Hashable {
    public var memberId: String
    public var clientId: String
    public var host: String
    public var assignment: [TopicPartition]
}

/// Queries and topic administration over a plain client handle.
public final class KafkaAdmin: @unchecked Sendable {
    let client: NativeClient
    var handle: OpaquePointer { client.handle }
    let connection: KafkaConnection
    let logger: Logger

    public convenience init(bootstrap: String, logger: Logger) throws {
        try self.init(connection: KafkaConnection(bootstrap: bootstrap), logger: logger)
    }

    public init(connection: KafkaConnection, logger: Logger) throws {
        self.connection = connection
        self.logger = logger
        client = try NativeClient(RD_KAFKA_PRODUCER, config: .connect(connection), context: ClientContext(name: "admin", logger: logger))
    }

    /// One idle consumer per group, kept for reading that group's committed offsets (never subscribed, so
    /// it does not join the group).
    private let groupClients = Mutex<[String: KafkaConsumer]>([:])

    func groupClient(_ group: String) throws -> KafkaConsumer {
        if let c = groupClients.withLock({ $0[group] }) { return c }
        var config = KafkaConfig.consumer(connection, group: group)
        config["statistics.interval.ms"] = "0"
        let consumer = try KafkaConsumer(config: config, name: "lag-\(group)", logger: logger)
        return groupClients.withLock { clients in
            if let existing = clients[group] {
                consumer.close()
                return existing
            }
            clients[group] = consumer
            return consumer
        }
    }

    deinit {
        for c in groupClients.withLock({ $0.values }) { c.close() }
        client.destroy()
    }

    /// Low and high watermark (log start offset, next offset to be written).
    public func watermarks(_ tp: TopicPartition, timeout: Duration = .seconds(10)) throws -> (low: Int64, high: Int64) {
        try queryWatermarks(handle, tp, timeout: timeout)
    }

    /// How many brokers the cluster has.
    public func brokerCount(timeout: Duration = .seconds(10)) throws -> Int {
        var md: UnsafePointer<rd_kafka_metadata>? = nil
        let err = rd_kafka_metadata(handle, 0, nil, &md, timeoutMilliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, "metadata") }
        defer { rd_kafka_metadata_destroy(md) }
        return Int(md.pointee.broker_cnt)
    }

    /// Partition counts of the topics the cluster knows.
    public func topics(timeout: Duration = .seconds(10)) throws -> [String: Int] {
        try describeTopics(timeout: timeout).mapValues(\.partitions)
    }

    /// Partitions and replication factor of every topic the cluster knows, from one metadata request.
    public func describeTopics(timeout: Duration = .seconds(10)) throws -> [String: TopicShape] {
        var md: UnsafePointer<rd_kafka_metadata>? = nil
        let err = rd_kafka_metadata(handle, 1, nil, &md, timeoutMilliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, "metadata") }
        defer { rd_kafka_metadata_destroy(md) }
        var out: [String: TopicShape] = [:]
        for t in UnsafeBufferPointer(start: md.pointee.topics, count: Int(md.pointee.topic_cnt)) where t.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            out[String(cString: t.topic)] = TopicShape(
                partitions: Int(t.partition_cnt),
                replicationFactor: t.partition_cnt > 0 ? Int(t.partitions[0].replica_cnt) : 0)
        }
        return out
    }

    /// The settings of `topics` as the brokers report them (DescribeConfigs); an error where the cluster
    /// does not answer (the embedded mock broker has no DescribeConfigs).
    public func topicConfigs(_ topics: [String], timeout: Duration = .seconds(10)) throws -> [String: [String: String]] {
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer { for r in resources { rd_kafka_ConfigResource_destroy(r) } }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var err = [CChar](repeating: 0, count: 512)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds(timeout), &err, err.count)
        resources.withUnsafeMutableBufferPointer { buf in rd_kafka_DescribeConfigs(handle, buf.baseAddress, buf.count, options, queue) }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds(timeout) + 1000) else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "DescribeConfigs timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rd_kafka_event_error(event), "DescribeConfigs")
        }
        guard let result = rd_kafka_event_DescribeConfigs_result(event) else { return [:] }
        var count = 0
        guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return [:] }
        var out: [String: [String: String]] = [:]
        for i in 0..<count {
            guard let resource = described[i] else { continue }
            let e = rd_kafka_ConfigResource_error(resource)
            guard e == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(e, "DescribeConfigs \(String(cString: rd_kafka_ConfigResource_name(resource)))") }
            var entryCount = 0
            let entries = rd_kafka_ConfigResource_configs(resource, &entryCount)
            var settings: [String: String] = [:]
            for j in 0..<entryCount {
                guard let entry = entries?[j], let name = rd_kafka_ConfigEntry_name(entry) else { continue }
                settings[String(cString: name)] = rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) } ?? ""
            }
            out[String(cString: rd_kafka_ConfigResource_name(resource))] = settings
        }
        return out
    }

    /// Creates the missing topics with the admin API (Apache Kafka) with their replication and settings.
    /// Brokers without CreateTopics (the embedded mock) get their topics from `kafka-dev-broker` instead, so
    /// existing topics are skipped first. How existing ones differ is `TopicCheck`'s to say.
    public func ensureTopics(_ specs: [TopicSpec], timeout: Duration = .seconds(30)) throws {
        let existing = try topics()
        let missing = specs.filter { existing[$0.name] == nil }
        guard !missing.isEmpty else { return }
        var err = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        for s in missing {
            let nt = rd_kafka_NewTopic_new(s.name, Int32(s.partitions), Int32(s.replicationFactor), &err, err.count)
            for (name, value) in s.configs.sorted(by: { $0.key < $1.key }) { rd_kafka_NewTopic_set_config(nt, name, value) }
            newTopics.append(nt)
        }
        defer { for nt in newTopics { rd_kafka_NewTopic_destroy(nt) } }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buf in
            rd_kafka_CreateTopics(handle, buf.baseAddress, buf.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds(timeout)) else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "CreateTopics timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rd_kafka_event_error(event), "CreateTopics")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(result, &count)
        for i in 0..<count {
            let r = results![i]
            let e = rd_kafka_topic_result_error(r)
            if e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw KafkaError(e, "create topic \(String(cString: rd_kafka_topic_result_name(r)))")
            }
        }
    }

    /// Committed offsets of `group` for every partition of `topics`, beside the watermarks.
    public func lag(group: String, topics: [String], withTimestamps: Bool = false) throws -> [PartitionLag] {
        try lags([(group, topics)], withTimestamps: withTimestamps)
    }

    /// The lag of several groups: one metadata request, one watermark query per partition however many
    /// groups read it, one committed-offsets request per group.
    public func lags(_ groups: [(group: String, topics: [String])], withTimestamps: Bool = false) throws -> [PartitionLag] {
        let counts = try self.topics()
        var marks: [TopicPartition: (low: Int64, high: Int64)] = [:]
        var out: [PartitionLag] = []
        for (group, topics) in groups {
            let partitions = topics.flatMap { t in (0..<Int32(counts[t] ?? 0)).map { TopicPartition(t, $0) } }
            let committed = try groupClient(group).committed(partitions)
            let lags = try partitions.map { tp in
                let w = try marks[tp] ?? watermarks(tp)
                marks[tp] = w
                let c = committed[tp].flatMap { $0 >= 0 ? $0 : nil }
                return PartitionLag(group: group, topic: tp.topic, partition: tp.partition, committed: c, low: w.low, high: w.high)
            }
            out += withTimestamps ? try timestamped(lags, group: group) : lags
        }
        return out
    }

    /// The members of every consumer group with their assigned partitions (ListGroups and DescribeGroups);
    /// nil when the cluster does not answer them (the embedded mock broker has neither).
    public func groupMembers(timeout: Duration = .seconds(3)) -> [String: [GroupMember]]? {
        var list: UnsafePointer<rd_kafka_group_list>? = nil
        guard rd_kafka_list_groups(handle, nil, &list, timeoutMilliseconds(timeout)) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        defer { rd_kafka_group_list_destroy(list) }
        var out: [String: [GroupMember]] = [:]
        for g in UnsafeBufferPointer(start: list.pointee.groups, count: Int(list.pointee.group_cnt)) where g.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            out[String(cString: g.group)] = UnsafeBufferPointer(start: g.members, count: Int(g.member_cnt)).map { m in
                let bytes = m.member_assignment.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(m.member_assignment_size))) } ?? []
                return GroupMember(
                    memberId: String(cString: m.member_id), clientId: String(cString: m.client_id),
                    host: String(cString: m.client_host), assignment: ConsumerAssignment.partitions(bytes) ?? [])
            }
        }
        return out
    }

    /// Reads the first unprocessed message of each lagging partition for its timestamp (lag in seconds).
    func timestamped(_ lags: [PartitionLag], group: String) throws -> [PartitionLag] {
        var lags = lags
        let lagging = lags.filter { $0.lag > 0 }
        guard !lagging.isEmpty else { return lags }
        var config = KafkaConfig.consumer(connection, group: group)
        config["statistics.interval.ms"] = "0"
        let reader = try KafkaConsumer(config: config, name: "lag-\(group)", logger: logger)
        defer { reader.close() }
        try reader.assign(Dictionary(uniqueKeysWithValues: lagging.map { (TopicPartition($0.topic, $0.partition), max($0.committed ?? $0.low, $0.low)) }))
        var seen: [TopicPartition: Int64] = [:]
        let deadline = ContinuousClock.now + .seconds(2)
        while seen.count < lagging.count, ContinuousClock.now < deadline {
            for m in (try? reader.poll(maxMessages: 500, timeout: .milliseconds(100))) ?? [] where seen[m.topicPartition] == nil {
                seen[m.topicPartition] = m.timestampMs
            }
        }
        for i in lags.indices { lags[i].oldestUnconsumedTimestampMs = seen[TopicPartition(lags[i].topic, lags[i].partition)] }
        return lags
    }
}

/// The consumer protocol's member assignment (Kafka's `ConsumerProtocolAssignment`): int16 version, then
/// topics (int16-length name, int32 partitions), then user data, all big-endian.
public enum ConsumerAssignment {
    /// The assigned partitions, or nil when the bytes are not an assignment.
    public static func partitions(_ bytes: [UInt8]) -> [TopicPartition]? {
        var at = 0
        func int(_ width: Int) -> Int64? {
            guard at + width <= bytes.count else { return nil }
            defer { at += width }
            let raw = bytes[at..<at + width].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let shift = UInt64(64 - 8 * width)
            return Int64(bitPattern: raw << shift) >> Int64(shift)
        }
        guard !bytes.isEmpty else { return [] }
        guard int(2) != nil, let topics = int(4), topics >= 0 else { return nil }
        var out: [TopicPartition] = []
        for _ in 0..<topics {
            guard let length = int(2), length >= 0, at + Int(length) <= bytes.count else { return nil }
            let name = String(decoding: bytes[at..<at + Int(length)], as: UTF8.self)
            at += Int(length)
            guard let count = int(4), count >= 0 else { return nil }
            for _ in 0..<count {
                guard let p = int(4) else { return nil }
                out.append(TopicPartition(name, Int32(p)))
            }
        }
        return out
    }
}
