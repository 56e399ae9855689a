/// What caused a change of a published value: counts of input messages by kind and, for activity, by
/// reporting institution. Never person-level: an institution's organisation number is the finest detail.
///
/// It travels with the stream as a Kafka header (`Provenance.header`) from intake through the linker and
/// the calculators to the publisher; each stage adds the causes of the inputs it applied to the outputs they
/// touched, between two flushes.
public struct Provenance: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
        case newEpisode = "new-episode"
        case correction
        case annulment
        case death
        case deathAnnulment = "death-annulment"
        case population
        case unitRegister = "unit-register"
        case municipalityRegister = "municipality-register"
        case evaluationDate = "evaluation-date"

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Cause: Sendable, Hashable, Codable, Comparable {
        public var kind: Kind
        /// The reporting institution, for activity messages.
        public var institution: String?

        public init(_ kind: Kind, institution: String? = nil) { self.kind = kind; self.institution = institution }

        public static func < (a: Cause, b: Cause) -> Bool { (a.kind, a.institution ?? "") < (b.kind, b.institution ?? "") }
    }

    public private(set) var counts: [Cause: Int] = [:]

    public init() {}
    public init(_ cause: Cause, count: Int = 1) { counts[cause] = count }

    public var isEmpty: Bool { counts.isEmpty }

    public mutating func add(_ other: Provenance) {
        for (cause, n) in other.counts { counts[cause, default: 0] += n }
    }

    /// The causes of an activity message's status.
    public static func activity(_ status: EpisodeStatus, institution: String) -> Provenance {
        let kind: Kind = switch status { case .new: .newEpisode; case .correction: .correction; case .annulment: .annulment }
        return Provenance(Cause(kind, institution: institution))
    }

    // MARK: header

    /// The Kafka header that carries it.
    public static let headerName = "npr-causes"

    /// `correction@974589095=2,death=1`: kinds and institutions are free of `@`, `=` and `,`.
    public var headerValue: [UInt8] {
        Array(counts.sorted { $0.key < $1.key }.map { cause, n in
            cause.kind.rawValue + (cause.institution.map { "@" + $0 } ?? "") + "=\(n)"
        }.joined(separator: ",").utf8)
    }

    /// The header for an outgoing message (none when there is nothing to say).
    public var header: [(String, [UInt8])] { isEmpty ? [] : [(Self.headerName, headerValue)] }

    /// Reads a header value; unknown kinds and malformed entries are skipped (a newer producer may know more).
    public init(headerValue bytes: [UInt8]) {
        for entry in String(decoding: bytes, as: UTF8.self).split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let n = Int(parts[1]), n > 0 else { continue }
            let name = parts[0].split(separator: "@", maxSplits: 1)
            guard let kind = Kind(rawValue: String(name[0])) else { continue }
            counts[Cause(kind, institution: name.count == 2 ? String(name[1]) : nil), default: 0] += n
        }
    }

    /// The causes a message's headers carry (empty without the header).
    public init(headers: [(String, [UInt8])]) {
        self.init()
        for (name, value) in headers where name == Self.headerName { add(Provenance(headerValue: value)) }
    }

    // MARK: JSON

    /// One line of a published value's provenance.
    public struct Count: Sendable, Hashable, Codable {
        public var cause: Kind
        public var institution: String?
        public var count: Int
    }

    /// Ordered by cause, then institution.
    public var list: [Count] { counts.sorted { $0.key < $1.key }.map { Count(cause: $0.key.kind, institution: $0.key.institution, count: $0.value) } }

    public init(from decoder: Decoder) throws {
        self.init()
        for c in try [Count](from: decoder) { counts[Cause(c.cause, institution: c.institution), default: 0] += c.count }
    }

    public func encode(to encoder: Encoder) throws { try list.encode(to: encoder) }
}

/// Causes collected per output key while inputs are applied: an engine sets the cause of the input it is
/// applying, marks every key that input touches, and hands the collected causes out with its outputs.
public struct ProvenanceTracker<Key: Hashable & Sendable>: Sendable {
    /// The cause of the input being applied (empty: nothing is recorded). Setting it starts a new input.
    public var current = Provenance() { didSet { markedByCurrent.removeAll(keepingCapacity: true) } }
    private var byKey: [Key: Provenance] = [:]
    /// Keys the current input has marked: an input counts once per key, however often it touches it.
    private var markedByCurrent: Set<Key> = []

    public init() {}

    public mutating func mark(_ key: Key) {
        guard !current.isEmpty, markedByCurrent.insert(key).inserted else { return }
        byKey[key, default: Provenance()].add(current)
    }

    /// The causes collected for `key`, forgotten afterwards.
    public mutating func take(_ key: Key) -> Provenance { byKey.removeValue(forKey: key) ?? Provenance() }

    /// Every key's causes, forgotten afterwards.
    public mutating func takeAll() -> [Key: Provenance] {
        defer { byKey = [:] }
        return byKey
    }
}
