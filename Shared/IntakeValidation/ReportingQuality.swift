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
    /// start while open) to the arrival date.
    public var delayDays: [Int: Int] = [:]
    /// Current versions: closed inpatient episodes, and those without an end type.
    public var closedInpatient = 0
    public var missingEndType = 0
    /// The arrival of the last accepted message (ISO 8601).
    public var lastMessageAt: String?

    public init() {}

    /// Applies one accepted message of an episode whose state was `before` (nil: the episode's first message)
    /// and returns the episode's state after it, to remember.
    public mutating func accept(status: EpisodeStatus, revision: Int, episode: Episode, before: EpisodeQualityState?,
                                arrival: LocalDate, at timestamp: String) -> EpisodeQualityState {
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

/// One institution's row of the data-quality report, suppressed like the indicators: a figure that rests on
/// fewer than 5 episodes is hidden (intake does not link patients, so episodes stand in for them; there are
/// at least as many episodes as patients, never fewer).
public struct QualityReportRow: Codable, Sendable, Hashable {
    public var institutionId: String
    public var institutionName: String?
    public var messages: Int?
    public var firstReports: Int?
    public var delayDaysMedian: Int?
    public var delayDaysP90: Int?
    /// `ok`, `suppressed-primary`, or `undefined` (no first reports).
    public var delayStatus: PublishedStatus
    public var closedInpatientEpisodes: Int?
    public var withoutEndType: Int?
    public var shareWithoutEndType: Double?
    /// `ok`, `suppressed-primary`, or `undefined` (no closed inpatient episodes).
    public var endTypeStatus: PublishedStatus
    public var lastMessageAt: String?

    public static let minimumEpisodes = 5

    enum CodingKeys: String, CodingKey {
        case institutionId, institutionName, messages, firstReports, delayDaysMedian, delayDaysP90, delayStatus,
             closedInpatientEpisodes, withoutEndType, shareWithoutEndType, endTypeStatus, lastMessageAt
    }

    // Every field is present, hidden ones as explicit null (as in PublishedValue).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(institutionId, forKey: .institutionId); try c.encode(institutionName, forKey: .institutionName)
        try c.encode(messages, forKey: .messages); try c.encode(firstReports, forKey: .firstReports)
        try c.encode(delayDaysMedian, forKey: .delayDaysMedian); try c.encode(delayDaysP90, forKey: .delayDaysP90)
        try c.encode(delayStatus, forKey: .delayStatus); try c.encode(closedInpatientEpisodes, forKey: .closedInpatientEpisodes)
        try c.encode(withoutEndType, forKey: .withoutEndType); try c.encode(shareWithoutEndType, forKey: .shareWithoutEndType)
        try c.encode(endTypeStatus, forKey: .endTypeStatus); try c.encode(lastMessageAt, forKey: .lastMessageAt)
    }

    public init(institutionId: String, institutionName: String?, quality q: InstitutionQuality) {
        self.institutionId = institutionId
        self.institutionName = institutionName
        lastMessageAt = q.lastMessageAt
        func shown(_ n: Int) -> Int? { (1..<Self.minimumEpisodes).contains(n) ? nil : n }
        messages = shown(q.messages)
        let enoughReports = q.firstReports >= Self.minimumEpisodes
        delayStatus = q.firstReports == 0 ? .undefined : enoughReports ? .ok : .suppressedPrimary
        firstReports = enoughReports || q.firstReports == 0 ? q.firstReports : nil
        delayDaysMedian = enoughReports ? q.delayPercentile(0.5) : nil
        delayDaysP90 = enoughReports ? q.delayPercentile(0.9) : nil
        if q.closedInpatient == 0 {
            endTypeStatus = .undefined
            closedInpatientEpisodes = 0; withoutEndType = 0; shareWithoutEndType = nil
        } else if q.closedInpatient < Self.minimumEpisodes {
            endTypeStatus = .suppressedPrimary
        } else {
            endTypeStatus = .ok
            closedInpatientEpisodes = q.closedInpatient
            withoutEndType = q.missingEndType
            shareWithoutEndType = Double(q.missingEndType) / Double(q.closedInpatient)
        }
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

/// Written per institution per request: by hand, the delay histogram as an object keyed by days.
extension InstitutionQuality: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("closedInpatient", closedInpatient)
            $0.field("delayDays", intKeyed: delayDays)
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
            case "delayDays": q.delayDays = try json.decodeIntKeyed()
            case "lastMessageAt": q.lastMessageAt = try json.decodeIfPresent()
            case "messages": q.messages = try json.decode()
            case "missingEndType": q.missingEndType = try json.decode()
            default: try json.skipValue()
            }
        }
        self = q
    }
}
