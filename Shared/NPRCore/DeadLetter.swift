// The dead-letter record: a contract type (contracts/dead-letter.v1), shared by every service and intake's ledger.

/// A record some service could not take, on `npr.deadletter` for operators (contracts/dead-letter.v1):
/// why, and where it came from, never a clear person id or a clear message id.
public struct DeadLetter: Codable, Sendable, Equatable {
    public struct Reason: Codable, Sendable, Equatable {
        public var field: String
        public var code: String
        public var message: String
        public init(field: String, code: String, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }
    }
    /// Where a record read from a topic was: an operator with read rights finds it there.
    public struct Origin: Codable, Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    /// The service that refused it.
    public var service: String
    /// `http`, or `kafka` for a record read from a topic (then `origin` says where).
    public var channel: String
    /// What the record was meant to be (`activity`, `death`, `population`, `unit`, or the topic's value type).
    public var kind: String
    public var origin: Origin?
    /// HMAC of the record's `messageId` with the pseudonym key (lowercase hex), when it had one.
    public var messageIdHash: String?
    /// Who sent it, from the credentials (never from the rejected record): an institution, `admin`, `inbound`, or null.
    public var reporter: String?
    public var errors: [Reason]
    /// The record as canonical JSON with every clear person id removed and `messageId` replaced by its
    /// hash; null when it could not be read at all.
    public var record: String?

    public init(
        service: String, channel: String, kind: String, origin: Origin? = nil, messageIdHash: String? = nil,
        reporter: String? = nil, errors: [Reason], record: String? = nil
    ) {
        self.service = service
        self.channel = channel
        self.kind = kind
        self.origin = origin
        self.messageIdHash = messageIdHash
        self.reporter = reporter
        self.errors = errors
        self.record = record
    }
}
