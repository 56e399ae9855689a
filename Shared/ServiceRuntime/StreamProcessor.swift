import Foundation
import Kafka
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// What one processing step asks the runtime to do: publish `outputs`, then persist `rows` together
/// with the input offsets of the batch.
public struct StepResult: Sendable {
    public var outputs: [OutgoingMessage]
    public var rows: [StateStore.Row]
    public init(outputs: [OutgoingMessage] = [], rows: [StateStore.Row] = []) { self.outputs = outputs; self.rows = rows }
    public mutating func append(_ other: StepResult) { outputs += other.outputs; rows += other.rows }
}

/// A service's stateful core as the runtime drives it: from one thread, batch by batch.
public protocol StreamHandler: AnyObject, Sendable {
    var inputTopics: [String] { get }
    /// Rebuilds in-memory state from the store before anything is consumed.
    func restore(from store: StateStore) throws
    /// Applies a batch of input messages (pure domain work plus encoding).
    func process(_ batch: [ConsumedMessage]) throws -> StepResult
    /// Periodic work without new input (e.g. the evaluation date advancing). Called about once a second.
    func tick() throws -> StepResult
    /// Called after a step's state and offsets are durable (e.g. to notify live subscribers).
    func didCommit()
}

extension StreamHandler {
    public func didCommit() {}
}

/// Consume → apply → produce (acks=all) → commit state and offsets together → commit the group offsets.
///
/// Exactly-once effect without Kafka transactions: the store is the source of truth for offsets; a crash
/// between producing and committing replays the batch, and outputs are absolute (idempotent), so the
/// replay changes nothing downstream. An out-of-range offset stops the service loudly.
public final class StreamProcessor: Service, @unchecked Sendable {
    let handler: StreamHandler
    let store: StateStore
    let consumerConfig: KafkaConfig
    let producer: KafkaProducer
    let logger: Logger
    let group: String
    public let readiness: Readiness
    let stopFlag = Mutex(false)
    let processed: Counter
    let batchTimer: Metrics.Timer
    let maxBatch: Int

    public init(handler: StreamHandler, store: StateStore, configuration: ServiceConfiguration, producer: KafkaProducer,
                readiness: Readiness, logger: Logger, maxBatch: Int = 2000) {
        self.handler = handler
        self.store = store
        self.producer = producer
        self.logger = logger
        self.readiness = readiness
        self.maxBatch = maxBatch
        group = configuration.serviceName
        consumerConfig = KafkaConfig.consumer(bootstrap: configuration.bootstrapServers, group: configuration.serviceName)
        processed = Counter(label: "npr_consumed_messages_total", dimensions: [("service", configuration.serviceName)])
        batchTimer = Metrics.Timer(label: "npr_batch_processing_seconds", dimensions: [("service", configuration.serviceName)])
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                let thread = Thread { [self] in
                    do { try loop(); c.resume() } catch { c.resume(throwing: error) }
                }
                thread.name = "stream-\(group)"
                thread.start()
            }
        } onGracefulShutdown: { [self] in
            stopFlag.withLock { $0 = true }
        }
    }

    func loop() throws {
        try handler.restore(from: store)
        let stored = try store.offsets()
        let consumer = try KafkaConsumer(config: consumerConfig, name: group, logger: logger)
        defer { consumer.close() }
        let log = logger
        try consumer.subscribe(topics: handler.inputTopics, hooks: RebalanceHooks(
            onAssign: { partitions in
                // Resume from the offsets committed with our own state; never from Kafka's group offsets.
                Dictionary(uniqueKeysWithValues: partitions.map { ($0, stored[$0] ?? KafkaOffset.beginning) })
            },
            onRevoke: { partitions in
                // Every batch is committed before the next poll, so nothing is pending here.
                log.info("revoking partitions with state committed", metadata: ["partitions": "\(partitions.count)"])
            }))
        var lastTick = ContinuousClock.now
        // Group offsets for operators' lag views trail the store; a failed or interrupted commit is retried
        // (also after a restart, from the store's offsets) so the views never stay behind.
        var pendingGroupCommit = stored
        while !stopFlag.withLock({ $0 }) {
            let batch: [ConsumedMessage]
            do {
                batch = try consumer.poll(maxMessages: maxBatch, timeout: .milliseconds(100))
            } catch let error as KafkaError where error.isOffsetOutOfRange {
                readiness.set(false)
                throw error
            }
            if !consumer.assignment.isEmpty { readiness.set(true) }
            var step = StepResult()
            let started = ContinuousClock.now
            if !batch.isEmpty { step.append(try handler.process(batch)) }
            if ContinuousClock.now - lastTick >= .seconds(1) {
                lastTick = ContinuousClock.now
                step.append(try handler.tick())
                exportLag(consumer.cachedLag())
            }
            if !batch.isEmpty || !step.outputs.isEmpty || !step.rows.isEmpty {
                try publish(step.outputs)
                var next: [TopicPartition: Int64] = [:]
                for m in batch { next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1) }
                try store.commit(rows: step.rows, offsets: next)
                handler.didCommit()
                pendingGroupCommit.merge(next) { max($0, $1) }
                processed.increment(by: batch.count)
                let elapsed = ContinuousClock.now - started
                batchTimer.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
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
            Gauge(label: "kafka_consumer_lag_messages", dimensions: [("group", group), ("topic", tp.topic), ("partition", String(tp.partition))]).record(l)
        }
    }
}

/// Readiness as /health/ready reports it.
public final class Readiness: Sendable {
    let state = Mutex(false)
    public init() {}
    public func set(_ ready: Bool) { state.withLock { $0 = ready } }
    public var isReady: Bool { state.withLock { $0 } }
}
