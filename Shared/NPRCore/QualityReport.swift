/// One institution's row of the data-quality report (contracts/quality-report.v1.schema.json), suppressed like
/// the indicators. Intake fills the reporting figures (`init(institutionId:institutionName:quality:)` in
/// IntakeValidation); the publisher adds the stay figures the indicator-calculator keeps (`joining`).
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
    /// Closed treatment stays whose last episode this institution reported; nil in intake's own report, which
    /// does not link episodes (the four stay fields are then left out).
    public var stays: StayEndTypeRow?

    /// A figure resting on fewer of these (episodes here, distinct patients for stays) is hidden.
    public static let minimumEpisodes = 5

    public init(
        institutionId: String, institutionName: String?, messages: Int?, firstReports: Int?, delayDaysMedian: Int?,
        delayDaysP90: Int?, delayStatus: PublishedStatus, closedInpatientEpisodes: Int?, withoutEndType: Int?,
        shareWithoutEndType: Double?, endTypeStatus: PublishedStatus, lastMessageAt: String?, stays: StayEndTypeRow? = nil
    ) {
        self.institutionId = institutionId
        self.institutionName = institutionName
        self.messages = messages
        self.firstReports = firstReports
        self.delayDaysMedian = delayDaysMedian
        self.delayDaysP90 = delayDaysP90
        self.delayStatus = delayStatus
        self.closedInpatientEpisodes = closedInpatientEpisodes
        self.withoutEndType = withoutEndType
        self.shareWithoutEndType = shareWithoutEndType
        self.endTypeStatus = endTypeStatus
        self.lastMessageAt = lastMessageAt
        self.stays = stays
    }

    enum CodingKeys: String, CodingKey {
        case institutionId, institutionName, messages, firstReports, delayDaysMedian, delayDaysP90, delayStatus,
            closedInpatientEpisodes, withoutEndType, shareWithoutEndType, endTypeStatus, lastMessageAt,
            closedInpatientStays, staysWithoutEndType, shareStaysWithoutEndType, stayEndTypeStatus
    }

    // Every field is present, hidden ones as explicit null (as in PublishedValue); the stay fields flat beside
    // the episode ones, so that a table or CSV reads them as columns.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(institutionId, forKey: .institutionId)
        try c.encode(institutionName, forKey: .institutionName)
        try c.encode(messages, forKey: .messages)
        try c.encode(firstReports, forKey: .firstReports)
        try c.encode(delayDaysMedian, forKey: .delayDaysMedian)
        try c.encode(delayDaysP90, forKey: .delayDaysP90)
        try c.encode(delayStatus, forKey: .delayStatus)
        try c.encode(closedInpatientEpisodes, forKey: .closedInpatientEpisodes)
        try c.encode(withoutEndType, forKey: .withoutEndType)
        try c.encode(shareWithoutEndType, forKey: .shareWithoutEndType)
        try c.encode(endTypeStatus, forKey: .endTypeStatus)
        try c.encode(lastMessageAt, forKey: .lastMessageAt)
        if let stays {
            try c.encode(stays.closedStays, forKey: .closedInpatientStays)
            try c.encode(stays.withoutEndType, forKey: .staysWithoutEndType)
            try c.encode(stays.shareWithoutEndType, forKey: .shareStaysWithoutEndType)
            try c.encode(stays.status, forKey: .stayEndTypeStatus)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        institutionId = try c.decode(String.self, forKey: .institutionId)
        institutionName = try c.decodeIfPresent(String.self, forKey: .institutionName)
        messages = try c.decodeIfPresent(Int.self, forKey: .messages)
        firstReports = try c.decodeIfPresent(Int.self, forKey: .firstReports)
        delayDaysMedian = try c.decodeIfPresent(Int.self, forKey: .delayDaysMedian)
        delayDaysP90 = try c.decodeIfPresent(Int.self, forKey: .delayDaysP90)
        delayStatus = try c.decode(PublishedStatus.self, forKey: .delayStatus)
        closedInpatientEpisodes = try c.decodeIfPresent(Int.self, forKey: .closedInpatientEpisodes)
        withoutEndType = try c.decodeIfPresent(Int.self, forKey: .withoutEndType)
        shareWithoutEndType = try c.decodeIfPresent(Double.self, forKey: .shareWithoutEndType)
        endTypeStatus = try c.decode(PublishedStatus.self, forKey: .endTypeStatus)
        lastMessageAt = try c.decodeIfPresent(String.self, forKey: .lastMessageAt)
        stays = try c.decodeIfPresent(PublishedStatus.self, forKey: .stayEndTypeStatus).map { status in
            StayEndTypeRow(
                institutionId: institutionId, closedStays: try c.decodeIfPresent(Int.self, forKey: .closedInpatientStays),
                withoutEndType: try c.decodeIfPresent(Int.self, forKey: .staysWithoutEndType),
                shareWithoutEndType: try c.decodeIfPresent(Double.self, forKey: .shareStaysWithoutEndType), status: status)
        }
    }

    /// Intake's rows with the calculator's stay figures beside them, by institution id: an institution missing
    /// from one side gets that side's figures as undefined (none known), so both reports are shown whole.
    public static func joining(_ rows: [QualityReportRow], stays: [StayEndTypeRow]) -> [QualityReportRow] {
        var byInstitution = Dictionary(rows.map { ($0.institutionId, $0) }, uniquingKeysWith: { first, _ in first })
        let stayRows = Dictionary(stays.map { ($0.institutionId, $0) }, uniquingKeysWith: { first, _ in first })
        for id in stayRows.keys where byInstitution[id] == nil { byInstitution[id] = QualityReportRow(unreported: id) }
        return byInstitution.keys.sorted().map { id in
            var row = byInstitution[id]!
            row.stays = stayRows[id] ?? StayEndTypeRow(institutionId: id, closedStays: 0, withoutEndType: 0, patients: 0)
            return row
        }
    }

    /// The row of an institution intake has no messages from (as intake's own row of no messages reads).
    init(unreported institutionId: String) {
        self.init(
            institutionId: institutionId, institutionName: nil, messages: 0, firstReports: 0, delayDaysMedian: nil,
            delayDaysP90: nil, delayStatus: .undefined, closedInpatientEpisodes: 0, withoutEndType: 0,
            shareWithoutEndType: nil, endTypeStatus: .undefined, lastMessageAt: nil)
    }
}

/// Closed treatment stays (indicators.md §1: the linked inpatient TSB episodes the dropout indicator counts,
/// any age) by the institution that reported the stay's last episode, whose end type the stay takes, and
/// those without one: the seeds warn that `avslutningstype` is often missing, and such stays stay in the
/// dropout denominator. Kept by the indicator-calculator; suppressed like the indicators, by distinct patients.
public struct StayEndTypeRow: Codable, Sendable, Hashable {
    public var institutionId: String
    public var closedStays: Int?
    public var withoutEndType: Int?
    public var shareWithoutEndType: Double?
    /// `ok`; `suppressed-primary` (fewer than 5 distinct patients among the stays); `undefined` (none closed).
    public var status: PublishedStatus

    public init(institutionId: String, closedStays: Int?, withoutEndType: Int?, shareWithoutEndType: Double?, status: PublishedStatus) {
        self.institutionId = institutionId
        self.closedStays = closedStays
        self.withoutEndType = withoutEndType
        self.shareWithoutEndType = shareWithoutEndType
        self.status = status
    }

    /// The published row of the totals: hidden below 5 distinct patients (an anonymous episode's stay counts as
    /// a patient of its own, as everywhere suppression is decided).
    public init(institutionId: String, closedStays: Int, withoutEndType: Int, patients: Int) {
        if closedStays == 0 {
            self.init(institutionId: institutionId, closedStays: 0, withoutEndType: 0, shareWithoutEndType: nil, status: .undefined)
        } else if patients < QualityReportRow.minimumEpisodes {
            self.init(institutionId: institutionId, closedStays: nil, withoutEndType: nil, shareWithoutEndType: nil, status: .suppressedPrimary)
        } else {
            self.init(
                institutionId: institutionId, closedStays: closedStays, withoutEndType: withoutEndType,
                shareWithoutEndType: Double(withoutEndType) / Double(closedStays), status: .ok)
        }
    }
}
