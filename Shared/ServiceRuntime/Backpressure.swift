import Foundation
import Kafka
import Logging
import Metrics
import NPRCore
import Synchronization

/// Flow control for intake: new work is admitted only while no consumer group of the pipeline is further
/// behind on any partition it reads than the broker can be trusted to keep.
///
/// The bound per partition is the smaller of `NPR_MAX_PIPELINE_LAG` (default 4 000 messages, safe for the
/// embedded broker: it keeps 5 MiB per partition, about 10 000 of the largest messages, the linker's stay
/// changelogs) and half of what the broker currently retains of that partition once it has started to drop
/// old data (log start above 0), so a broker with a smaller retention still never drops unread data.
/// A request waits for admission up to `NPR_ADMISSION_WAIT_MS` (default 60 000, half a client's ordinary
/// 2-minute timeout); past that it is refused with 503 and `Retry-After`. While the broker does not answer
/// the lag queries (no sample newer than 5 s) nothing is held: publishing refuses at once what it cannot deliver.
public final class Backpressure: Sendable {
    public struct Settings: Sendable {
        public var maxLagPerPartition: Int64 = 4_000
        public var maxWait: Duration = .seconds(60)
        public var sampleInterval: Duration = .milliseconds(100)
        /// A sample older than this says nothing about the lag now (see `admission`).
        public var staleAfter: Duration = .seconds(5)
        public init() {}
        public init(configuration: ServiceConfiguration) throws {
            maxLagPerPartition = Int64(
                try configuration.integer("NPR_MAX_PIPELINE_LAG", default: Int(maxLagPerPartition), in: 1...Int(Int32.max), unit: "messages"))
            maxWait = .milliseconds(try configuration.integer("NPR_ADMISSION_WAIT_MS", default: 60_000, in: 0...600_000, unit: "milliseconds"))
            // A request waits for admission before its body is read, which the HTTP server counts as idle.
            guard Duration.seconds(configuration.httpLimits.idleTimeoutSeconds) > maxWait + .seconds(5) else {
                throw ConfigurationError(variable: "NPR_HTTP_IDLE_TIMEOUT_S", problem: "must exceed NPR_ADMISSION_WAIT_MS by at least 5 s")
            }
        }
    }

    /// The worst partition of the last sample.
    public struct Sample: Sendable, Codable {
        public var admitting: Bool
        public var group: String
        public var topic: String
        public var partition: Int32
        public var lag: Int64
        public var bound: Int64
        public var sampledAt: Double
        public init(admitting: Bool, group: String, topic: String, partition: Int32, lag: Int64, bound: Int64, sampledAt: Double) {
            self.admitting = admitting
            self.group = group
            self.topic = topic
            self.partition = partition
            self.lag = lag
            self.bound = bound
            self.sampledAt = sampledAt
        }
    }

    public let settings: Settings
    let groups: [(group: String, topics: [String])]
    let admin: KafkaAdmin
    let logger: Logger
    let latest = Mutex<Sample?>(nil)
    let waits: Counter
    let refusals: Counter
    let lagGauge: Gauge

    /// Watches the consumer groups of `services` (by default every stateful service but intake).
    public init(
        settings: Settings, configuration: ServiceConfiguration, logger: Logger,
        services: [(service: String, topics: [String])] = Topic.inputs.filter { $0.service != "intake" }
    ) throws {
        self.settings = settings
        groups = services.map { (configuration.consumerGroup(of: $0.service), $0.topics) }
        self.logger = logger
        admin = try KafkaAdmin(connection: configuration.kafka, logger: logger)
        waits = Counter(label: "intake_backpressure_waits_total")
        refusals = Counter(label: "intake_backpressure_refusals_total")
        lagGauge = Gauge(label: "intake_pipeline_max_lag_messages")
        // Samples for the life of the process (intake holds one Backpressure).
        let thread = Thread { [self] in
            while true {
                sampleOnce()
                Thread.sleep(forTimeInterval: settings.sampleInterval.seconds)
            }
        }
        thread.name = "backpressure"
        thread.start()
    }

    /// One look at every group's lag; the partition closest to (or furthest past) its bound decides.
    func sampleOnce() {
        let now = Date().timeIntervalSince1970
        guard let lags = try? admin.lags(groups) else {
            // No answer from the broker: no lag to judge. Requests go on to publishing, which refuses them
            // with 503 while the broker does not acknowledge, rather than being held here for nothing.
            latest.withLock { $0 = nil }
            return
        }
        var worst: Sample?
        for l in lags {
            let bound = l.low > 0 ? min(settings.maxLagPerPartition, (l.high - l.low) / 2) : settings.maxLagPerPartition
            let s = Sample(admitting: l.lag <= bound, group: l.group, topic: l.topic, partition: l.partition, lag: l.lag, bound: bound, sampledAt: now)
            if worst.map({ Double(l.lag) / Double(max(bound, 1)) > Double($0.lag) / Double(max($0.bound, 1)) }) ?? true { worst = s }
        }
        if let worst { lagGauge.record(worst.lag) }
        latest.withLock { $0 = worst }
    }

    public var current: Sample? { latest.withLock { $0 } }

    /// Waits until the pipeline is within its bounds (true) or `settings.maxWait` passed (false: refuse).
    /// A request that had to wait waits for a fresh sample taken after it arrived, so a burst of requests
    /// cannot all slip through on one old sample.
    public func admit() async -> Bool {
        let arrived = Date().timeIntervalSince1970
        guard Self.admission(current, now: arrived, waitingSince: nil, staleAfter: settings.staleAfter) == .wait else { return true }
        waits.increment()
        let deadline = ContinuousClock.now + settings.maxWait
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            let now = Date().timeIntervalSince1970
            if Self.admission(current, now: now, waitingSince: arrived, staleAfter: settings.staleAfter) == .admit { return true }
        }
        refusals.increment()
        return false
    }

    public enum Admission: Sendable, Equatable { case admit, wait }

    /// The decision on the latest sample for a request that arrived now (`waitingSince` nil) or has waited
    /// since then. No sample, or one older than `staleAfter` (the broker does not answer the lag queries, as
    /// when it is down: each then takes its full timeout), means no lag to judge: the request goes on to
    /// publishing, which refuses it at once while the broker does not acknowledge, instead of holding it for
    /// nothing until `maxWait`. A new request passes on a recent (≤ 1 s) admitting sample; a waiting one
    /// needs an admitting sample taken after it arrived.
    public static func admission(_ sample: Sample?, now: Double, waitingSince: Double?, staleAfter: Duration) -> Admission {
        guard let sample, now - sample.sampledAt <= staleAfter.seconds else { return .admit }
        guard sample.admitting else { return .wait }
        if let waitingSince { return sample.sampledAt > waitingSince ? .admit : .wait }
        return now - sample.sampledAt <= 1 ? .admit : .wait
    }
}
