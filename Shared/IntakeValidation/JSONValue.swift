/// A parsed JSON document, kept close to its wire form: numbers keep their exact text and objects
/// keep their key order, so that nothing is lost before validation and canonicalisation.
///
/// `==` is *structural* (number text and key order matter). "Same content" for idempotency is
/// `a.canonical == b.canonical` (see `JSONValue.canonical`).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object; nil for other values and for absent keys.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

/// A JSON number as written on the wire, with its exact value analysed once.
public struct JSONNumber: Hashable, Sendable {
    /// The number exactly as it appeared in the input (grammar of RFC 8259).
    public let text: String
    /// The value when it is mathematically an integer that fits in `Int` (`3`, `3.0`, `30e-1`).
    public let int: Int?
    /// The nearest `Double`, or nil when the value overflows `Double`.
    public let double: Double?
    /// True when the value has no fractional part (`1`, `1.0`, `1e3`), however large.
    public let isIntegral: Bool
    /// Exact decimal value: `digits` (no leading or trailing zeros, empty for zero) × 10^`exponent`.
    let digits: [UInt8]
    let exponent: Int
    let negative: Bool

    /// Analyses `text`; nil when it is not a JSON number or its exponent is beyond ±`JSONNumber.maxExponent`.
    public init?(_ text: String) {
        guard let d = DecimalText(Array(text.utf8)), d.isInRange else { return nil }
        self.init(text: text, decimal: d)
    }

    init(text: String, decimal d: DecimalText) {
        self.text = text
        digits = d.digits
        exponent = d.exponent
        negative = d.negative && !d.digits.isEmpty
        isIntegral = d.digits.isEmpty || d.exponent >= 0
        int = d.exactInt
        let parsed = Double(text)
        double = parsed.flatMap { $0.isFinite ? $0 : nil }
    }

    /// Exponents (after normalisation) beyond this are refused by the parser: no honest message
    /// needs them, and bounding them keeps canonicalisation exact and cheap.
    public static let maxExponent = 100_000
}

/// A JSON object's members in input order. Keys are unique (the parser rejects duplicates).
public struct JSONObject: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public let key: String
        public let value: JSONValue
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public let members: [Member]

    public init(_ members: [Member]) { self.members = members }

    /// Linear lookup: wire records have a few dozen keys at most, so a dictionary would cost more than it saves.
    public subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    public var keys: [String] { members.map(\.key) }
}

/// The exact decimal value of a JSON number's text: sign, significant digits, power of ten.
struct DecimalText {
    var negative: Bool
    var digits: [UInt8]  // ASCII digits without leading/trailing zeros; empty means zero
    var exponent: Int  // value = digits × 10^exponent

    /// Parses the RFC 8259 number grammar exactly; nil when malformed. Very long exponents saturate,
    /// so check `isInRange` before trusting `exponent`.
    init?(_ u: [UInt8]) {
        var i = 0
        negative = false
        if i < u.count, u[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < u.count, isDigit(u[i]) else { return nil }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        if u[i] == UInt8(ascii: "0") {
            i += 1
            if i < u.count, isDigit(u[i]) { return nil }  // leading zero
        } else {
            while i < u.count, isDigit(u[i]) {
                mantissa.append(u[i])
                i += 1
            }
        }
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            guard i < u.count, isDigit(u[i]) else { return nil }
            while i < u.count, isDigit(u[i]) {
                mantissa.append(u[i])
                fractionDigits += 1
                i += 1
            }
        }
        var written = 0
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
                expNegative = u[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < u.count, isDigit(u[i]) else { return nil }
            while i < u.count, isDigit(u[i]) {
                // Saturate far above the bound so long exponent strings cannot overflow `Int`.
                written = min(written * 10 + Int(u[i] - 48), 10 * JSONNumber.maxExponent)
                i += 1
            }
            if expNegative { written = -written }
        }
        guard i == u.count else { return nil }
        guard let first = mantissa.firstIndex(where: { $0 != UInt8(ascii: "0") }) else {
            digits = []
            exponent = 0
            return
        }
        let last = mantissa.lastIndex { $0 != UInt8(ascii: "0") }!
        digits = Array(mantissa[first...last])
        exponent = written - fractionDigits + (mantissa.count - 1 - last)
    }

    /// The powers of ten of both the last and the leading significant digit lie within ±`JSONNumber.maxExponent`.
    var isInRange: Bool {
        abs(exponent) <= JSONNumber.maxExponent && abs(exponent + max(digits.count - 1, 0)) <= JSONNumber.maxExponent
    }

    /// The value as an `Int` when integral and representable.
    var exactInt: Int? {
        guard exponent >= 0 || digits.isEmpty else { return nil }
        guard digits.count + exponent <= 19 else { return nil }
        var v = 0
        for d in digits {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int(d - 48)) : m.addingReportingOverflow(Int(d - 48))
            if o1 || o2 { return nil }
            v = a
        }
        for _ in 0..<max(0, exponent) {
            let (m, o) = v.multipliedReportingOverflow(by: 10)
            if o { return nil }
            v = m
        }
        return v
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
