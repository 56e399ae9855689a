import NPRCore

/// The per-person part of the state that is not per episode.
public struct PersonMortalityHead: Codable, Sendable, Hashable {
    public var death: DeathEvent?
    public init(death: DeathEvent?) { self.death = death }
}

/// What to persist since the last `MortalityEngine.takeStateChanges()`, as rows keyed by
/// (person, episode), person and population key: storing each row as the latest value of its key and
/// restoring all rows with `MortalityEngine.restore(slots:heads:population:)` gives back the engine.
/// Slots are never removed, so there are no slot deletions; a head without a death may be deleted.
public struct MortalityStateChanges: Sendable {
    /// Episode slots that changed since the last call (only those), ordered by person, then episode.
    public var slots: [(person: String, episode: EpisodeKey, slot: EpisodeSlot)]
    /// Persons whose death registration changed since the last call, ordered by person.
    public var heads: [(person: String, head: PersonMortalityHead)]
    public var population: [PopulationEvent]
}

extension PersonMortalityState {
    public var head: PersonMortalityHead {
        get { PersonMortalityHead(death: death) }
        set { death = newValue.death }
    }
}

/// One persisted episode slot's key.
struct PersonEpisodeKey: Hashable, Comparable {
    var person: String
    var episode: EpisodeKey
    static func < (a: Self, b: Self) -> Bool { (a.person, a.episode) < (b.person, b.episode) }
}

extension PersonMortalityHead: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object { $0.field("death", death) }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var death: DeathEvent?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "death": death = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        self.init(death: death)
    }
}
