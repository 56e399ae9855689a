import Foundation
import Kafka
import Logging
import NPRCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// /v1/status: per service and consumer group, per partition committed offset, end offset and lag.
struct PipelineStatus: Codable, Sendable {
    struct PartitionStatus: Codable, Sendable {
        var topic: String
        var partition: Int32
        var committedOffset: Int64?
        var logStartOffset: Int64
        var endOffset: Int64
        var lagMessages: Int64
        var lagSeconds: Double
        /// OK: caught up; LAG: behind; ERR: the committed offset is below the log start (unprocessed data gone).
        var status: String
    }
    struct GroupStatus: Codable, Sendable {
        var service: String
        var group: String
        var partitions: [PartitionStatus]
        var lagMessages: Int64
        var lagSeconds: Double
        var caughtUp: Bool
    }
    var groups: [GroupStatus]
    var intakeInFlight: Int?
    var caughtUp: Bool
    var checkedAt: String

    /// Upstream first: intake's in-flight requests, then the groups in pipeline order. Whatever an upstream
    /// stage produced before it reported no lag is visible to the downstream checks that follow.
    static func collect(admin: KafkaAdmin, intakeURL: String?, groupOf: (String) -> String) async -> PipelineStatus {
        var inFlight: Int? = nil
        if let intakeURL, let data = await fetchOK(intakeURL + "/v1/inflight"),
            let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            inFlight = obj["inFlight"] as? Int
        }
        var groups: [GroupStatus] = []
        let nowMs = Date().timeIntervalSince1970 * 1000
        for (service, topics) in Topic.inputs {
            let group = groupOf(service)
            let lags = (try? admin.lag(group: group, topics: topics, withTimestamps: true)) ?? []
            let parts = lags.map { l in
                PartitionStatus(
                    topic: l.topic, partition: l.partition, committedOffset: l.committed, logStartOffset: l.low, endOffset: l.high,
                    lagMessages: l.lag,
                    lagSeconds: l.lagSeconds(nowMs: nowMs),
                    status: l.isBehindLogStart ? "ERR" : l.lag == 0 ? "OK" : "LAG")
            }
            let lag = parts.reduce(0) { $0 + $1.lagMessages }
            groups.append(
                GroupStatus(
                    service: service, group: group, partitions: parts, lagMessages: lag,
                    lagSeconds: parts.map(\.lagSeconds).max() ?? 0, caughtUp: lag == 0 && !lags.isEmpty && !lags.contains(where: \.isBehindLogStart)))
        }
        let caughtUp = groups.allSatisfy(\.caughtUp) && (inFlight ?? 0) == 0
        return PipelineStatus(
            groups: groups, intakeInFlight: inFlight, caughtUp: caughtUp,
            checkedAt: ISO8601DateFormatter().string(from: Date()))
    }
}

/// The body of a GET from another service of the stack, or nil when it does not answer 200.
func fetchOK(_ url: String) async -> Data? {
    guard let url = URL(string: url), let (data, response) = try? await URLSession.shared.data(from: url),
        (response as? HTTPURLResponse)?.statusCode == 200
    else { return nil }
    return data
}
