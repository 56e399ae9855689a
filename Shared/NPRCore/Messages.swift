/// Wire contracts of the input messages (`../shared/spec/messages.md`, `contracts/*.schema.json`).
/// Field names are the wire names. Codes stay the integers NPR uses.

public enum EpisodeStatus: String, Codable, Sendable, Hashable {
    case new = "N", correction = "M", annulment = "C"
}

public enum DeathStatus: String, Codable, Sendable, Hashable {
    case registration = "N", annulment = "C"
}

public struct ActivityMessage: Codable, Sendable, Hashable {
    public struct Patient: Codable, Sendable, Hashable {
        public var personId: String?
        public var sex: Int
        public var birthDate: LocalDate?
        public var municipality: String?
        public var district: String?
        public init(personId: String? = nil, sex: Int, birthDate: LocalDate? = nil, municipality: String?, district: String? = nil) {
            self.personId = personId
            self.sex = sex
            self.birthDate = birthDate
            self.municipality = municipality
            self.district = district
        }
        // `municipality` is required but nullable: encode null explicitly.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(personId, forKey: .personId)
            try c.encode(sex, forKey: .sex)
            try c.encodeIfPresent(birthDate, forKey: .birthDate)
            try c.encode(municipality, forKey: .municipality)
            try c.encodeIfPresent(district, forKey: .district)
        }
    }

    public struct Referral: Codable, Sendable, Hashable {
        public var receivedDate: LocalDate?
        public var rightToHealthcare: Int?
        public init(receivedDate: LocalDate? = nil, rightToHealthcare: Int? = nil) {
            self.receivedDate = receivedDate
            self.rightToHealthcare = rightToHealthcare
        }
    }

    public var messageId: String
    public var status: EpisodeStatus
    public var revision: Int
    public var institutionId: String
    public var episodeId: String
    public var unitId: String
    public var sector: String
    public var patient: Patient
    public var referral: Referral?
    public var careLevel: Int
    public var admissionUrgency: Int?
    public var start: LocalDateTime
    public var end: LocalDateTime?
    public var endType: Int?
    public var contactType: Int?
    public var activityPlace: Int?
    public var activityType: Int?
    public var indirectActivity: Int?
    public var conditions: [String]?
    public var tariffs: [String]?

    public init(
        messageId: String, status: EpisodeStatus, revision: Int, institutionId: String, episodeId: String,
        unitId: String, sector: String, patient: Patient, referral: Referral? = nil, careLevel: Int,
        admissionUrgency: Int? = nil, start: LocalDateTime, end: LocalDateTime?, endType: Int? = nil,
        contactType: Int? = nil, activityPlace: Int? = nil, activityType: Int? = nil,
        indirectActivity: Int? = nil, conditions: [String]? = nil, tariffs: [String]? = nil
    ) {
        self.messageId = messageId
        self.status = status
        self.revision = revision
        self.institutionId = institutionId
        self.episodeId = episodeId
        self.unitId = unitId
        self.sector = sector
        self.patient = patient
        self.referral = referral
        self.careLevel = careLevel
        self.admissionUrgency = admissionUrgency
        self.start = start
        self.end = end
        self.endType = endType
        self.contactType = contactType
        self.activityPlace = activityPlace
        self.activityType = activityType
        self.indirectActivity = indirectActivity
        self.conditions = conditions
        self.tariffs = tariffs
    }

    enum CodingKeys: String, CodingKey {
        case messageId, status, revision, institutionId, episodeId, unitId, sector, patient, referral, careLevel,
            admissionUrgency, start, end, endType, contactType, activityPlace, activityType, indirectActivity, conditions, tariffs
    }

    // `end` is required but nullable: encode null explicitly.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messageId, forKey: .messageId)
        try c.encode(status, forKey: .status)
        try c.encode(revision, forKey: .revision)
        try c.encode(institutionId, forKey: .institutionId)
        try c.encode(episodeId, forKey: .episodeId)
        try c.encode(unitId, forKey: .unitId)
        try c.encode(sector, forKey: .sector)
        try c.encode(patient, forKey: .patient)
        try c.encodeIfPresent(referral, forKey: .referral)
        try c.encode(careLevel, forKey: .careLevel)
        try c.encodeIfPresent(admissionUrgency, forKey: .admissionUrgency)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encodeIfPresent(endType, forKey: .endType)
        try c.encodeIfPresent(contactType, forKey: .contactType)
        try c.encodeIfPresent(activityPlace, forKey: .activityPlace)
        try c.encodeIfPresent(activityType, forKey: .activityType)
        try c.encodeIfPresent(indirectActivity, forKey: .indirectActivity)
        try c.encodeIfPresent(conditions, forKey: .conditions)
        try c.encodeIfPresent(tariffs, forKey: .tariffs)
    }
}

public struct DeathRecord: Codable, Sendable, Hashable {
    public var messageId: String
    public var status: DeathStatus
    public var personId: String
    public var deathDate: LocalDate
    public var sex: Int
    public var birthDate: LocalDate?
    public var municipality: String?

    public init(messageId: String, status: DeathStatus, personId: String, deathDate: LocalDate, sex: Int, birthDate: LocalDate? = nil, municipality: String?) {
        self.messageId = messageId
        self.status = status
        self.personId = personId
        self.deathDate = deathDate
        self.sex = sex
        self.birthDate = birthDate
        self.municipality = municipality
    }

    enum CodingKeys: String, CodingKey { case messageId, status, personId, deathDate, sex, birthDate, municipality }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messageId, forKey: .messageId)
        try c.encode(status, forKey: .status)
        try c.encode(personId, forKey: .personId)
        try c.encode(deathDate, forKey: .deathDate)
        try c.encode(sex, forKey: .sex)
        try c.encodeIfPresent(birthDate, forKey: .birthDate)
        try c.encode(municipality, forKey: .municipality)
    }
}

public struct PopulationCount: Codable, Sendable, Hashable {
    public var messageId: String?
    public var year: Int
    public var municipality: String
    public var sex: Int
    public var age: Int
    public var count: Int
    public init(messageId: String? = nil, year: Int, municipality: String, sex: Int, age: Int, count: Int) {
        self.messageId = messageId
        self.year = year
        self.municipality = municipality
        self.sex = sex
        self.age = age
        self.count = count
    }
}

public enum Ownership: String, Codable, Sendable, Hashable, CaseIterable {
    case `public` = "public"
    case privateOperatingAgreement = "private-operating-agreement"
    case privatePurchaseAgreement = "private-purchase-agreement"
    case freeChoice = "free-choice"
}

/// RHF codes as published (`sor-ost`, `vest`, `midt-norge`, `nord`).
public enum RHF: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case sorOst = "sor-ost", vest = "vest", midtNorge = "midt-norge", nord = "nord"
    public static func < (a: RHF, b: RHF) -> Bool { a.rawValue < b.rawValue }
    public var name: String {
        switch self {
        case .sorOst: return "Helse Sør-Øst"
        case .vest: return "Helse Vest"
        case .midtNorge: return "Helse Midt-Norge"
        case .nord: return "Helse Nord"
        }
    }
}

public struct Unit: Codable, Sendable, Hashable {
    public var unitId: String
    public var name: String
    public var institutionId: String
    public var institutionName: String
    public var hfId: String
    public var hfName: String
    public var rhf: RHF
    public var ownership: Ownership
    public var detox: Bool
    public var validFrom: LocalDate
    public init(
        unitId: String, name: String, institutionId: String, institutionName: String, hfId: String, hfName: String,
        rhf: RHF, ownership: Ownership, detox: Bool, validFrom: LocalDate
    ) {
        self.unitId = unitId
        self.name = name
        self.institutionId = institutionId
        self.institutionName = institutionName
        self.hfId = hfId
        self.hfName = hfName
        self.rhf = rhf
        self.ownership = ownership
        self.detox = detox
        self.validFrom = validFrom
    }
}
