import Foundation
import NPRCore

/// One entry of a published value's revision history: the value as published at a moment, or its withdrawal.
public struct PublishedRevision: Codable, Sendable, Hashable {
    /// The value's key (`indicator|measure|period|level|unit|sex`).
    public var key: String
    /// Position in the publication log: orders entries published in the same millisecond.
    public var eventId: Int
    /// When it was published, in milliseconds since 1970-01-01T00:00:00Z, and as ISO 8601 with milliseconds.
    public var publishedAtMs: Int64
    public var publishedAt: String
    /// nil: the value was withdrawn (no contributions left).
    public var value: PublishedValue?
    /// What caused this revision: counts of new episodes, corrections, annulments (by reporting institution),
    /// deaths, register changes and evaluation-date moves since the previous one (empty when unknown, e.g.
    /// a value rebuilt after lost input).
    public var causes: Provenance

    /// `publishedAt`: the moment as text when the caller has it (a flush formats its moment once for all its
    /// entries: a date formatter is costly to make).
    public init(
        key: String, eventId: Int, publishedAtMs: Int64, publishedAt: String? = nil, value: PublishedValue?,
        causes: Provenance = Provenance()
    ) {
        self.key = key
        self.eventId = eventId
        self.publishedAtMs = publishedAtMs
        self.value = value
        self.causes = causes
        self.publishedAt = publishedAt ?? Vintage.isoText(milliseconds: publishedAtMs)
    }

    enum CodingKeys: String, CodingKey { case key, eventId, publishedAtMs, publishedAt, value, causes }

    // A withdrawal is written with `"value": null` (the field is always there).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(eventId, forKey: .eventId)
        try c.encode(publishedAtMs, forKey: .publishedAtMs)
        try c.encode(publishedAt, forKey: .publishedAt)
        try c.encode(value, forKey: .value)
        try c.encode(causes, forKey: .causes)
    }
}

/// The published values as they were at any past moment ("vintages"), from the revision history that the
/// publisher keeps beside its state (one row per publication event, never rewritten).
public enum Vintage {
    /// The row key of a history entry: the value's key, then the event id, so that one value's history is a
    /// contiguous key range in publication order.
    public static func rowKey(_ key: String, eventId: Int) -> String { key + "#" + String(format: "%012d", eventId) }

    /// The row-key prefix that covers the filters: the leading given components of the key (the others are
    /// filtered after reading). Ends with a separator, so `2024` never covers `2024-T1`.
    public static func rowKeyPrefix(
        indicator: String?, measure: String?, period: String?, level: String?, unit: String?,
        sex: String?
    ) -> String {
        var prefix = ""
        let components = [indicator, measure, period, level, unit, sex]
        for (i, component) in components.enumerated() {
            guard let component else { break }
            prefix += component + (i == components.count - 1 ? "#" : "|")
        }
        return prefix
    }

    /// Keeps, per key, the entry published last at or before a moment; `values` then answers what was
    /// published at that moment. Feed it entries in any order.
    public struct Selection: Sendable {
        public let moment: Int64
        private(set) var latest: [String: PublishedRevision] = [:]

        public init(atMs moment: Int64) { self.moment = moment }

        public mutating func consider(_ entry: PublishedRevision) {
            guard entry.publishedAtMs <= moment else { return }
            if let current = latest[entry.key], current.eventId > entry.eventId { return }
            latest[entry.key] = entry
        }

        /// The values published at the moment (withdrawn ones left out), ordered by key.
        public var values: [PublishedValue] { latest.values.compactMap(\.value).sorted { $0.key < $1.key } }
    }

    /// `2024-09-02T10:15:00.250Z` for a moment in milliseconds.
    public static func isoText(milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// A moment from an ISO 8601 date-time with a time zone, with or without fractional seconds; nil otherwise.
    public static func milliseconds(iso text: String) -> Int64? {
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}
