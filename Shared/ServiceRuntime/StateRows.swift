import Foundation
import Kafka
import NPRCore

/// Encoding of engine state rows and Kafka messages, one place for all stateful services.
public enum StateRows {
    public static func row<T: Encodable>(_ namespace: String, _ key: String, _ value: T?) throws -> StateStore.Row {
        StateStore.Row(namespace: namespace, key: key, value: try value.map { try JSONCodec.data($0) })
    }

    public static func load<T: Decodable>(_ type: T.Type, namespace: String, from store: StateStore) throws -> [String: T] {
        var out: [String: T] = [:]
        let decoder = JSONDecoder()
        for (key, value) in try store.rows(namespace: namespace) { out[key] = try decoder.decode(T.self, from: value) }
        return out
    }
}

extension OutgoingMessage {
    /// A JSON-encoded message keyed by `key`.
    public static func json<T: Encodable>(topic: String, key: String, _ value: T) throws -> OutgoingMessage {
        OutgoingMessage(topic: topic, key: key, value: try JSONCodec.encode(value))
    }

    /// A cell update: absolute content, or a tombstone (null value) for a removed cell on the compacted topic.
    public static func cell(_ update: CellUpdate) throws -> OutgoingMessage {
        OutgoingMessage(topic: Topic.cells, key: update.key.string, value: try JSONCodec.encode(update))
    }
}

extension ConsumedMessage {
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard let value else { throw DecodingError.valueNotFound(T.self, .init(codingPath: [], debugDescription: "empty message on \(topic)")) }
        return try JSONCodec.decode(T.self, from: value)
    }
}
