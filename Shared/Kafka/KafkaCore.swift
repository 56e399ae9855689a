import CRdKafka
import Foundation
import Logging
import Metrics
import Synchronization

/// An error reported by librdkafka, with its code and name.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }
    init(_ err: rd_kafka_resp_err_t, _ context: String) {
        code = err.rawValue
        message = "\(context): \(String(cString: rd_kafka_err2str(err)))"
    }
    public var description: String { "KafkaError(\(code)): \(message)" }
    public var isOffsetOutOfRange: Bool {
        code == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue || code == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue
    }
}

public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    public var description: String { "\(topic)[\(partition)]" }
}

/// How to reach a cluster: `bootstrap.servers` plus whatever else the deployment needs (security protocol,
/// SASL, TLS, `client.id`), as librdkafka properties. The properties the services' guarantees rest on
/// (`KafkaConnection.reserved`) are never taken from here.
public struct KafkaConnection: Sendable, Hashable {
    public private(set) var properties: [String: String]
    public var bootstrapServers: String { properties["bootstrap.servers"] ?? "" }

    /// Set by the producer and consumer profiles, because exactness depends on them.
    public static let reserved: Set<String> = [
        "acks", "enable.idempotence", "group.id", "enable.auto.commit", "enable.auto.offset.store",
        "auto.offset.reset", "enable.partition.eof", "isolation.level",
    ]

    /// Properties that librdkafka does not know, or that are `reserved`, make this throw.
    public init(bootstrap: String, properties: [String: String] = [:]) throws(InvalidKafkaProperty) {
        if let reserved = properties.keys.sorted().first(where: Self.reserved.contains) {
            throw InvalidKafkaProperty(property: reserved, problem: "set by the services themselves and cannot be configured")
        }
        rd_kafka_conf_destroy(try KafkaConfig.native(properties))
        self.properties = properties.merging(["bootstrap.servers": bootstrap]) { _, servers in servers }
    }

    /// Plain connection to `bootstrap` (tests, benchmarks, the embedded broker).
    public init(bootstrap: String) {
        properties = ["bootstrap.servers": bootstrap]
    }
}

/// A librdkafka property refused: unknown, malformed or reserved.
public struct InvalidKafkaProperty: Error, Sendable {
    public let property: String
    public let problem: String
}

/// librdkafka configuration properties. Services start from `KafkaConfig.service(...)` so every
/// process uses the same durability settings.
public struct KafkaConfig: Sendable {
    public var properties: [String: String]
    public init(_ properties: [String: String] = [:]) { self.properties = properties }
    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    public static func bootstrap(_ servers: String) -> KafkaConfig { connect(KafkaConnection(bootstrap: servers)) }

    /// A client of the cluster `connection` describes (its own properties win over these defaults).
    public static func connect(_ connection: KafkaConnection) -> KafkaConfig {
        var c = KafkaConfig(["statistics.interval.ms": "10000", "log.connection.close": "false"])
        c.properties.merge(connection.properties) { _, own in own }
        return c
    }

    /// Producer settings the services use: acks=all, idempotence, lz4, short linger for batching.
    public static func producer(bootstrap servers: String, deliveryTimeoutMs: Int = 30000) -> KafkaConfig {
        producer(KafkaConnection(bootstrap: servers), deliveryTimeoutMs: deliveryTimeoutMs)
    }

    public static func producer(_ connection: KafkaConnection, deliveryTimeoutMs: Int = 30000) -> KafkaConfig {
        var c = connect(connection)
        c["acks"] = "all"
        c["enable.idempotence"] = "true"
        c["compression.type"] = "lz4"
        c["linger.ms"] = "5"
        c["message.timeout.ms"] = String(deliveryTimeoutMs)
        return c
    }

    /// Consumer settings: manual offsets only; an out-of-range committed offset is an error, never a reset.
    public static func consumer(bootstrap servers: String, group: String) -> KafkaConfig {
        consumer(KafkaConnection(bootstrap: servers), group: group)
    }

    public static func consumer(_ connection: KafkaConnection, group: String) -> KafkaConfig {
        var c = connect(connection)
        c["group.id"] = group
        c["enable.auto.commit"] = "false"
        c["enable.auto.offset.store"] = "false"
        c["auto.offset.reset"] = "error"
        c["enable.partition.eof"] = "false"
        c["session.timeout.ms"] = "10000"
        c["heartbeat.interval.ms"] = "1000"
        c["fetch.wait.max.ms"] = "50"
        // librdkafka 2.0 applies both prefetch bounds to the one queue all assigned partitions share
        // (counting every queued op, not only messages), and a fetcher that reaches either stops until
        // its broker thread's next 1 s wakeup (fetch.queue.backoff.ms only exists from 2.2): a consumer
        // that drains the queue faster than that idles for the rest of the second. 128 MiB (default 64)
        // is the bound for the ~1 KB events (~130 000 of them); 200 000 ops (default 100 000) only
        // bounds queues of small messages, to ~200 000 × (size + ~0.3 KB of per-message overhead).
        c["queued.max.messages.kbytes"] = "131072"
        c["queued.min.messages"] = "200000"
        return c
    }

    /// A native configuration with `properties` set; the first one librdkafka refuses is thrown.
    static func native(_ properties: [String: String]) throws(InvalidKafkaProperty) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var err = [CChar](repeating: 0, count: 512)
        for (k, v) in properties.sorted(by: { $0.key < $1.key }) where rd_kafka_conf_set(conf, k, v, &err, err.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw InvalidKafkaProperty(property: k, problem: errorText(err))
        }
        return conf
    }

    func makeNative(opaque: UnsafeMutableRawPointer?) throws -> OpaquePointer {
        let conf: OpaquePointer
        do { conf = try Self.native(properties) } catch { throw KafkaError(code: -1, message: "config \(error.property): \(error.problem)") }
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_log_cb(conf) { rk, level, fac, buf in
            guard let rk, let buf else { return }
            ClientContext.from(rk)?.log(level: level, facility: fac.map { String(cString: $0) } ?? "", message: String(cString: buf))
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
            guard let rk else { return }
            ClientContext.from(rk)?.error(code: err, reason: reason.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_stats_cb(conf) { rk, json, len, _ in
            guard let rk, let json else { return 0 }
            ClientContext.from(rk)?.statistics(Data(bytes: json, count: len))
            return 0
        }
        return conf
    }
}

/// Per-handle context reachable from librdkafka callbacks through the handle's opaque pointer:
/// logging, error and statistics reporting, plus the owner's own callbacks.
class ClientContext: @unchecked Sendable {
    let logger: Logger
    let name: String
    let errors: Counter
    let fatal: Counter
    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
        errors = Counter(label: "kafka_client_errors_total", dimensions: [("client", name)])
        fatal = Counter(label: "kafka_client_fatal_errors_total", dimensions: [("client", name)])
    }

    static func from(_ rk: OpaquePointer) -> ClientContext? {
        guard let p = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(p).takeUnretainedValue()
    }

    func log(level: Int32, facility: String, message: String) {
        let l: Logger.Level = level <= 3 ? .error : level <= 4 ? .warning : level <= 6 ? .info : .debug
        logger.log(level: l, "librdkafka: \(message)", metadata: ["client": "\(name)", "facility": "\(facility)"])
    }

    func error(code: Int32, reason: String) {
        errors.increment()
        if code == RD_KAFKA_RESP_ERR__FATAL.rawValue { fatal.increment() }
        // Transport errors while a broker restarts are expected and retried by librdkafka.
        let transient = code == RD_KAFKA_RESP_ERR__TRANSPORT.rawValue || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
        logger.log(
            level: transient ? .warning : .error, "kafka error",
            metadata: [
                "client": "\(name)", "code": "\(code)", "error": "\(String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code))))", "reason": "\(reason)",
            ])
    }

    /// librdkafka statistics fields exported as gauges (current values) and as counters (librdkafka's running
    /// totals, exported as increments); the full JSON is too large to export as labels.
    static let statisticsGauges = [
        "msg_cnt": "kafka_client_queued_messages", "msg_size": "kafka_client_queued_bytes",
        "replyq": "kafka_client_reply_queue_events",
    ]
    static let statisticsCounters = [
        "txmsgs": "kafka_client_sent_messages_total", "rxmsgs": "kafka_client_received_messages_total",
        "tx": "kafka_client_sent_requests_total", "rx": "kafka_client_received_responses_total",
    ]
    /// The last running totals seen (statistics arrive on one librdkafka thread per handle).
    private let statisticsTotals = Mutex<[String: Int64]>([:])

    func statistics(_ json: Data) {
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return }
        for (field, metric) in Self.statisticsGauges {
            if let v = obj[field] as? NSNumber { Gauge(label: metric, dimensions: [("client", name)]).record(v.doubleValue) }
        }
        for (field, metric) in Self.statisticsCounters {
            guard let v = (obj[field] as? NSNumber)?.int64Value else { continue }
            let increase = statisticsTotals.withLock { totals in
                defer { totals[field] = v }
                return v - (totals[field] ?? 0)
            }
            if increase > 0 { Counter(label: metric, dimensions: [("client", name)]).increment(by: increase) }
        }
    }
}

func partitionList(_ offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
    for (tp, offset) in offsets.sorted(by: { $0.key < $1.key }) {
        let e = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
        e.pointee.offset = offset
    }
    return list
}

func readPartitionList(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64, rd_kafka_resp_err_t)] {
    var out: [(TopicPartition, Int64, rd_kafka_resp_err_t)] = []
    for i in 0..<Int(list.pointee.cnt) {
        let e = list.pointee.elems[i]
        out.append((TopicPartition(String(cString: e.topic), e.partition), e.offset, e.err))
    }
    return out
}

/// Special offsets.
public enum KafkaOffset {
    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    public static let end = Int64(RD_KAFKA_OFFSET_END)
    public static let invalid = Int64(RD_KAFKA_OFFSET_INVALID)
}

/// Text of a NUL-terminated error buffer filled by librdkafka.
/// Whole milliseconds of `d` for librdkafka timeouts.
func timeoutMilliseconds(_ d: Duration) -> Int32 {
    Int32(clamping: d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
}

/// Low and high watermark of `tp` from its leader (a ListOffsets round trip), through any client handle.
func queryWatermarks(_ handle: OpaquePointer, _ tp: TopicPartition, timeout: Duration) throws -> (low: Int64, high: Int64) {
    var low: Int64 = 0, high: Int64 = 0
    let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, max(1, timeoutMilliseconds(timeout)))
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "watermarks \(tp)") }
    return (low, high)
}

func errorText(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// A one-way flag shared between a worker thread and its owner.
final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    var isStopped: Bool { stopped.load(ordering: .acquiring) }
    /// Returns true for the caller that actually stopped it.
    func stop() -> Bool { !stopped.exchange(true, ordering: .acquiringAndReleasing) }
}

/// One librdkafka client handle with the context its callbacks reach through the handle's opaque:
/// created, configured and destroyed in one place for every kind of client.
final class NativeClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: ClientContext
    private let contextPointer: UnsafeMutableRawPointer
    private var destroyed = false

    /// `configure` sets the callbacks specific to the kind of client on the native configuration.
    init(_ type: rd_kafka_type_t, config: KafkaConfig, context: ClientContext, configure: (OpaquePointer) -> Void = { _ in }) throws {
        self.context = context
        contextPointer = Unmanaged.passRetained(context).toOpaque()
        let conf: OpaquePointer
        do { conf = try config.makeNative(opaque: contextPointer) } catch {
            Unmanaged<ClientContext>.fromOpaque(contextPointer).release()
            throw error
        }
        configure(conf)
        var err = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &err, err.count) else {
            rd_kafka_conf_destroy(conf)
            Unmanaged<ClientContext>.fromOpaque(contextPointer).release()
            throw KafkaError(code: -1, message: "\(context.name): \(errorText(err))")
        }
        handle = rk
    }

    /// Destroys the handle (after the owner's own shutdown steps) and releases the context.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_destroy(handle)
        Unmanaged<ClientContext>.fromOpaque(contextPointer).release()
    }
}
