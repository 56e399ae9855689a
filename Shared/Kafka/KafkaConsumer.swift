import CRdKafka
import Foundation
import Logging
import Metrics
import Synchronization

/// The consumer's position in a partition lies outside the broker's log (below the log start: data the
/// service never read is gone). Never skipped silently: the caller decides how to recover.
public struct InputOffsetLost: Error, CustomStringConvertible, Sendable {
    public var topicPartition: TopicPartition
    /// The position that could not be fetched (librdkafka reports the logical offset when unknown).
    public var offset: Int64
    public var description: String { "input offset \(offset) of \(topicPartition) is outside the broker's log: unprocessed data is gone" }
}

public struct ConsumedMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(String, [UInt8])]
    /// Broker or producer timestamp, milliseconds since the epoch (nil if not available).
    public var timestampMs: Int64?
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// Callbacks run synchronously inside `poll`, on the polling thread, during a rebalance.
public struct RebalanceHooks: Sendable {
    /// Called with newly assigned partitions; returns the offsets to start from (typically the service's
    /// own committed offsets). Partitions left out start at the beginning.
    public var onAssign: @Sendable ([TopicPartition]) -> [TopicPartition: Int64]
    /// Called before partitions are revoked, so the service can persist state and offsets first.
    public var onRevoke: @Sendable ([TopicPartition]) -> Void
    public init(
        onAssign: @escaping @Sendable ([TopicPartition]) -> [TopicPartition: Int64],
        onRevoke: @escaping @Sendable ([TopicPartition]) -> Void
    ) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
    }
}

final class ConsumerContext: ClientContext, @unchecked Sendable {
    let hooks = Mutex<RebalanceHooks?>(nil)
    let assignment = Mutex<Set<TopicPartition>>([])
    let rebalances: Counter
    override init(name: String, logger: Logger) {
        rebalances = Counter(label: "kafka_client_rebalances_total", dimensions: [("client", name)])
        super.init(name: name, logger: logger)
    }
}

/// A group consumer with manual offset management. Not for concurrent use: one thread polls.
public final class KafkaConsumer: @unchecked Sendable {
    let client: NativeClient
    var handle: OpaquePointer { client.handle }
    let context: ConsumerContext
    let outOfRange: Counter
    let consumed: Counter
    private var closed = false
    /// An out-of-range offset met after some messages of a poll: raised by the next poll.
    private var pendingLoss: InputOffsetLost?
    /// Topic handles held for the consumer's lifetime, by name (see `retainTopics`).
    private var topicHandles: [String: OpaquePointer] = [:]

    public init(config: KafkaConfig, name: String, logger: Logger) throws {
        context = ConsumerContext(name: name, logger: logger)
        outOfRange = Counter(label: "kafka_client_offset_out_of_range_total", dimensions: [("client", name)])
        consumed = Counter(label: "kafka_client_consumed_messages_total", dimensions: [("client", name)])
        client = try NativeClient(RD_KAFKA_CONSUMER, config: config, context: context) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, _ in
                guard let rk, let partitions, let ctx = ClientContext.from(rk) as? ConsumerContext else { return }
                let tps = readPartitionList(partitions).map { $0.0 }
                let hooks = ctx.hooks.withLock { $0 }
                ctx.rebalances.increment()
                if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                    let start = hooks?.onAssign(tps) ?? [:]
                    for i in 0..<Int(partitions.pointee.cnt) {
                        let tp = TopicPartition(String(cString: partitions.pointee.elems[i].topic), partitions.pointee.elems[i].partition)
                        partitions.pointee.elems[i].offset = start[tp] ?? KafkaOffset.beginning
                    }
                    rd_kafka_assign(rk, partitions)
                    ctx.assignment.withLock { $0.formUnion(tps) }
                    ctx.logger.info("partitions assigned", metadata: ["client": "\(ctx.name)", "partitions": "\(tps.sorted())"])
                } else {
                    hooks?.onRevoke(tps)
                    rd_kafka_assign(rk, nil)
                    ctx.assignment.withLock { $0.subtract(tps) }
                    ctx.logger.info("partitions revoked", metadata: ["client": "\(ctx.name)", "partitions": "\(tps.sorted())"])
                }
            }
        }
        rd_kafka_poll_set_consumer(client.handle)
    }

    /// Joins the group for `topics`; assignments start from the offsets `hooks.onAssign` returns.
    public func subscribe(topics: [String], hooks: RebalanceHooks) throws {
        context.hooks.withLock { $0 = hooks }
        // Leaders are then known when the group assigns partitions (the join's metadata fills them in).
        retainTopics(topics)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "subscribe") }
    }

    /// Assigns partitions directly (no group rebalancing), starting at the given offsets.
    /// `KafkaOffset.beginning` and `.end` are first resolved to the partition's current low or high
    /// watermark (a ListOffsets round trip each, `offsetLookupTimeout` for them all), so every
    /// partition starts fetching at an absolute offset. librdkafka 2.0 resolves a logical offset only
    /// once the partition has joined its leader's broker thread, which happens asynchronously after the
    /// metadata arrives; a partition started before that waits a fixed 500 ms offset-query timer (issue
    /// #2). If a lookup fails the logical offset is passed on and librdkafka resolves it itself.
    public func assign(_ offsets: [TopicPartition: Int64], offsetLookupTimeout: Duration = .seconds(2)) throws {
        retainTopics(Set(offsets.keys.map(\.topic)))
        var start = offsets
        let deadline = ContinuousClock.now + offsetLookupTimeout
        for (tp, offset) in offsets where offset == KafkaOffset.beginning || offset == KafkaOffset.end {
            do {
                let w = try queryWatermarks(handle, tp, timeout: deadline - .now)
                start[tp] = offset == KafkaOffset.beginning ? w.low : w.high
            } catch {
                context.logger.warning(
                    "offset lookup before assign failed; librdkafka resolves it when the leader is known",
                    metadata: ["client": "\(context.name)", "partition": "\(tp)", "error": "\(error)"])
            }
        }
        let list = partitionList(start)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "assign") }
        context.assignment.withLock { $0 = Set(offsets.keys) }
    }

    public var assignment: Set<TopicPartition> { context.assignment.withLock { $0 } }

    /// Holds a topic handle for each of `topics` (regex subscriptions excepted) until `close`, so
    /// librdkafka keeps the partitions' leaders from the next metadata response on and a partition the
    /// group assigns finds its leader at once (see `assign` for the wait it otherwise risks).
    private func retainTopics(_ topics: some Sequence<String>) {
        for topic in topics where topicHandles[topic] == nil && !topic.hasPrefix("^") {
            if let rkt = rd_kafka_topic_new(handle, topic, nil) { topicHandles[topic] = rkt }
        }
    }

    /// Polls up to `maxMessages`, waiting at most `timeout` for the first one. Throws on an
    /// out-of-range offset (data the service has not processed is gone: never skipped silently).
    public func poll(maxMessages: Int, timeout: Duration) throws -> [ConsumedMessage] {
        if let lost = pendingLoss {
            pendingLoss = nil
            throw lost
        }
        var out: [ConsumedMessage] = []
        var waitMs = timeoutMilliseconds(timeout)
        // Topic name of the last message's topic handle: one String per poll, not one per message
        // (the handles of subscribed and assigned topics stay alive until `close`).
        var lastTopic: (rkt: OpaquePointer, name: String)? = nil
        while out.count < maxMessages {
            guard let msg = rd_kafka_consumer_poll(handle, waitMs) else { break }
            defer { rd_kafka_message_destroy(msg) }
            waitMs = 0
            let m = msg.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                let error = KafkaError(m.err, "consume \(topic)[\(m.partition)] at \(m.offset)")
                if error.isOffsetOutOfRange {
                    outOfRange.increment()
                    // Hand back what was read before it; the loss is raised by the next poll.
                    let lost = InputOffsetLost(topicPartition: TopicPartition(topic, m.partition), offset: m.offset)
                    if out.isEmpty { throw lost }
                    pendingLoss = lost
                    break
                }
                if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                context.logger.warning("consumer error", metadata: ["error": "\(error)"])
                continue
            }
            let topic: String
            if let last = lastTopic, last.rkt == m.rkt {
                topic = last.name
            } else {
                topic = String(cString: rd_kafka_topic_name(m.rkt))
                if let rkt = m.rkt { lastTopic = (rkt, topic) }
            }
            out.append(Self.convert(msg, topic: topic))
        }
        if !out.isEmpty { consumed.increment(by: out.count) }
        return out
    }

    static func convert(_ msg: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> ConsumedMessage {
        let m = msg.pointee
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var headers: [(String, [UInt8])] = []
        var hdrs: OpaquePointer? = nil
        if rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var idx = 0
            var name: UnsafePointer<CChar>? = nil
            var val: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append((String(cString: name!), val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
                idx += 1
            }
        }
        var tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(msg, &tstype)
        return ConsumedMessage(
            topic: topic, partition: m.partition, offset: m.offset,
            key: key, value: value, headers: headers,
            timestampMs: tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }

    /// Commits `offsets` (the next offset to read per partition) to the group, synchronously.
    public func commit(_ offsets: [TopicPartition: Int64]) throws {
        guard !offsets.isEmpty else { return }
        let list = partitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "commit") }
    }

    /// The group's committed offsets for `partitions` (KafkaOffset.invalid where none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws -> [TopicPartition: Int64] {
        let list = partitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.invalid) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(handle, list, timeoutMilliseconds(timeout))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "committed") }
        return Dictionary(uniqueKeysWithValues: readPartitionList(list).map { ($0.0, $0.1) })
    }

    /// Current read positions of the assigned partitions.
    public func positions() -> [TopicPartition: Int64] {
        let assigned = assignment
        guard !assigned.isEmpty else { return [:] }
        let list = partitionList(Dictionary(uniqueKeysWithValues: assigned.map { ($0, KafkaOffset.invalid) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_position(handle, list)
        return Dictionary(uniqueKeysWithValues: readPartitionList(list).map { ($0.0, $0.1) })
    }

    /// Leaves the group (running the revoke hook) and destroys the handle.
    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(handle)
        for rkt in topicHandles.values { rd_kafka_topic_destroy(rkt) }
        topicHandles = [:]
        client.destroy()
    }

    deinit { close() }
}

extension KafkaConsumer {
    /// Lag per assigned partition from locally cached watermarks (no broker round trip): end offset
    /// minus the current position.
    public func cachedLag() -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for (tp, position) in positions() {
            var low: Int64 = 0, high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                high >= 0
            else { continue }
            out[tp] = max(0, high - max(position, low))
        }
        return out
    }
}

extension KafkaConsumer {
    /// The partition's log start and end offsets, asked of the broker.
    public func watermarks(_ tp: TopicPartition, timeout: Duration = .seconds(5)) throws -> (low: Int64, high: Int64) {
        try queryWatermarks(handle, tp, timeout: timeout)
    }
}

extension KafkaConsumer {
    /// Starts fetching `tp` again at `offset` after it stopped on an out-of-range offset. librdkafka leaves
    /// such a partition in no fetch state, where a seek fails, so the whole assignment is given again: the
    /// other partitions continue at their positions (or, where nothing was read yet, at `resume(partition)`).
    public func restart(_ tp: TopicPartition, at offset: Int64, resume: (TopicPartition) -> Int64) throws {
        var offsets: [TopicPartition: Int64] = [:]
        for (p, position) in positions() { offsets[p] = p == tp ? offset : (position >= 0 ? position : resume(p)) }
        offsets[tp] = offset
        let list = partitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "restart \(tp)") }
    }
}
