import CKafkaShim
import CRdKafka
import Foundation
import Logging
import Metrics
import Synchronization

public struct OutgoingMessage: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(String, [UInt8])]
    /// nil: partition by key (librdkafka's default murmur2-compatible partitioner for Java parity).
    public var partition: Int32?
    public init(topic: String, key: String?, value: [UInt8]?, headers: [(String, [UInt8])] = [], partition: Int32? = nil) {
        self.topic = topic
        self.key = key.map { Array($0.utf8) }
        self.value = value
        self.headers = headers
        self.partition = partition
    }
}

public struct DeliveryReport: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}

/// Outstanding deliveries of one producer: counted for `flush`, and resumed one by one for awaiting senders.
final class DeliveryTracker: @unchecked Sendable {
    struct State {
        var outstanding = 0
        var firstFailure: KafkaError?
    }
    let state = Mutex(State())
    let delivered: Counter
    let failed: Counter
    init(name: String) {
        delivered = Counter(label: "kafka_client_produced_messages_total", dimensions: [("client", name)])
        failed = Counter(label: "kafka_client_produce_failures_total", dimensions: [("client", name)])
    }
}

/// Per-message box travelling through librdkafka as the message opaque: one awaiting sender, or one
/// message of a batch awaited as a whole.
final class DeliveryBox: @unchecked Sendable {
    let continuation: CheckedContinuation<DeliveryReport, Error>?
    let batch: BatchDelivery?
    init(_ c: CheckedContinuation<DeliveryReport, Error>?) {
        continuation = c
        batch = nil
    }
    init(batch: BatchDelivery) {
        continuation = nil
        self.batch = batch
    }
}

/// A batch of messages awaited together: resumes once every message is acknowledged or failed, with the
/// first failure.
final class BatchDelivery: @unchecked Sendable {
    private let state: Mutex<(remaining: Int, failure: KafkaError?)>
    private let continuation: CheckedContinuation<Void, Error>
    init(count: Int, _ c: CheckedContinuation<Void, Error>) {
        state = Mutex((count, nil))
        continuation = c
    }

    func complete(_ failure: KafkaError?, count: Int = 1) {
        let done: (Bool, KafkaError?) = state.withLock { s in
            if s.failure == nil, let failure { s.failure = failure }
            s.remaining -= count
            return (s.remaining == 0, s.failure)
        }
        guard done.0 else { return }
        if let f = done.1 { continuation.resume(throwing: f) } else { continuation.resume() }
    }
}

final class ProducerContext: ClientContext, @unchecked Sendable {
    let tracker: DeliveryTracker
    override init(name: String, logger: Logger) {
        tracker = DeliveryTracker(name: name)
        super.init(name: name, logger: logger)
    }
}

/// An idempotent, acks=all producer. `send` enqueues and tracks; `flush` waits for every tracked
/// delivery and reports the first failure; `deliver` awaits one message's delivery report.
public final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    let context: ProducerContext
    let client: NativeClient
    let poller: Thread
    let stopFlag = StopFlag()
    let pollerDone = DispatchSemaphore(value: 0)

    public init(config: KafkaConfig, name: String, logger: Logger) throws {
        context = ProducerContext(name: name, logger: logger)
        client = try NativeClient(RD_KAFKA_PRODUCER, config: config, context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, msg, _ in
                guard let rk, let msg, let ctx = ClientContext.from(rk) as? ProducerContext else { return }
                let m = msg.pointee
                let failure: KafkaError? = m.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(m.err, "delivery")
                ctx.tracker.state.withLock { s in
                    s.outstanding -= 1
                    if let failure, s.firstFailure == nil { s.firstFailure = failure }
                }
                if failure == nil { ctx.tracker.delivered.increment() } else { ctx.tracker.failed.increment() }
                if let opaque = m._private {
                    let box = Unmanaged<DeliveryBox>.fromOpaque(opaque).takeRetainedValue()
                    if let batch = box.batch {
                        batch.complete(failure)
                    } else if let failure {
                        box.continuation?.resume(throwing: failure)
                    } else {
                        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                        box.continuation?.resume(returning: DeliveryReport(topic: topic, partition: m.partition, offset: m.offset))
                    }
                }
            }
        }
        handle = client.handle
        let rk = client.handle
        let stopFlag = self.stopFlag, done = self.pollerDone
        let rkBox = UnsafeSendable(rk)
        poller = Thread {
            while !stopFlag.isStopped { rd_kafka_poll(rkBox.value, 100) }
            done.signal()
        }
        poller.name = "kafka-producer-\(name)"
        poller.start()
    }

    /// Enqueues a message; its delivery is tracked for `flush`. Retries while librdkafka's queue is full.
    public func send(_ message: OutgoingMessage) throws {
        try enqueue(message, box: nil)
    }

    /// Enqueues a message and waits for the broker's acknowledgement (acks=all).
    @discardableResult
    public func deliver(_ message: OutgoingMessage) async throws -> DeliveryReport {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<DeliveryReport, Error>) in
            do { try enqueue(message, box: DeliveryBox(c)) } catch { c.resume(throwing: error) }
        }
    }

    /// Enqueues every message and waits until the broker has acknowledged them all (acks=all): one wait for
    /// the batch, not one per message. Throws the first failure; messages after a failed enqueue are not sent.
    public func deliverAll(_ messages: [OutgoingMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            let batch = BatchDelivery(count: messages.count, c)
            for (i, m) in messages.enumerated() {
                do { try enqueue(m, box: DeliveryBox(batch: batch)) } catch {
                    batch.complete(error as? KafkaError ?? KafkaError(code: -1, message: "\(error)"), count: messages.count - i)
                    return
                }
            }
        }
    }

    private func enqueue(_ message: OutgoingMessage, box: DeliveryBox?) throws {
        let opaque = box.map { Unmanaged.passRetained($0).toOpaque() }
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for (name, value) in message.headers {
                _ = value.withUnsafeBytes { rd_kafka_header_add(headers, name, -1, $0.baseAddress, $0.count) }
            }
        }
        context.tracker.state.withLock { $0.outstanding += 1 }
        var attempt = 0
        while true {
            let err: rd_kafka_resp_err_t = (message.key ?? []).withUnsafeBytes { k in
                (message.value ?? []).withUnsafeBytes { v in
                    rd_kafka_resp_err_t(
                        npr_produce(
                            handle, message.topic, message.partition ?? RD_KAFKA_PARTITION_UA,
                            message.key == nil ? nil : k.baseAddress, k.count,
                            message.value == nil ? nil : v.baseAddress, v.count, headers, opaque))
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL, attempt < 10_000 {
                attempt += 1
                rd_kafka_poll(handle, 10)  // serve delivery reports to make room
                continue
            }
            context.tracker.state.withLock { $0.outstanding -= 1 }
            if let headers { rd_kafka_headers_destroy(headers) }
            if let opaque { Unmanaged<DeliveryBox>.fromOpaque(opaque).release() }
            throw KafkaError(err, "produce to \(message.topic)")
        }
    }

    /// Waits until every tracked message is delivered or failed; throws the first failure since the last flush.
    public func flush(timeout: Duration = .seconds(60)) throws {
        let deadline = ContinuousClock.now + timeout
        while context.tracker.state.withLock({ $0.outstanding }) > 0 {
            if ContinuousClock.now > deadline { throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "flush timed out") }
            rd_kafka_flush(handle, 100)
        }
        if let failure = context.tracker.state.withLock({ s -> KafkaError? in
            defer { s.firstFailure = nil }
            return s.firstFailure
        }) {
            throw failure
        }
    }

    public var outstanding: Int { context.tracker.state.withLock { $0.outstanding } }

    /// A fatal idempotence error, if librdkafka raised one.
    public var fatalError: KafkaError? {
        var buf = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &buf, buf.count)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(code: err.rawValue, message: errorText(buf))
    }

    public func close() {
        guard stopFlag.stop() else { return }
        pollerDone.wait()
        rd_kafka_flush(handle, 5000)
        client.destroy()
    }

    deinit { close() }
}

/// Carries a value that is only used on one thread at a time across a Sendable boundary.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
