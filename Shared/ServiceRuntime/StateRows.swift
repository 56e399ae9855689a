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
        for (key, value) in try store.rows(namespace: namespace) { out[key] = try JSONCodec.decode(T.self, from: value) }
        return out
    }
}

extension OutgoingMessage {
    /// A JSON-encoded message keyed by `key`.
    /// A JSON-encoded message keyed by `key`, with the causes behind it as a header (`Provenance.header`).
    public static func json<T: Encodable>(topic: String, key: String, _ value: T, causes: Provenance = Provenance()) throws -> OutgoingMessage {
        OutgoingMessage(topic: topic, key: key, value: try JSONCodec.encode(value), headers: causes.header)
    }

    /// A cell update: absolute content, or a tombstone (null value) for a removed cell on the compacted topic.
    public static func cell(_ update: CellUpdate, causes: Provenance = Provenance()) throws -> OutgoingMessage {
        OutgoingMessage(topic: Topic.cells, key: update.key.string, value: try JSONCodec.encode(update), headers: causes.header)
    }

    /// Every current cell of an engine as updates (a `Republishing` producer's answer), encoded on every core.
    public static func cells(_ all: [CellKey: Cell]) throws -> [OutgoingMessage] {
        // A value they change had lost its own causes with the input the consumer lost.
        let rebuilt = Provenance(.init(.rebuild))
        return try BatchCodec.map(all.map { CellUpdate(key: $0.key, cell: $0.value) }) { try OutgoingMessage.cell($0, causes: rebuilt) }
    }
}

extension ConsumedMessage {
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard let value else { throw DecodingError.valueNotFound(T.self, .init(codingPath: [], debugDescription: "empty message on \(topic)")) }
        return try JSONCodec.decode(T.self, from: value)
    }
}

/// A state row about one episode of one patient or person: stored per episode so that a change writes
/// only what changed, not the owner's whole history.
public struct EpisodeRow<Content: Codable & Sendable>: Codable, Sendable {
    public var owner: String
    public var episode: EpisodeKey
    public var content: Content
}

extension EpisodeRow: JSONWireCodable where Content: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("content", content)
            $0.field("episode", episode)
            $0.field("owner", owner)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var content: Content?, episode: EpisodeKey?, owner: String?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "content": content = try json.decode()
            case "episode": episode = try json.decode()
            case "owner": owner = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            owner: json.required(owner, "owner"), episode: json.required(episode, "episode"),
            content: json.required(content, "content"))
    }
}

extension StateRows {
    /// The row of `owner`'s `episode` (tab-separated key: neither part can hold a tab); nil content deletes it.
    public static func episodeRow<Content: Codable & Sendable>(
        _ namespace: String, owner: String, episode: EpisodeKey,
        _ content: Content?
    ) throws -> StateStore.Row {
        try row(
            namespace, owner + "\t" + episode.institutionId + "\t" + episode.episodeId,
            content.map { EpisodeRow(owner: owner, episode: episode, content: $0) })
    }

    public static func loadEpisodeRows<Content: Codable & Sendable>(
        _ type: Content.Type, namespace: String,
        from store: StateStore
    ) throws -> [EpisodeRow<Content>] {
        Array(try load(EpisodeRow<Content>.self, namespace: namespace, from: store).values)
    }
}
