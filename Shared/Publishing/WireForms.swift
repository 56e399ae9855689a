import NPRCore

// The publisher's state rows in the stream's JSON wire form (see NPRCore/WireForms.swift): the same bytes
// as JSONEncoder with sorted keys, written and read field by field.

extension PublishedContent: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("asOf", asOf)
            $0.field("ciLower", ciLower)
            $0.field("ciUpper", ciUpper)
            $0.field("denominator", denominator)
            $0.field("numerator", numerator)
            $0.field("status", status)
            $0.field("unitName", unitName)
            $0.field("value", value)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var asOf: LocalDate?, ciLower: Double?, ciUpper: Double?, denominator: Int?, numerator: Int?
        var status: PublishedStatus?, unitName: String?, value: Double?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "asOf": asOf = try json.decode()
            case "ciLower": ciLower = try json.decodeIfPresent()
            case "ciUpper": ciUpper = try json.decodeIfPresent()
            case "denominator": denominator = try json.decodeIfPresent()
            case "numerator": numerator = try json.decodeIfPresent()
            case "status": status = try json.decode()
            case "unitName": unitName = try json.decodeIfPresent()
            case "value": value = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        try self.init(
            numerator: numerator, denominator: denominator, value: value, ciLower: ciLower, ciUpper: ciUpper,
            status: json.required(status, "status"), unitName: unitName, asOf: json.required(asOf, "asOf"))
    }
}

/// The key stored once, as its string (see `Slot.encode(to:)`).
extension PublisherEngine.Slot: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("cell", cell)
            $0.field("key", key.string)
            $0.field("published", published)
            $0.field("revision", revision)
            $0.field("updatedAt", updatedAt)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var cell: Cell?, key: String?, published: PublishedContent?, revision: Int?, updatedAt: String?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "cell": cell = try json.decodeIfPresent()
            case "key": key = try json.decode()
            case "published": published = try json.decodeIfPresent()
            case "revision": revision = try json.decode()
            case "updatedAt": updatedAt = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        let text = try json.required(key, "key")
        guard let cellKey = CellKey(string: text) else { throw JSONWireError("not a cell key: \(text)", at: 0) }
        self.init(key: cellKey)
        self.cell = cell
        self.published = published
        self.revision = try json.required(revision, "revision")
        self.updatedAt = updatedAt
    }
}

/// The publisher's history rows, one per publication event.
extension PublishedRevision: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("causes", causes)
            $0.field("eventId", eventId)
            $0.field("key", key)
            $0.field("publishedAt", publishedAt)
            $0.field("publishedAtMs", Int(publishedAtMs))
            $0.nullableField("value", value)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var causes: Provenance?, eventId: Int?, key: String?, publishedAt: String?, publishedAtMs: Int?, value: PublishedValue?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "causes": causes = try json.decode()
            case "eventId": eventId = try json.decode()
            case "key": key = try json.decode()
            case "publishedAt": publishedAt = try json.decode()
            case "publishedAtMs": publishedAtMs = try json.decode()
            case "value": value = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        try self.init(
            key: json.required(key, "key"), eventId: json.required(eventId, "eventId"),
            publishedAtMs: Int64(json.required(publishedAtMs, "publishedAtMs")), publishedAt: json.required(publishedAt, "publishedAt"),
            value: value, causes: causes ?? Provenance())
    }
}
