import NPRCore

/// What one episode's current version contributes to its institution's end-type figures.
public struct EpisodeQuality: Codable, Sendable, Hashable {
    public var closedInpatient: Bool
    public var missingEndType: Bool

    /// A closed inpatient episode (careLevel 1 with an end), and whether it lacks `endType`: the seeds warn that
    /// `avslutningstype` is often missing, and the dropout indicator counts such stays in its denominator.
    public init(_ episode: Episode) {
        closedInpatient = episode.careLevel == 1 && episode.end != nil
        missingEndType = closedInpatient && episode.endType == nil
    }
}

/// One episode's current contribution, following the revision rules (messages.md): the highest revision
/// wins whatever the arrival order, and an annulment at revision r removes every version ≤ r.
public struct EpisodeQualityState: Codable, Sendable, Hashable {
    public var revision = 0
    public var current: EpisodeQuality?

    public init() {}

    public mutating func apply(status: EpisodeStatus, revision r: Int, episode: Episode) {
        if r > revision {
            revision = r
            current = status == .annulment ? nil : EpisodeQuality(episode)
        } else if r == revision && status == .annulment {
            current = nil
        }
    }
}

/// The reporting quality of one institution, kept by intake as messages are accepted.
public struct InstitutionQuality: Codable, Sendable, Hashable {
    /// Accepted activity messages (new, corrections, annulments).
    public var messages = 0
    /// First reports of episodes by reporting delay in days: from the episode's event date (its end, or its
    /// start while open) to the arrival date. Stored as `[days, count]` pairs in order of days (`delayPairs`):
    /// the row is written for every round that touches the institution, and a histogram of thousands of days
    /// written as an object with text keys in text order cost intake a tenth of its time.
    public var delayDays: [Int: Int] = [:]
    /// Current versions: closed inpatient episodes, and those without an end type.
    public var closedInpatient = 0
    public var missingEndType = 0
    /// The arrival of the last accepted message (ISO 8601).
    public var lastMessageAt: String?

    public init() {}

    enum CodingKeys: String, CodingKey { case closedInpatient, delayDays, lastMessageAt, messages, missingEndType }

    /// The histogram as written: `[days, count]` in order of days.
    var delayPairs: [(Int, Int)] { delayDays.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(closedInpatient, forKey: .closedInpatient)
        try c.encode(delayPairs.map { [$0.0, $0.1] }, forKey: .delayDays)
        try c.encodeIfPresent(lastMessageAt, forKey: .lastMessageAt)
        try c.encode(messages, forKey: .messages)
        try c.encode(missingEndType, forKey: .missingEndType)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        closedInpatient = try c.decode(Int.self, forKey: .closedInpatient)
        let pairs = try c.decode([[Int]].self, forKey: .delayDays)
        guard pairs.allSatisfy({ $0.count == 2 }) else {
            throw DecodingError.dataCorruptedError(forKey: .delayDays, in: c, debugDescription: "pairs of [days, count] expected")
        }
        delayDays = Dictionary(pairs.map { ($0[0], $0[1]) }, uniquingKeysWith: +)
        lastMessageAt = try c.decodeIfPresent(String.self, forKey: .lastMessageAt)
        messages = try c.decode(Int.self, forKey: .messages)
        missingEndType = try c.decode(Int.self, forKey: .missingEndType)
    }

    /// Applies one accepted message of an episode whose state was `before` (nil: the episode's first message)
    /// and returns the episode's state after it, to remember.
    public mutating func accept(
        status: EpisodeStatus, revision: Int, episode: Episode, before: EpisodeQualityState?,
        arrival: LocalDate, at timestamp: String
    ) -> EpisodeQualityState {
        messages += 1
        if lastMessageAt.map({ $0 < timestamp }) ?? true { lastMessageAt = timestamp }
        if before == nil {
            let event = (episode.end ?? episode.start).date
            delayDays[max(0, arrival.dayNumber - event.dayNumber), default: 0] += 1
        }
        var after = before ?? EpisodeQualityState()
        after.apply(status: status, revision: revision, episode: episode)
        if let previous = before?.current { count(previous, -1) }
        if let current = after.current { count(current, +1) }
        return after
    }

    private mutating func count(_ q: EpisodeQuality, _ sign: Int) {
        if q.closedInpatient { closedInpatient += sign }
        if q.missingEndType { missingEndType += sign }
    }

    /// Episodes first reported.
    public var firstReports: Int { delayDays.values.reduce(0, +) }

    /// The nearest-rank percentile (0 < p ≤ 1) of the reporting delays in days; nil without reports.
    public func delayPercentile(_ p: Double) -> Int? {
        let total = firstReports
        guard total > 0 else { return nil }
        let rank = Int((p * Double(total)).rounded(.up))
        var seen = 0
        for (days, n) in delayDays.sorted(by: { $0.key < $1.key }) {
            seen += n
            if seen >= max(rank, 1) { return days }
        }
        return delayDays.keys.max()
    }
}

/// Intake's part of an institution's data-quality row: a figure that rests on fewer than 5 episodes is hidden
/// (intake does not link patients, so episodes stand in for them; there are at least as many episodes as
/// patients, never fewer).
extension QualityReportRow {
    public init(institutionId: String, institutionName: String?, quality q: InstitutionQuality) {
        func shown(_ n: Int) -> Int? { (1..<Self.minimumEpisodes).contains(n) ? nil : n }
        let enoughReports = q.firstReports >= Self.minimumEpisodes
        let endType: (closed: Int?, without: Int?, share: Double?, status: PublishedStatus) =
            q.closedInpatient == 0
            ? (0, 0, nil, .undefined)
            : q.closedInpatient < Self.minimumEpisodes
                ? (nil, nil, nil, .suppressedPrimary)
                : (q.closedInpatient, q.missingEndType, Double(q.missingEndType) / Double(q.closedInpatient), .ok)
        self.init(
            institutionId: institutionId, institutionName: institutionName, messages: shown(q.messages),
            firstReports: enoughReports || q.firstReports == 0 ? q.firstReports : nil,
            delayDaysMedian: enoughReports ? q.delayPercentile(0.5) : nil,
            delayDaysP90: enoughReports ? q.delayPercentile(0.9) : nil,
            delayStatus: q.firstReports == 0 ? .undefined : enoughReports ? .ok : .suppressedPrimary,
            closedInpatientEpisodes: endType.closed, withoutEndType: endType.without, shareWithoutEndType: endType.share,
            endTypeStatus: endType.status, lastMessageAt: q.lastMessageAt)
    }
}

// Wire forms: the state rides in each episode's ledger row, written per accepted record.
extension EpisodeQuality: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("closedInpatient", closedInpatient)
            $0.field("missingEndType", missingEndType)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var closed: Bool?, missing: Bool?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "closedInpatient": closed = try json.decode()
            case "missingEndType": missing = try json.decode()
            default: try json.skipValue()
            }
        }
        closedInpatient = try json.required(closed, "closedInpatient")
        missingEndType = try json.required(missing, "missingEndType")
    }
}

extension EpisodeQualityState: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("current", current)
            $0.field("revision", revision)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var current: EpisodeQuality?, revision: Int?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "current": current = try json.decodeIfPresent()
            case "revision": revision = try json.decode()
            default: try json.skipValue()
            }
        }
        self.init()
        self.current = current
        self.revision = try json.required(revision, "revision")
    }
}

/// Written per institution per round: by hand, the delay histogram as `[days, count]` pairs.
extension InstitutionQuality: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("closedInpatient", closedInpatient)
            $0.field("delayDays", intPairs: delayPairs)
            $0.field("lastMessageAt", lastMessageAt)
            $0.field("messages", messages)
            $0.field("missingEndType", missingEndType)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var q = InstitutionQuality()
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "closedInpatient": q.closedInpatient = try json.decode()
            case "delayDays": q.delayDays = Dictionary(try json.decodeIntPairs(), uniquingKeysWith: +)
            case "lastMessageAt": q.lastMessageAt = try json.decodeIfPresent()
            case "messages": q.messages = try json.decode()
            case "missingEndType": q.missingEndType = try json.decode()
            default: try json.skipValue()
            }
        }
        self = q
    }
}
