import Foundation
import Kafka
import Logging
import Metrics
import NPRCore
import ServiceLifecycle
import Synchronization

/// What one flush asks the runtime to do: publish `outputs`, then persist `rows` together with the input
/// offsets of everything applied since the previous flush.
public struct StepResult: Sendable {
    public var outputs: [OutgoingMessage]
    public var rows: [StateStore.Row]
    public init(outputs: [OutgoingMessage] = [], rows: [StateStore.Row] = []) {
        self.outputs = outputs
        self.rows = rows
    }
    public mutating func append(_ other: StepResult) {
        outputs += other.outputs
        rows += other.rows
    }
}

/// When the runtime flushes (publishes what changed and commits state with the input offsets):
/// - once the input is drained (a poll found nothing more waiting), `minimumGap` has passed since the
///   previous flush and the flush would write at most `maxOutputsPerInput` records per input applied:
///   a lone correction goes on at once, and a busy stage coalesces;
/// - under continuous input, or while the flush would write more than that, once `maximumDelay` has
///   passed since the first input not yet flushed;
/// - after `maxPendingMessages` inputs, whichever comes first.
/// Each flush writes at most one record per output key, so the delay bounds what a stage adds to
/// freshness and the ratio bounds what it writes per input.
public struct CommitPolicy: Sendable {
    public var minimumGap: Duration = .milliseconds(50)
    public var maximumDelay: Duration = .milliseconds(1000)
    public var maxOutputsPerInput = 1.0
    public var maxPendingMessages = 200_000
    public init() {}

    /// `NPR_COMMIT_GAP_MS` (default 50), `NPR_COMMIT_INTERVAL_MS` (the maximum delay, default 1000) and
    /// `NPR_COMMIT_MAX_OUTPUTS_PER_INPUT` (default 1).
    public init(configuration: ServiceConfiguration) throws {
        self.init()
        let env = configuration.environment
        minimumGap = .milliseconds(try configuration.integer("NPR_COMMIT_GAP_MS", default: 50, in: 0...60_000, unit: "milliseconds"))
        maximumDelay = .milliseconds(try configuration.integer("NPR_COMMIT_INTERVAL_MS", default: 1_000, in: 0...60_000, unit: "milliseconds"))
        if minimumGap > maximumDelay { minimumGap = maximumDelay }
        if let raw = env["NPR_COMMIT_MAX_OUTPUTS_PER_INPUT"] {
            guard let r = Double(raw), r > 0 else {
                throw ConfigurationError(variable: "NPR_COMMIT_MAX_OUTPUTS_PER_INPUT", problem: "must be a positive number, got \(raw)")
            }
            maxOutputsPerInput = r
        }
    }

    func isDue(
        _ p: StreamPending, outputs: @autoclosure () -> Int, drained: Bool,
        lastFlush: ContinuousClock.Instant, now: ContinuousClock.Instant
    ) -> Bool {
        if p.isEmpty { return false }
        if p.messages >= maxPendingMessages { return true }
        guard let since = p.since else { return now - lastFlush >= minimumGap }  // only time moved on
        if now - since >= maximumDelay { return true }
        return drained && now - lastFlush >= minimumGap && Double(outputs()) <= maxOutputsPerInput * Double(p.messages)
    }
}

/// Consume → apply (for up to one commit interval) → flush → produce (acks=all) → commit state and offsets
/// together → commit the group offsets.
///
/// Exactly-once effect without Kafka transactions: the store is the source of truth for offsets; a crash
/// before a flush is committed replays the inputs since the previous commit onto the restored state, and
/// outputs are absolute (idempotent), so the replay changes nothing downstream. An input offset below the
/// log start (data the service never read is gone) is never skipped: see `recover(from:)`.
public final class StreamProcessor<Stage: StreamStage>: Service, @unchecked Sendable {
    /// Stream thread only (the loop, and the rebalance hooks it runs inside `poll`).
    var stage: Stage
    var headerReader = ProvenanceHeaderReader()
    /// The stage's declared inputs, and npr.control where it answers resync requests.
    let subscription: [String]
    let store: StateStore
    let consumerConfig: KafkaConfig
    let producer: KafkaProducer
    let logger: Logger
    let service: String
    let group: String
    let policy: CommitPolicy
    public let readiness: Readiness
    let health: InputHealth
    let stopFlag = Mutex(false)
    let processed: Counter
    let emitted: Counter
    let flushTimer: Metrics.Timer
    let stateSize: Gauge
    var stateSizeRecordedAt = ContinuousClock.now - .seconds(10)
    let poisoned: Counter
    /// Input partitions the group gave to another member (0 when this instance runs alone, as it must).
    let unassigned: Gauge
    let maxBatch: Int
    /// Resync requests read since the last flush (stream thread only).
    var republishRequests: [String] = []
    /// Dead letters of unreadable inputs since the last flush, published with it before the offsets move on.
    var deadLetters: [OutgoingMessage] = []

    public init(
        stage: Stage, store: StateStore, configuration: ServiceConfiguration, producer: KafkaProducer,
        readiness: Readiness, logger: Logger, maxBatch: Int = 2000
    ) throws {
        subscription = try stage.inputs.subscription(with: stage.republication == nil ? [] : [Topic.control])
        self.stage = stage
        self.store = store
        self.producer = producer
        self.logger = logger
        self.readiness = readiness
        self.maxBatch = maxBatch
        policy = try CommitPolicy(configuration: configuration)
        service = configuration.serviceName
        group = configuration.consumerGroup()
        health = InputHealth(service: configuration.serviceName)
        consumerConfig = KafkaConfig.consumer(configuration.kafka, group: group)
        processed = Counter(label: "npr_consumed_messages_total", dimensions: [("service", configuration.serviceName)])
        emitted = Counter(label: "npr_produced_messages_total", dimensions: [("service", configuration.serviceName)])
        flushTimer = Metrics.Timer(label: "npr_flush_seconds", dimensions: [("service", configuration.serviceName)])
        stateSize = Gauge(label: "npr_state_size_bytes", dimensions: [("service", configuration.serviceName)])
        poisoned = Counter(label: "npr_unreadable_messages_total", dimensions: [("service", configuration.serviceName)])
        unassigned = Gauge(label: "npr_unassigned_input_partitions", dimensions: [("service", configuration.serviceName)])
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                let thread = Thread { [self] in
                    do {
                        try loop()
                        c.resume()
                    } catch { c.resume(throwing: error) }
                }
                thread.name = "stream-\(service)"
                thread.start()
            }
        } onGracefulShutdown: { [self] in
            stopFlag.withLock { $0 = true }
        }
    }
}

/// Inputs applied but not yet flushed: their next offsets and when the first arrived.
struct StreamPending {
    var offsets: [TopicPartition: Int64] = [:]
    var messages = 0
    var since: ContinuousClock.Instant?
    var ticked = false
    var isEmpty: Bool { messages == 0 && !ticked }
    mutating func add(_ batch: [ConsumedMessage]) {
        guard !batch.isEmpty else { return }
        for m in batch { offsets[m.topicPartition] = max(offsets[m.topicPartition] ?? 0, m.offset + 1) }
        messages += batch.count
        if since == nil { since = .now }
    }
}

extension StreamProcessor {
    func loop() throws {
        try stage.restore(from: store)
        stateSize.record(store.sizeBytes)
        let consumer = try KafkaConsumer(config: consumerConfig, name: service, logger: logger)
        defer { consumer.close() }
        // Inputs applied since the last flush; shared with the revoke hook, which runs inside `poll`.
        let pending = UnsafeSendableBox(StreamPending())
        // Group offsets for operators' lag views trail the store; a failed or interrupted commit is retried
        // (also after a restart, from the store's offsets) so the views never stay behind.
        var pendingGroupCommit = try store.offsets()
        try consumer.subscribe(
            topics: subscription,
            hooks: RebalanceHooks(
                onAssign: { [store, logger, subscription, group, unassigned] partitions in
                    // Resume from the offsets committed with our own state (read now, not at start-up); never from
                    // Kafka's group offsets. A partition we never read starts at offset 0: if the broker no longer
                    // has it, the loss is reported instead of starting silently at the log start.
                    let stored = (try? store.offsets()) ?? [:]
                    logger.info("partitions assigned", metadata: ["partitions": "\(partitions.count)"])
                    // The stage's state is whole: a member of the group with a state directory of its own holds
                    // the rest (its standbys share ours and never join), and both publish wrong absolute values.
                    let missing = Topic.everyPartition(of: subscription).subtracting(partitions)
                    unassigned.record(missing.count)
                    if !missing.isEmpty {
                        logger.critical(
                            "another instance with a state of its own consumes this group: values are wrong until it stops (instances must share the state directory)",
                            metadata: ["group": "\(group)", "notAssigned": "\(missing.sorted())"])
                    }
                    return Dictionary(uniqueKeysWithValues: partitions.map { ($0, stored[$0] ?? 0) })
                },
                onRevoke: { [self] partitions in
                    // Everything applied is flushed before the partitions go, so their next owner starts where we stop.
                    do {
                        let committed = try flush(&pending.value)
                        try? consumer.commit(committed.filter { partitions.contains($0.key) })
                    } catch {
                        logger.error("flush before revoke failed", metadata: ["error": "\(error)"])
                    }
                }))
        var lastTick = ContinuousClock.now
        var lastFlush = ContinuousClock.now
        while !stopFlag.withLock({ $0 }) {
            let batch: [ConsumedMessage]
            do {
                // While something waits to be flushed, poll briefly so the flush is not late.
                batch = try consumer.poll(maxMessages: maxBatch, timeout: .milliseconds(pending.value.isEmpty ? 100 : 5))
            } catch let lost as InputOffsetLost {
                pendingGroupCommit.merge(try flush(&pending.value)) { max($0, $1) }
                try recover(from: lost, consumer: consumer, pending: &pending.value)
                continue
            }
            if !consumer.assignment.isEmpty { readiness.set(true) }
            if !batch.isEmpty {
                try apply(batch)
                pending.value.add(batch)
            }
            if ContinuousClock.now - lastTick >= .seconds(1) {
                lastTick = ContinuousClock.now
                try stage.tick()
                pending.value.ticked = true
                exportLag(consumer.cachedLag())
            }
            let now = ContinuousClock.now
            if policy.isDue(pending.value, outputs: stage.pendingOutputs, drained: batch.count < maxBatch, lastFlush: lastFlush, now: now) {
                pendingGroupCommit.merge(try flush(&pending.value)) { max($0, $1) }
                lastFlush = now
            }
            let assigned = consumer.assignment
            let committable = pendingGroupCommit.filter { assigned.contains($0.key) }
            if !committable.isEmpty {
                do {
                    try consumer.commit(committable)
                    for k in committable.keys { pendingGroupCommit.removeValue(forKey: k) }
                } catch {
                    logger.warning("group offset commit failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
        let committed = try flush(&pending.value)
        if !committed.isEmpty { try? consumer.commit(committed.filter { consumer.assignment.contains($0.key) }) }
    }

    /// Hands data records to the stage in order; resync requests and markers go to the resync protocol.
    func apply(_ batch: [ConsumedMessage]) throws {
        var data: [ConsumedMessage] = []
        data.reserveCapacity(batch.count)
        for m in batch {
            if m.topic == Topic.control {
                if let republication = stage.republication, let value = m.value,
                    let request = try? JSONCodec.decode(ResyncRequest.self, from: value), request.topic == republication.topic
                {
                    logger.notice(
                        "republishing for a consumer that lost input",
                        metadata: [
                            "topic": "\(request.topic)",
                            "requestedBy": "\(request.requestedBy)",
                        ])
                    republishRequests.append(request.requestId)
                }
            } else if let done = m.resyncDone {
                if !data.isEmpty {
                    try applyData(data)
                    data.removeAll(keepingCapacity: true)
                }
                stage.resyncDone(m.topicPartition, done)
            } else {
                data.append(m)
            }
        }
        if !data.isEmpty { try applyData(data) }
    }

    /// Decodes on every core while applying in order; an unreadable message becomes a dead letter.
    func applyData(_ data: [ConsumedMessage]) throws {
        let inputs = stage.inputs
        try BatchCodec.forEach(
            Array(data.enumerated()),
            { (i, m) -> (Int, Result<Stage.Input, PoisonMessage>) in
                do { return (i, .success(try inputs.decode(m))) } catch { return (i, .failure(PoisonMessage(m, error))) }
            }
        ) { (i, decoded) in
            switch decoded {
            case .success(let input): try stage.apply(input, causes: headerReader.causes(data[i].headers))
            case .failure(let poison):
                logger.error(
                    "unreadable input sent to the dead-letter topic",
                    metadata: [
                        "topic": "\(poison.origin.topic)", "partition": "\(poison.origin.partition)", "offset": "\(poison.origin.offset)",
                        "reason": "\(poison.reason)",
                    ])
                poisoned.increment()
                deadLetters.append(try .json(topic: Topic.deadLetter, key: poison.origin.topic, poison.deadLetter(service: service)))
            }
        }
    }

    /// Input the service never processed is gone from the broker. Where its producers can publish their
    /// current outputs again (`Resyncing`), skip to the end of the partition and ask them to; otherwise stop
    /// for an operator (`UnrecoverableInputLoss`): never skip silently, never restart into the same loss.
    func recover(from loss: InputOffsetLost, consumer: KafkaConsumer, pending: inout StreamPending) throws {
        let tp = loss.topicPartition
        let (position, logStart) = health.record(loss, consumer: consumer, store: store)
        guard stage.resyncableTopics.contains(tp.topic) else {
            let stop = UnrecoverableInputLoss(service: service, topicPartition: tp, position: position, logStart: logStart)
            logger.critical(
                "input lost: stopping",
                metadata: [
                    "topic": "\(tp.topic)", "partition": "\(tp.partition)",
                    "position": "\(position)", "logStart": "\(logStart)", "detail": "\(stop)",
                ])
            throw stop
        }
        let end = try consumer.watermarks(tp).high
        let stored = (try? store.offsets()) ?? [:]
        try consumer.restart(tp, at: end) { max(pending.offsets[$0] ?? 0, stored[$0] ?? 0) }
        let request = ResyncRequest(requestId: UUID().uuidString, topic: tp.topic, requestedBy: service)
        stage.resyncBegan(tp, requestId: request.requestId)
        try publish([.json(topic: Topic.control, key: tp.topic, request)])
        // The skip is committed with the next flush, so a restart does not meet the same loss again.
        pending.offsets[tp] = max(pending.offsets[tp] ?? 0, end)
        pending.ticked = true
        logger.error(
            "input lost: skipped to the end of the partition and asked its producers to republish",
            metadata: [
                "topic": "\(tp.topic)", "partition": "\(tp.partition)", "position": "\(position)", "logStart": "\(logStart)",
                "end": "\(end)", "requestId": "\(request.requestId)",
            ])
    }

    /// Takes the stage's coalesced changes, publishes them (acks=all) and commits state and input offsets
    /// together; returns the offsets committed.
    func flush(_ pending: inout StreamPending) throws -> [TopicPartition: Int64] {
        guard !pending.isEmpty else { return [:] }
        let started = ContinuousClock.now
        var step = try stage.flush()
        step.outputs += deadLetters
        deadLetters = []
        if !republishRequests.isEmpty, let republication = stage.republication {
            // One republication answers every request read since the last flush; each gets its markers.
            step.outputs += try stage.republish()
            let partitions = Topic.partitions(of: republication.topic)
            for id in republishRequests {
                let done = ResyncDone(requestId: id, source: service, owns: republication.owns)
                for p in 0..<Int32(partitions) { step.outputs.append(try done.message(topic: republication.topic, partition: p)) }
            }
            republishRequests = []
        }
        try publish(step.outputs)
        try store.commit(rows: step.rows, offsets: pending.offsets)
        stage.didCommit()
        processed.increment(by: pending.messages)
        emitted.increment(by: step.outputs.count)
        let committed = pending.offsets
        pending = StreamPending()
        let elapsed = ContinuousClock.now - started
        flushTimer.recordNanoseconds(elapsed.nanoseconds)
        if ContinuousClock.now - stateSizeRecordedAt > .seconds(5) {
            stateSize.record(store.sizeBytes)
            stateSizeRecordedAt = .now
        }
        return committed
    }

    /// Publishes outputs and waits for acks=all; retries the whole set while the broker is unavailable
    /// (outputs are absolute, so resending is harmless).
    func publish(_ outputs: [OutgoingMessage]) throws {
        guard !outputs.isEmpty else { return }
        var backoff = 100
        while true {
            do {
                for o in outputs { try producer.send(o) }
                try producer.flush(timeout: .seconds(120))
                return
            } catch {
                logger.error("publishing outputs failed, retrying", metadata: ["error": "\(error)", "outputs": "\(outputs.count)"])
                if stopFlag.withLock({ $0 }) { throw error }
                usleep(UInt32(backoff * 1000))
                backoff = min(backoff * 2, 5000)
            }
        }
    }

    func exportLag(_ lag: [TopicPartition: Int64]) {
        for (tp, l) in lag {
            Gauge(label: "npr_consumer_lag_messages", dimensions: [("group", group), ("topic", tp.topic), ("partition", String(tp.partition))]).record(l)
        }
    }
}

extension Topic {
    /// Every partition of `topics` as the catalogue declares them.
    static func everyPartition(of topics: [String]) -> Set<TopicPartition> {
        Set(topics.flatMap { topic in (0..<Int32(partitions(of: topic))).map { TopicPartition(topic, $0) } })
    }
}

/// A value shared between the stream loop and the rebalance hooks it runs inside `poll` (same thread).
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Readiness as /health/ready reports it.
public final class Readiness: Sendable {
    let state = Mutex(false)
    public init() {}
    public func set(_ ready: Bool) { state.withLock { $0 = ready } }
    public var isReady: Bool { state.withLock { $0 } }
}
