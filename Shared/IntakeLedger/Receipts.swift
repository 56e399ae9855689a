import IntakeValidation
import NPRCore

/// Who submitted a request and how: the dead letters and metrics of rejected records name this, never a
/// value from the rejected record itself (spec: *opaque identifiers*).
public struct Submitter: Sendable {
    /// `http`, or `kafka` for npr.activities.inbound.
    public var channel: String
    /// From the credentials: the institution a token reports for (several joined by `+`), `admin`, or
    /// `inbound` for the inbound topic.
    public var reporter: String
    /// Where each record was read, by its index in the submission (inbound records; empty over HTTP).
    public var origins: [DeadLetter.Origin] = []

    public init(channel: String, reporter: String, origins: [DeadLetter.Origin] = []) {
        self.channel = channel
        self.reporter = reporter
        self.origins = origins
    }

    public func origin(of index: Int) -> DeadLetter.Origin? { origins.indices.contains(index) ? origins[index] : nil }

    /// An HTTP caller: admin tokens report as `admin`, institution tokens as their institutions.
    public init(httpCaller institutions: Set<String>) {
        self.init(channel: "http", reporter: institutions.contains("*") ? "admin" : institutions.sorted().joined(separator: "+"))
    }
}

/// The answer to a submission over HTTP: counts, and per record its rejection or warnings by index.
public struct Receipt: Codable, Sendable, Equatable {
    public struct Rejected: Codable, Sendable, Equatable {
        public var index: Int
        public var messageId: String?
        public var errors: [FieldError]
    }
    public struct WarningEntry: Codable, Sendable, Equatable {
        public var index: Int
        public var messageId: String?
        public var field: String
        public var code: String
        public var message: String
    }
    public var accepted = 0
    public var duplicates = 0
    public var rejected: [Rejected] = []
    public var warnings: [WarningEntry] = []
}

/// The receipt of one record read from npr.activities.inbound, on npr.intake.receipts: identified by where
/// the hospital's producer wrote it (its delivery report names partition and offset) and the keyed hash of
/// its `messageId`, so no clear id travels on a shared topic.
public struct InboundReceipt: Codable, Sendable {
    public struct Remark: Codable, Sendable {
        public var field: String
        public var code: String
        public var message: String
    }
    public var origin: DeadLetter.Origin
    public var messageIdHash: String?
    /// `accepted`, `duplicate` or `rejected`.
    public var outcome: String
    public var errors: [FieldError]
    public var warnings: [Remark]

    /// One receipt per record of `decision` (a submission of inbound records, one outcome per record, in order):
    /// record `i` was read at `origins[i]` and carried `messageIds[i]`.
    public static func receipts(
        for decision: Decision, origins: [DeadLetter.Origin], messageIds: [String?], pseudonymizer: Pseudonymizer
    ) -> [InboundReceipt] {
        let errors = Dictionary(grouping: decision.receipt.rejected, by: \.index)
        let warnings = Dictionary(grouping: decision.receipt.warnings, by: \.index)
        return origins.indices.map { i in
            InboundReceipt(
                origin: origins[i], messageIdHash: messageIds[i].map(pseudonymizer.keyedHash), outcome: decision.outcomes[i].outcome,
                errors: (errors[i] ?? []).flatMap(\.errors),
                warnings: (warnings[i] ?? []).map { Remark(field: $0.field, code: $0.code, message: $0.message) })
        }
    }
}
