import IntakeValidation
import NPRCore

/// What the ledger remembers per episode: the content hash of each accepted revision (revision conflicts),
/// the patient buckets the episode was published to (foreign placeholders when a person id changes between
/// revisions), and what its current version contributes to its institution's reporting quality.
public struct EpisodeRoute: Codable, Sendable, Hashable {
    /// Revision → hash of the non-annulment content accepted at it.
    public var revisions: [Int: Digest128] = [:]
    /// Patient bucket → highest revision published to it.
    public var buckets: [String: Int] = [:]
    /// What the episode's current version contributes to its institution's reporting quality (nil in routes
    /// stored before it was kept).
    public var quality: EpisodeQualityState?

    public init() {}
}

/// The route's row, written for every accepted record: by hand (`JSONEncoder` cost intake a tenth of its time
/// here). Dictionaries keep their keys in sorted order, as `JSONEncoder` with sorted keys writes them.
extension EpisodeRoute: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("buckets", entries: buckets.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
            $0.field("quality", quality)
            $0.field("revisions", intKeyed: revisions)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        self.init()
        var route = EpisodeRoute()
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "buckets":
                try json.object { (bucket, json) throws(JSONWireError) in route.buckets[bucket.text] = try json.decode() }
            case "quality": route.quality = try json.decodeIfPresent()
            case "revisions": route.revisions = try json.decodeIntKeyed()
            default: try json.skipValue()
            }
        }
        self = route
    }
}
