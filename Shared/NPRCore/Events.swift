/// Internal events: what intake publishes after validation and pseudonymisation, and what the
/// stateful services exchange. No clear person id ever appears in these types.

/// Identity of an episode: (`institutionId`, `episodeId`), compared as strings.
public struct EpisodeKey: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var institutionId: String
    public var episodeId: String
    public init(institutionId: String, episodeId: String) {
        self.institutionId = institutionId
        self.episodeId = episodeId
    }
    public static func < (a: EpisodeKey, b: EpisodeKey) -> Bool { (a.institutionId, a.episodeId) < (b.institutionId, b.episodeId) }
    public var description: String { institutionId + "|" + episodeId }
}

/// One NPR episode after intake: validated, pseudonymised, with the birth date resolved.
public struct Episode: Codable, Sendable, Hashable {
    public var institutionId: String
    public var episodeId: String
    public var unitId: String
    public var sector: String
    /// HMAC-SHA256 pseudonym of the person id, or nil when the id was missing or invalid.
    public var pseudonym: String?
    public var sex: Int
    /// From the person id when valid, else the reported `birthDate`.
    public var birthDate: LocalDate
    /// As reported (may be an older number); map with `MunicipalityRegister`.
    public var municipality: String?
    public var district: String?
    public var rightToHealthcare: Int?
    public var careLevel: Int
    public var start: LocalDateTime
    public var end: LocalDateTime?
    public var endType: Int?
    public var contactType: Int?
    public var activityPlace: Int?
    public var activityType: Int?
    public var indirectActivity: Int?
    /// Main condition (first of `conditions`), if any.
    public var mainCondition: String?
    public var tariffs: [String]

    public init(
        institutionId: String, episodeId: String, unitId: String, sector: String, pseudonym: String?, sex: Int,
        birthDate: LocalDate, municipality: String?, district: String? = nil, rightToHealthcare: Int? = nil,
        careLevel: Int, start: LocalDateTime, end: LocalDateTime?, endType: Int? = nil, contactType: Int? = nil,
        activityPlace: Int? = nil, activityType: Int? = nil, indirectActivity: Int? = nil,
        mainCondition: String? = nil, tariffs: [String] = []
    ) {
        self.institutionId = institutionId
        self.episodeId = episodeId
        self.unitId = unitId
        self.sector = sector
        self.pseudonym = pseudonym
        self.sex = sex
        self.birthDate = birthDate
        self.municipality = municipality
        self.district = district
        self.rightToHealthcare = rightToHealthcare
        self.careLevel = careLevel
        self.start = start
        self.end = end
        self.endType = endType
        self.contactType = contactType
        self.activityPlace = activityPlace
        self.activityType = activityType
        self.indirectActivity = indirectActivity
        self.mainCondition = mainCondition
        self.tariffs = tariffs
    }

    public var key: EpisodeKey { EpisodeKey(institutionId: institutionId, episodeId: episodeId) }
    /// The partition/state bucket the episode belongs to: its pseudonym, or a bucket of its own.
    public var patientKey: PatientKey { PatientKey(pseudonym: pseudonym, episode: key) }
    public var isTSB: Bool { sector == "TSB" }
    public var isInpatient: Bool { careLevel == 1 }
}

/// A person bucket: the pseudonym, or `anon:<institutionId>|<episodeId>` for an episode without one
/// (such an episode is a patient of its own and links with nothing).
public struct PatientKey: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(pseudonym: String?, episode: EpisodeKey) {
        rawValue = pseudonym ?? ("anon:" + episode.description)
    }
    public var isAnonymous: Bool { rawValue.hasPrefix("anon:") }
    public var pseudonym: String? { isAnonymous ? nil : rawValue }
    public static func < (a: PatientKey, b: PatientKey) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// One accepted version of an episode, as intake publishes it on `npr.activities` keyed by `patientKey`.
///
/// `foreign` is a placeholder intake sends to a bucket that once held the episode when a version of it
/// arrives under another pseudonym (a person id corrected between revisions): at its revision it hides
/// the episode from this bucket exactly as an annulment would, so every bucket resolves the episode the
/// same way the whole history would.
public struct ActivityEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable { case version, annulment, foreign }
    public var kind: Kind
    public var patientKey: PatientKey
    public var episodeKey: EpisodeKey
    public var revision: Int
    /// Present for `version` and `annulment` (an annulment repeats the episode's fields).
    public var episode: Episode?
    public init(kind: Kind, patientKey: PatientKey, episodeKey: EpisodeKey, revision: Int, episode: Episode?) {
        self.kind = kind
        self.patientKey = patientKey
        self.episodeKey = episodeKey
        self.revision = revision
        self.episode = episode
    }
}

/// The resolved state of one episode within a bucket: the highest revision seen and its content
/// (nil when that revision is an annulment or a foreign placeholder).
public struct EpisodeSlot: Codable, Sendable, Hashable {
    public var revision: Int
    public var episode: Episode?
    public init(revision: Int, episode: Episode?) {
        self.revision = revision
        self.episode = episode
    }

    /// Applies a version; returns true when the visible content changed.
    /// Highest revision wins whatever the arrival order; at equal revisions a removal (annulment or
    /// foreign) beats content, because an annulment at r removes every version ≤ r.
    @discardableResult
    public mutating func apply(_ event: ActivityEvent) -> Bool {
        let content: Episode? = event.kind == .version ? event.episode : nil
        if event.revision > revision || (event.revision == revision && content == nil) {
            let changed = episode != content
            revision = event.revision
            episode = content
            return changed
        }
        return false
    }

    public static func initial(_ event: ActivityEvent) -> EpisodeSlot {
        EpisodeSlot(revision: event.revision, episode: event.kind == .version ? event.episode : nil)
    }
}

/// A death as intake publishes it on `npr.deaths`, keyed by pseudonym.
public struct DeathEvent: Codable, Sendable, Hashable {
    public var status: DeathStatus
    public var pseudonym: String
    public var deathDate: LocalDate
    public var sex: Int
    public var birthDate: LocalDate
    public var municipality: String?
    public init(status: DeathStatus, pseudonym: String, deathDate: LocalDate, sex: Int, birthDate: LocalDate, municipality: String?) {
        self.status = status
        self.pseudonym = pseudonym
        self.deathDate = deathDate
        self.sex = sex
        self.birthDate = birthDate
        self.municipality = municipality
    }
}

/// A population count on `npr.population` (compacted), keyed `year|municipality|sex|age` with the
/// municipality already in 2024 numbering.
public struct PopulationEvent: Codable, Sendable, Hashable {
    public var year: Int
    public var municipality: String
    public var sex: Int
    public var age: Int
    public var count: Int
    public init(year: Int, municipality: String, sex: Int, age: Int, count: Int) {
        self.year = year
        self.municipality = municipality
        self.sex = sex
        self.age = age
        self.count = count
    }
    public var key: String { "\(year)|\(municipality)|\(sex)|\(age)" }
    /// Within the bounds intake enforces, which the tallies rely on (a count near Int.max would overflow them).
    public var isPlausible: Bool {
        Plausible.years.contains(year) && Plausible.populationCount.contains(count) && Plausible.ages.contains(age) && (sex == 1 || sex == 2)
    }
}

/// Bounds on values from the registers (docs/decisions.md): intake rejects values outside them, and
/// services reading a topic send such a value to the dead-letter topic instead of applying it.
public enum Plausible {
    /// Years of any date or count: person ids encode births from 1854; nothing is reported for after 2199.
    public static let years = 1800...2199
    /// Ages in completed years (messages.md §3).
    public static let ages = 0...130
    /// People in one population cell (year, municipality, sex, age): Norway has about 5.6 million in all.
    public static let populationCount = 0...10_000_000
}

extension Episode {
    /// The episode an accepted activity message describes: its pseudonym (nil when the person id was missing
    /// or invalid) and the birth date to compute ages with (from the person id when valid).
    public init(_ m: ActivityMessage, pseudonym: String?, birthDate: LocalDate) {
        self.init(
            institutionId: m.institutionId, episodeId: m.episodeId, unitId: m.unitId, sector: m.sector,
            pseudonym: pseudonym, sex: m.patient.sex, birthDate: birthDate, municipality: m.patient.municipality,
            district: m.patient.district, rightToHealthcare: m.referral?.rightToHealthcare, careLevel: m.careLevel,
            start: m.start, end: m.end, endType: m.endType, contactType: m.contactType, activityPlace: m.activityPlace,
            activityType: m.activityType, indirectActivity: m.indirectActivity, mainCondition: m.conditions?.first,
            tariffs: m.tariffs ?? [])
    }
}

extension ActivityEvent {
    /// The version (or annulment) an accepted message publishes to its own bucket.
    public init(_ status: EpisodeStatus, revision: Int, episode: Episode) {
        self.init(
            kind: status == .annulment ? .annulment : .version, patientKey: episode.patientKey,
            episodeKey: episode.key, revision: revision, episode: episode)
    }
}
