import Foundation
import Kafka
import NPRCore

/// One kind of row in a service's store, declared once with the type of its values, so that the rows a
/// service writes and the rows it restores from cannot disagree on the namespace or the type.
///
/// The coder is chosen where the namespace is declared, by its value type: the wire form where the type has
/// one (`JSONWireCodable`), Foundation's coders otherwise.
public struct StateNamespace<Value: Codable & Sendable>: Sendable {
    public let name: String
    /// Whether rows are written and read in the value type's wire form (tests hold the hot namespaces to it).
    public let usesWireForm: Bool
    private let encode: @Sendable (Value) throws -> Data
    private let decode: @Sendable (Data) throws -> Value

    public init(_ name: String) where Value: JSONWireCodable {
        self.name = name
        usesWireForm = true
        encode = { try JSONCodec.data($0) }
        decode = { try JSONCodec.decode(Value.self, from: $0) }
    }

    public init(_ name: String) {
        self.name = name
        usesWireForm = false
        encode = { try JSONCodec.data($0) }
        decode = { try JSONCodec.decode(Value.self, from: $0) }
    }

    /// The row of `key`; a nil value deletes it.
    public func row(_ key: String, _ value: Value?) throws -> StateStore.Row {
        StateStore.Row(namespace: name, key: key, value: try value.map(encode))
    }

    /// Every row, by key.
    public func load(from store: StateStore) throws -> [String: Value] {
        var out: [String: Value] = [:]
        for (key, value) in try store.rows(namespace: name) { out[key] = try decode(value) }
        return out
    }
}

extension StateNamespace {
    /// The row of `owner`'s `episode` (tab-separated key: neither part can hold a tab); nil content deletes it.
    public func row<Content>(owner: String, episode: EpisodeKey, _ content: Content?) throws -> StateStore.Row
    where Value == EpisodeRow<Content> {
        try row(owner + "\t" + episode.institutionId + "\t" + episode.episodeId, content.map { EpisodeRow(owner: owner, episode: episode, content: $0) })
    }

    /// Every episode row.
    public func loadRows<Content>(from store: StateStore) throws -> [EpisodeRow<Content>] where Value == EpisodeRow<Content> {
        Array(try load(from: store).values)
    }
}

// The namespaces more than one service keeps (each service declares its own beside its stage).
extension StateNamespace where Value == NPRCore.Unit {
    /// The unit register, by unit id.
    public static var units: Self { Self("unit") }
}
extension StateNamespace where Value == PopulationEvent {
    /// Population counts, by `PopulationEvent.key`.
    public static var population: Self { Self("population") }
}
extension StateNamespace where Value == PatientStaysHead {
    /// Each patient's stays and changelog sequence, by patient key.
    public static var stayHeads: Self { Self("head") }
}
extension StateNamespace where Value == EpisodeRow<EpisodeSlot> {
    /// Each episode's revision slot, by owner and episode.
    public static var episodeSlots: Self { Self("slot") }
}

extension OutgoingMessage {
    /// A JSON-encoded message keyed by `key`, with the causes behind it as a header (`Provenance.header`): in
    /// its wire form where the type has one (the overload below), with Foundation's coder otherwise.
    public static func json<T: Encodable>(topic: String, key: String, _ value: T, causes: Provenance = Provenance()) throws -> OutgoingMessage {
        OutgoingMessage(topic: topic, key: key, value: try JSONCodec.encode(value), headers: causes.header)
    }

    public static func json<T: JSONWireEncodable & Encodable>(
        topic: String, key: String, _ value: T, causes: Provenance = Provenance()
    ) throws -> OutgoingMessage {
        OutgoingMessage(topic: topic, key: key, value: try JSONCodec.encode(value), headers: causes.header)
    }

    /// A cell update: absolute content, or a tombstone (null value) for a removed cell on the compacted topic.
    public static func cell(_ update: CellUpdate, causes: Provenance = Provenance()) throws -> OutgoingMessage {
        OutgoingMessage(topic: Topic.cells, key: update.key.string, value: try JSONCodec.encode(update), headers: causes.header)
    }

    /// Every current cell of an engine as updates (a republishing producer's answer), encoded on every core.
    public static func cells(_ all: [CellKey: Cell]) throws -> [OutgoingMessage] {
        // A value they change had lost its own causes with the input the consumer lost.
        let rebuilt = Provenance(.init(.rebuild))
        return try BatchCodec.map(all.map { CellUpdate(key: $0.key, cell: $0.value) }) { try OutgoingMessage.cell($0, causes: rebuilt) }
    }
}

extension ConsumedMessage {
    /// The message's value: read in its wire form where the type has one (the overload below), with
    /// Foundation's coder otherwise.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONCodec.decode(T.self, from: try nonEmptyValue(T.self)) }

    public func decode<T: JSONWireDecodable & Decodable>(_ type: T.Type) throws -> T { try JSONCodec.decode(T.self, from: try nonEmptyValue(T.self)) }

    private func nonEmptyValue<T>(_ type: T.Type) throws -> [UInt8] {
        guard let value else { throw DecodingError.valueNotFound(T.self, .init(codingPath: [], debugDescription: "empty message on \(topic)")) }
        return value
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
