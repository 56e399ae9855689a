import Foundation
import Kafka
import Logging
import Metrics
import NPRCore

/// A service stopped on purpose because input it never read is gone: restarting cannot help, so the
/// process exits with `exitCode` and the supervisor (scripts/stack.sh, compose `on-failure`) leaves it down.
public struct UnrecoverableInputLoss: Error, CustomStringConvertible, Sendable {
    public static let exitCode: Int32 = 78  // EX_CONFIG: needs an operator, not a restart
    public var service: String
    public var topicPartition: TopicPartition
    public var position: Int64
    public var logStart: Int64
    public var description: String {
        """
        \(service): input \(topicPartition) lost: the next offset to process is \(position) but the broker's log \
        starts at \(logStart); \(logStart - position) messages were never processed and are gone from the broker. \
        The values cannot be made exact from what is left. Rebuild: restore the topic (or re-send the source \
        data into a fresh stack: `make down && make up`, then load again), then `npr-ops replay \(service)`.
        """
    }
}

/// Reports input partitions whose committed position fell below the broker's log start (metrics; the
/// stream runtime logs and decides what to do about it).
final class InputHealth: Sendable {
    let service: String
    let lostCounter: Counter

    init(service: String) {
        self.service = service
        lostCounter = Counter(label: "npr_input_offsets_lost_total", dimensions: [("service", service)])
    }

    /// Counts a loss and records how many messages are gone; returns the stored position and the log start.
    func record(_ loss: InputOffsetLost, consumer: KafkaConsumer, store: StateStore) -> (position: Int64, logStart: Int64) {
        let position = (try? store.offsets())?[loss.topicPartition] ?? max(0, loss.offset)
        let logStart = (try? consumer.watermarks(loss.topicPartition).low) ?? -1
        lostCounter.increment()
        Gauge(
            label: "npr_input_lost_messages",
            dimensions: [
                ("service", service), ("topic", loss.topicPartition.topic),
                ("partition", String(loss.topicPartition.partition)),
            ]
        )
        .record(max(0, logStart - position))
        return (position, logStart)
    }
}
