import Foundation
import Kafka
import Logging
import Metrics
import NPRCore
import Synchronization

/// A service stopped on purpose because input it never read is gone: restarting cannot help, so the
/// process exits with `exitCode` and the supervisor (scripts/stack.sh, compose `on-failure`) leaves it down.
public struct UnrecoverableInputLoss: Error, CustomStringConvertible, Sendable {
    public static let exitCode: Int32 = 78   // EX_CONFIG: needs an operator, not a restart
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

/// Tracks input partitions whose committed position fell below the broker's log start, for metrics,
/// logs and `/health`, and decides what to do about it.
public final class InputHealth: Sendable {
    let service: String
    let lost = Mutex<[TopicPartition: Int64]>([:])
    let lostCounter: Counter

    init(service: String) {
        self.service = service
        lostCounter = Counter(label: "npr_input_offsets_lost_total", dimensions: [("service", service)])
    }

    /// Partitions whose input was found lost, with the number of messages gone.
    public var lostPartitions: [TopicPartition: Int64] { lost.withLock { $0 } }

    /// Records a loss (metric, gauge, the partition's state for health) and returns the stored position and
    /// the log start.
    func record(_ loss: InputOffsetLost, consumer: KafkaConsumer, store: StateStore) -> (position: Int64, logStart: Int64) {
        let position = (try? store.offsets())?[loss.topicPartition] ?? max(0, loss.offset)
        let logStart = (try? consumer.watermarks(loss.topicPartition).low) ?? -1
        lost.withLock { $0[loss.topicPartition] = max(0, logStart - position) }
        lostCounter.increment()
        Gauge(label: "npr_input_lost_messages", dimensions: [("service", service), ("topic", loss.topicPartition.topic),
                                                              ("partition", String(loss.topicPartition.partition))])
            .record(max(0, logStart - position))
        return (position, logStart)
    }
}
