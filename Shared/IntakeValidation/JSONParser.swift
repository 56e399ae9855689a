/// Resource limits for parsing untrusted bodies. Every limit turns into a clear `JSONParseError`,
/// never a crash, unbounded recursion or unbounded memory.
public struct JSONLimits: Sendable, Hashable {
    /// Maximum nesting of arrays/objects (a wire record needs 3). Capped at `JSONLimits.depthCap`.
    public var maxDepth: Int
    /// Maximum length of one decoded string, in UTF-8 bytes.
    public var maxStringBytes: Int
    /// Maximum length of one number token, in characters.
    public var maxNumberLength: Int
    /// Maximum size of one request body, in bytes (HTTP 413 above it).
    public var maxTotalBytes: Int
    /// Maximum number of records in one body (HTTP 413 above it).
    public var maxRecords: Int

    public init(
        maxDepth: Int = 64, maxStringBytes: Int = 65_536, maxNumberLength: Int = 64,
        maxTotalBytes: Int = 16 * 1024 * 1024, maxRecords: Int = 50_000
    ) {
        self.maxDepth = min(maxDepth, JSONLimits.depthCap)
        self.maxStringBytes = maxStringBytes
        self.maxNumberLength = maxNumberLength
        self.maxTotalBytes = maxTotalBytes
        self.maxRecords = maxRecords
    }

    public static let `default` = JSONLimits()
    /// The parser recurses once per nesting level; this cap keeps the stack small on any thread.
    public static let depthCap = 512
}

/// Why a body or record could not be parsed. Deliberately carries only a byte offset, never input
/// text: bodies contain person ids, and parse errors end up in receipts and logs.
public struct JSONParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case emptyInput = "empty-input"
        case unexpectedEnd = "unexpected-end"
        case unexpectedCharacter = "unexpected-character"
        case invalidLiteral = "invalid-literal"
        case invalidNumber = "invalid-number"
        case numberOutOfRange = "number-out-of-range"
        case numberTooLong = "number-too-long"
        case invalidEscape = "invalid-escape"
        case loneSurrogate = "lone-surrogate"
        case invalidUTF8 = "invalid-utf8"
        case controlCharacter = "control-character"
        case stringTooLong = "string-too-long"
        case tooDeep = "too-deep"
        case duplicateKey = "duplicate-key"
        case trailingContent = "trailing-content"
        case tooLarge = "too-large"
        case tooManyRecords = "too-many-records"
        case notAnArray = "not-an-array"
    }

    public let kind: Kind
    /// Byte offset in the parsed input (for NDJSON: within the line) where the problem was found.
    public let offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch kind {
        case .emptyInput: what = "no JSON value (empty input)"
        case .unexpectedEnd: what = "input ends in the middle of a JSON value"
        case .unexpectedCharacter: what = "unexpected character"
        case .invalidLiteral: what = "invalid literal (expected true, false or null)"
        case .invalidNumber: what = "malformed number"
        case .numberOutOfRange: what = "number exponent out of the supported range"
        case .numberTooLong: what = "number longer than the limit"
        case .invalidEscape: what = "invalid escape sequence in a string"
        case .loneSurrogate: what = "\\u escape with an unpaired UTF-16 surrogate"
        case .invalidUTF8: what = "malformed UTF-8"
        case .controlCharacter: what = "unescaped control character in a string"
        case .stringTooLong: what = "string longer than the limit"
        case .tooDeep: what = "nesting deeper than the limit"
        case .duplicateKey: what = "duplicate key in an object"
        case .trailingContent: what = "content after the JSON value"
        case .tooLarge: what = "body larger than the limit"
        case .tooManyRecords: what = "more records than the limit"
        case .notAnArray: what = "body is not a JSON array"
        }
        return what + " at byte " + String(offset)
    }
}

extension JSONValue {
    /// Parses one complete JSON text (RFC 8259; a leading UTF-8 byte-order mark is ignored).
    /// Accepts any byte collection (`[UInt8]`, `ArraySlice`, Foundation `Data`, a NIO buffer's bytes).
    public static func parse(_ input: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        let bytes = Array(input)
        guard bytes.count <= limits.maxTotalBytes else { throw JSONParseError(.tooLarge, at: limits.maxTotalBytes) }
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        guard !parser.atEnd else { throw JSONParseError(.emptyInput, at: parser.position) }
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw JSONParseError(.trailingContent, at: parser.position) }
        return value
    }

    public static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}

/// Recursive-descent parser over bytes; recursion depth is bounded by `JSONLimits.maxDepth`.
struct JSONParser {
    let bytes: [UInt8]
    let limits: JSONLimits
    var position = 0

    init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipByteOrderMark() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func peek() throws(JSONParseError) -> UInt8 {
        guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
        return bytes[position]
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), 48...57: return .number(try parseNumber())
        default: throw JSONParseError(.unexpectedCharacter, at: position)
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = position
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for c in expected {
            guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
            guard bytes[position] == c else { throw JSONParseError(.invalidLiteral, at: start) }
            position += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep, at: position) }
        position += 1  // {
        var members: [JSONObject.Member] = []
        var seen = Set<String>()
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return JSONObject(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = position
            guard try peek() == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedCharacter, at: position) }
            let key = try parseString()
            guard seen.insert(key).inserted else { throw JSONParseError(.duplicateKey, at: keyOffset) }
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedCharacter, at: position) }
            position += 1
            skipWhitespace()
            members.append(.init(key: key, value: try parseValue(depth: depth)))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return JSONObject(members)
            default: throw JSONParseError(.unexpectedCharacter, at: position)
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep, at: position) }
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return elements
            default: throw JSONParseError(.unexpectedCharacter, at: position)
            }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        // Take the longest run of number characters; the exact grammar is checked on the token.
        while position < bytes.count, Self.isNumberByte(bytes[position]) {
            position += 1
            if position - start > limits.maxNumberLength { throw JSONParseError(.numberTooLong, at: start) }
        }
        let token = Array(bytes[start..<position])
        guard let decimal = DecimalText(token) else { throw JSONParseError(.invalidNumber, at: start) }
        guard decimal.isInRange else { throw JSONParseError(.numberOutOfRange, at: start) }
        return JSONNumber(text: String(decoding: token, as: UTF8.self), decimal: decimal)
    }

    static func isNumberByte(_ c: UInt8) -> Bool {
        isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    }

    /// Parses a string starting at its opening quote, validating UTF-8 and escapes as it goes.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1  // opening quote
        var out: [UInt8] = []
        func append(_ b: UInt8) throws(JSONParseError) {
            out.append(b)
            if out.count > limits.maxStringBytes { throw JSONParseError(.stringTooLong, at: start) }
        }
        while true {
            guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
            let c = bytes[position]
            switch c {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let scalar = try parseEscape()
                for b in UTF8.encode(scalar)! { try append(b) }
            case 0x00..<0x20:
                throw JSONParseError(.controlCharacter, at: position)
            case 0x20..<0x80:
                try append(c)
                position += 1
            default:
                let length = try utf8SequenceLength(at: position)
                for k in 0..<length { try append(bytes[position + k]) }
                position += length
            }
        }
    }

    /// Length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7), rejecting overlong
    /// forms, encoded surrogates, code points above U+10FFFF and truncated sequences.
    func utf8SequenceLength(at i: Int) throws(JSONParseError) -> Int {
        let lead = bytes[i]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw JSONParseError(.invalidUTF8, at: i)
        }
        let available = min(length, bytes.count - i)
        for k in 1..<max(1, available) {
            let allowed: ClosedRange<UInt8> = k == 1 ? secondRange : 0x80...0xBF
            guard allowed.contains(bytes[i + k]) else { throw JSONParseError(.invalidUTF8, at: i) }
        }
        guard available == length else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
        return length
    }

    /// Parses one escape starting at the backslash; `\u` surrogates must come as a proper pair.
    mutating func parseEscape() throws(JSONParseError) -> Unicode.Scalar {
        let start = position
        position += 1
        guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
        let c = bytes[position]
        position += 1
        switch c {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate must be followed directly by `\u` and a low surrogate.
                for (k, expected) in [UInt8(ascii: "\\"), UInt8(ascii: "u")].enumerated() {
                    guard position + k < bytes.count else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
                    guard bytes[position + k] == expected else { throw JSONParseError(.loneSurrogate, at: start) }
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONParseError(.loneSurrogate, at: start) }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            case 0xDC00...0xDFFF:
                throw JSONParseError(.loneSurrogate, at: start)
            default:
                return Unicode.Scalar(unit)!
            }
        default:
            throw JSONParseError(.invalidEscape, at: start)
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
            let c = bytes[position]
            let digit: UInt32
            switch c {
            case 48...57: digit = UInt32(c - 48)
            case 65...70: digit = UInt32(c - 55)
            case 97...102: digit = UInt32(c - 87)
            default: throw JSONParseError(.invalidEscape, at: position)
            }
            v = v * 16 + digit
            position += 1
        }
        return v
    }
}
