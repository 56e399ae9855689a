import Foundation
import Kafka
import NPRCore

/// On `npr.control`: a consumer found input it never processed gone from the broker and asks the producers of
/// `topic` to publish their current absolute outputs again (contracts/resync-request.v1.schema.json).
public struct ResyncRequest: Codable, Sendable, Hashable {
    public var requestId: String
    public var topic: String
    public var requestedBy: String
    public init(requestId: String, topic: String, requestedBy: String) {
        self.requestId = requestId
        self.topic = topic
        self.requestedBy = requestedBy
    }
}

/// Written by a producer into every partition of the topic after its republished records
/// (contracts/resync-done.v1.schema.json): everything `source` owns in that partition has been sent again.
public struct ResyncDone: Codable, Sendable, Hashable {
    public static let header = "npr-resync-done"
    public var requestId: String
    public var source: String
    public var owns: [String]
    public init(requestId: String, source: String, owns: [String]) {
        self.requestId = requestId
        self.source = source
        self.owns = owns
    }

    /// The marker for one partition of `topic`.
    func message(topic: String, partition: Int32) throws -> OutgoingMessage {
        OutgoingMessage(
            topic: topic, key: "__resync__|" + source, value: try JSONCodec.encode(self),
            headers: [(Self.header, Array(requestId.utf8))], partition: partition)
    }
}

extension ConsumedMessage {
    /// The producer's resync marker, when this record is one.
    var resyncDone: ResyncDone? {
        guard headers.contains(where: { $0.0 == ResyncDone.header }), let value else { return nil }
        return try? JSONCodec.decode(ResyncDone.self, from: value)
    }
}
