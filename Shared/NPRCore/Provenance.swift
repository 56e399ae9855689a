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
        /// A producer republished its current values for a consumer that lost input: what changed them is unknown.
        case rebuild

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Cause: Sendable, Hashable, Codable, Comparable {
        public var kind: Kind
        /// The reporting institution, for activity messages.
        public var institution: String?

        public init(_ kind: Kind, institution: String? = nil) {
            self.kind = kind
            self.institution = institution
        }

        public static func < (a: Cause, b: Cause) -> Bool { (a.kind, a.institution ?? "") < (b.kind, b.institution ?? "") }
    }

    public private(set) var counts: [Cause: Int] = [:]

    public init() {}
    public init(_ cause: Cause, count: Int = 1) { counts[cause] = count }

    public var isEmpty: Bool { counts.isEmpty }

    public mutating func add(_ other: Provenance, times: Int = 1) {
        for (cause, n) in other.counts { counts[cause, default: 0] += n * times }
    }

    /// The causes of an activity message's status.
    public static func activity(_ status: EpisodeStatus, institution: String) -> Provenance {
        let kind: Kind =
            switch status {
            case .new: .newEpisode
            case .correction: .correction
            case .annulment: .annulment
            }
        return Provenance(Cause(kind, institution: institution))
    }

    // MARK: header

    /// The Kafka header that carries it.
    public static let headerName = "npr-causes"

    /// `correction@974589095=2,death=1`: kinds and institutions are free of `@`, `=` and `,`.
    public var headerValue: [UInt8] {
        Array(
            counts.sorted { $0.key < $1.key }.map { cause, n in
                cause.kind.rawValue + (cause.institution.map { "@" + $0 } ?? "") + "=\(n)"
            }.joined(separator: ",").utf8)
    }

    /// The header for an outgoing message (none when there is nothing to say).
    public var header: [(String, [UInt8])] { isEmpty ? [] : [(Self.headerName, headerValue)] }

    /// Reads a header value; unknown kinds and malformed entries are skipped (a newer producer may know more).
    /// Byte by byte: every stage reads it for every input message.
    public init(headerValue bytes: [UInt8]) {
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.count
            if let (cause, n) = Self.entry(bytes[start..<end]) { counts[cause, default: 0] += n }
            start = end + 1
        }
    }

    /// `kind[@institution]=count`, or nil when malformed or of an unknown kind.
    private static func entry(_ e: ArraySlice<UInt8>) -> (Cause, Int)? {
        guard let equals = e.firstIndex(of: UInt8(ascii: "=")), equals < e.endIndex - 1 else { return nil }
        var n = 0
        for b in e[(equals + 1)...] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b), n < Int.max / 10 - 9 else { return nil }
            n = n * 10 + Int(b - UInt8(ascii: "0"))
        }
        guard n > 0 else { return nil }
        let name = e[..<equals]
        let at = name.firstIndex(of: UInt8(ascii: "@"))
        let kindBytes = name[..<(at ?? name.endIndex)]
        guard let kind = kindsByName.first(where: { $0.0.elementsEqual(kindBytes) })?.1 else { return nil }
        return (Cause(kind, institution: at.map { String(decoding: name[($0 + 1)...], as: UTF8.self) }), n)
    }

    private static let kindsByName: [([UInt8], Kind)] = Kind.allCases.map { (Array($0.rawValue.utf8), $0) }

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
///
/// Cheap on the hot path (an engine marks a key for every contribution it moves): a mark appends the input's
/// number to the key's list; the causes are added up only when taken, once per distinct cause of the key.
public struct ProvenanceTracker<Key: Hashable & Sendable>: Sendable {
    /// The cause of the input being applied (empty: nothing is recorded). Setting it starts a new input.
    public var current = Provenance() { didSet { currentInput = nil } }
    /// The number of the current input, given at its first mark.
    private var currentInput: Int32?
    /// Per input number, the number of its cause among the distinct causes seen.
    private var causeOfInput: [Int32] = []
    private var causes: [Provenance] = []
    private var causeNumbers: [Provenance: Int32] = [:]
    /// Per key, the numbers of the inputs that marked it, each once, in order.
    private var inputsByKey: [Key: [Int32]] = [:]

    public init() {}

    public mutating func mark(_ key: Key) {
        guard !current.isEmpty else { return }
        let input = currentInput ?? newInput()
        if inputsByKey[key]?.last == input { return }
        inputsByKey[key, default: []].append(input)
    }

    private mutating func newInput() -> Int32 {
        let cause: Int32
        if let known = causeNumbers[current] {
            cause = known
        } else {
            cause = Int32(causes.count)
            causes.append(current)
            causeNumbers[current] = cause
        }
        let input = Int32(causeOfInput.count)
        causeOfInput.append(cause)
        currentInput = input
        return input
    }

    /// The causes collected for `key`, forgotten afterwards.
    public mutating func take(_ key: Key) -> Provenance {
        guard let inputs = inputsByKey.removeValue(forKey: key) else { return Provenance() }
        defer { if inputsByKey.isEmpty { forgetInputs() } }
        return sum(inputs)
    }

    /// Every key's causes, forgotten afterwards.
    public mutating func takeAll() -> [Key: Provenance] {
        defer {
            inputsByKey = [:]
            forgetInputs()
        }
        return inputsByKey.mapValues(sum)
    }

    private func sum(_ inputs: [Int32]) -> Provenance {
        // Inputs of one key mostly share a few causes: count them, then add each distinct cause once.
        var counts: [Int32: Int] = [:]
        for input in inputs { counts[causeOfInput[Int(input)], default: 0] += 1 }
        var total = Provenance()
        for (cause, n) in counts { total.add(causes[Int(cause)], times: n) }
        return total
    }

    private mutating func forgetInputs() {
        causeOfInput.removeAll(keepingCapacity: true)
        causes.removeAll(keepingCapacity: true)
        causeNumbers.removeAll(keepingCapacity: true)
        currentInput = nil
    }
}

/// Reads the causes header of consecutive messages, reusing the last reading when the bytes repeat (a stage's
/// inputs mostly carry the same few causes).
public struct ProvenanceHeaderReader: Sendable {
    private var lastBytes: [UInt8] = []
    private var last = Provenance()

    public init() {}

    public mutating func causes(_ headers: [(String, [UInt8])]) -> Provenance {
        guard let bytes = headers.first(where: { $0.0 == Provenance.headerName })?.1 else { return Provenance() }
        if bytes != lastBytes {
            lastBytes = bytes
            last = Provenance(headerValue: bytes)
        }
        return last
    }
}

extension Provenance.Kind: JSONWireCodable {}

/// A list of `Count`s, as `Codable` writes it (sorted keys).
extension Provenance: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.array(list) { json, c in
            json.object {
                $0.field("cause", c.cause)
                $0.field("count", c.count)
                $0.field("institution", c.institution)
            }
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        self.init()
        let entries = try json.array { (json) throws(JSONWireError) -> Count in
            var cause: Kind?, count: Int?, institution: String?
            try json.object { (key, json) throws(JSONWireError) in
                switch key {
                case "cause": cause = try json.decode()
                case "count": count = try json.decode()
                case "institution": institution = try json.decodeIfPresent()
                default: try json.skipValue()
                }
            }
            return Count(cause: try json.required(cause, "cause"), institution: institution, count: try json.required(count, "count"))
        }
        for c in entries { counts[Cause(c.cause, institution: c.institution), default: 0] += c.count }
    }
}
