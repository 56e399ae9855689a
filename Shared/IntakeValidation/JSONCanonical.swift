import NPRCore

extension JSONValue {
    /// Canonical text for "same content" checks (messages.md: key order irrelevant, unknown fields
    /// included): object keys sorted by their UTF-8 bytes, no whitespace, numbers written in one
    /// normal form of their exact decimal value (`1`, `1.0` and `10e-1` are all `1`; `-0` is `0`),
    /// strings escaped minimally (`"`, `\`, and control characters only).
    public var canonical: String { String(decoding: canonicalUTF8, as: UTF8.self) }

    /// `canonical` as bytes, e.g. for hashing.
    public var canonicalUTF8: [UInt8] {
        var out: [UInt8] = []
        writeCanonical(into: &out)
        return out
    }

    /// The canonical bytes of this object, and in the same pass those of the object without the top-level
    /// `keys` (e.g. a message's content without its envelope). Not an object: the canonical bytes twice.
    public func canonicalUTF8(alsoWithout keys: Set<String>) -> (whole: [UInt8], without: [UInt8]) {
        guard case .object(let o) = self else {
            let c = canonicalUTF8
            return (c, c)
        }
        var whole: [UInt8] = [UInt8(ascii: "{")], without: [UInt8] = [UInt8(ascii: "{")]
        var member: [UInt8] = []
        for m in Self.canonicalOrder(o) {
            member.removeAll(keepingCapacity: true)
            Self.writeCanonical(member: m, into: &member)
            if whole.count > 1 { whole.append(UInt8(ascii: ",")) }
            whole += member
            if !keys.contains(m.key) {
                if without.count > 1 { without.append(UInt8(ascii: ",")) }
                without += member
            }
        }
        whole.append(UInt8(ascii: "}"))
        without.append(UInt8(ascii: "}"))
        return (whole, without)
    }

    func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let n): out += n.canonicalText.utf8
        case .string(let s): JSONValue.writeCanonical(string: s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                e.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, m) in Self.canonicalOrder(o).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeCanonical(member: m, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// An object's members with their keys in UTF-8 byte order (Swift's `<` on String compares normalised
    /// text, which is not a byte order).
    static func canonicalOrder(_ o: JSONObject) -> [JSONObject.Member] {
        o.members.map { (key: Array($0.key.utf8), member: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.member)
    }

    /// `"key":value` of one member.
    static func writeCanonical(member m: JSONObject.Member, into out: inout [UInt8]) {
        writeCanonical(string: m.key, into: &out)
        out.append(UInt8(ascii: ":"))
        m.value.writeCanonical(into: &out)
    }

    /// Strings are escaped as the pipeline's own JSON escapes them (one rule, `JSONWriter.appendString`).
    static func writeCanonical(string s: String, into out: inout [UInt8]) { JSONWriter.appendString(s, to: &out) }
}

extension JSONNumber {
    /// The exact value in one normal form: plain integer or decimal notation while the decimal point
    /// lies within 21 digits (like ECMAScript), otherwise `d.ddde±n` scientific notation.
    public var canonicalText: String {
        guard !digits.isEmpty else { return "0" }
        let d = String(decoding: digits, as: UTF8.self)
        let pointPosition = digits.count + exponent  // digits before the decimal point
        var body: String
        if exponent >= 0, pointPosition <= 21 {
            body = d + String(repeating: "0", count: exponent)
        } else if pointPosition > 0, pointPosition <= 21 {
            let cut = d.index(d.startIndex, offsetBy: pointPosition)
            body = d[..<cut] + "." + d[cut...]
        } else if pointPosition > -6, pointPosition <= 0 {
            body = "0." + String(repeating: "0", count: -pointPosition) + d
        } else {
            let rest = d.dropFirst()
            body = String(d.prefix(1)) + (rest.isEmpty ? "" : "." + rest) + "e" + (pointPosition - 1 > 0 ? "+" : "") + String(pointPosition - 1)
        }
        return (negative ? "-" : "") + body
    }
}
