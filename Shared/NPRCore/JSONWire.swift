/// JSON written and read directly, for the events and state rows every stateful service handles per
/// message. Foundation's coders spend most of a service's step in Codable machinery (a changelog costs
/// ~18 µs to encode and as much to decode); these types write and read the same JSON field by field.
///
/// The writer's bytes equal `JSONEncoder`'s with `.sortedKeys` and `.withoutEscapingSlashes` (a
/// conformance lists its fields in that order; tested against Foundation), so a topic or a store holds
/// the same bytes whichever coder wrote them. The reader accepts any JSON object: any key order,
/// whitespace, unknown keys skipped, `null` for an absent optional, as the synthesized `Decodable` does.
public protocol JSONWireEncodable {
    func write(to json: inout JSONWriter)
}

public protocol JSONWireDecodable {
    init(from json: inout JSONReader) throws(JSONWireError)
}

public typealias JSONWireCodable = JSONWireEncodable & JSONWireDecodable

extension JSONWireEncodable {
    /// The value's JSON.
    public var wireJSON: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}

extension JSONWireDecodable {
    /// The value in `bytes`, which must hold exactly one JSON value (whitespace around it allowed).
    public init(wireJSON bytes: some JSONWireBytes) throws(JSONWireError) {
        self = try bytes.withBytes { (buffer) throws(JSONWireError) -> Self in
            var reader = JSONReader(buffer)
            let value = try Self(from: &reader)
            try reader.expectEnd()
            return value
        }
    }
}

/// Byte containers the reader can read in place (`[UInt8]`, `ArraySlice<UInt8>`, Foundation's `Data`).
public protocol JSONWireBytes {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JSONWireError) -> R) throws(JSONWireError) -> R
}

extension Array: JSONWireBytes where Element == UInt8 {
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JSONWireError) -> R) throws(JSONWireError) -> R {
        // withUnsafeBytes rethrows untyped: carry the typed error out in a Result.
        try withUnsafeBytes { b in Result { () throws(JSONWireError) -> R in try body(b) } }.get()
    }
}

extension ArraySlice: JSONWireBytes where Element == UInt8 {
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JSONWireError) -> R) throws(JSONWireError) -> R {
        // withUnsafeBytes rethrows untyped: carry the typed error out in a Result.
        try withUnsafeBytes { b in Result { () throws(JSONWireError) -> R in try body(b) } }.get()
    }
}

/// Malformed or unexpected JSON: what was wrong, in which field (the keys from the outermost object
/// down) and at which byte.
public struct JSONWireError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var path: [String] = []
    public var offset: Int
    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }
    public var description: String {
        "invalid JSON" + (path.isEmpty ? "" : " at " + path.joined(separator: ".")) + " (byte \(offset)): \(message)"
    }
}

// MARK: - writing

public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// A value was written at this level, so the next key or element needs a comma.
    private var separate = false

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func object(_ fields: (inout JSONWriter) -> Void) {
        beginValue()
        bytes.append(UInt8(ascii: "{"))
        separate = false
        fields(&self)
        bytes.append(UInt8(ascii: "}"))
        separate = true
    }

    public mutating func array<S: Sequence>(_ elements: S, _ element: (inout JSONWriter, S.Element) -> Void) {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        separate = false
        for e in elements { element(&self, e) }
        bytes.append(UInt8(ascii: "]"))
        separate = true
    }

    // Fields: a key and its value. An optional field is left out when nil, as `encodeIfPresent` does.

    public mutating func field<T: JSONWireEncodable>(_ name: StaticString, _ value: T) {
        key(name)
        value.write(to: &self)
    }
    public mutating func field<T: JSONWireEncodable>(_ name: StaticString, _ value: T?) { if let value { field(name, value) } }
    public mutating func field<T: JSONWireEncodable>(_ name: StaticString, _ values: [T]) {
        key(name)
        array(values) { $1.write(to: &$0) }
    }

    /// An object whose keys are data (a dictionary), written in the order given.
    public mutating func field<T: JSONWireEncodable>(_ name: StaticString, entries: [(key: String, value: T)]) {
        key(name)
        object { json in
            for (key, value) in entries {
                if json.separate { json.bytes.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(key, to: &json.bytes)
                json.bytes.append(UInt8(ascii: ":"))
                json.separate = false
                value.write(to: &json)
            }
        }
    }

    /// Pairs of integers as an array of two-element arrays (`[[1,5],[3,2]]`), in the order given: how a
    /// histogram is kept when its keys are numbers and its order theirs.
    public mutating func field(_ name: StaticString, intPairs pairs: [(Int, Int)]) {
        key(name)
        array(pairs) { json, pair in json.array([pair.0, pair.1]) { $0.value($1) } }
    }

    /// A dictionary keyed by integers, as `JSONEncoder` with sorted keys writes it: an object whose keys are
    /// the numbers as text, in text order.
    public mutating func field<T: JSONWireEncodable>(_ name: StaticString, intKeyed dictionary: [Int: T]) {
        field(name, entries: dictionary.map { (key: String($0.key), value: $0.value) }.sorted { $0.key < $1.key })
    }

    /// An optional field written as `null` when nil, as `encode` (not `encodeIfPresent`) writes it.
    public mutating func nullableField<T: JSONWireEncodable>(_ name: StaticString, _ value: T?) {
        key(name)
        if let value {
            value.write(to: &self)
        } else {
            beginValue()
            bytes.append(contentsOf: "null".utf8)
        }
    }

    // Values.

    public mutating func value(_ v: Int) {
        beginValue()
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        guard magnitude >= 10 else {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while magnitude > 0 {
                d[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: d[(24 - count)...])
        }
    }

    /// As Foundation writes a Double: its shortest round-trip form, without a trailing `.0`.
    public mutating func value(_ v: Double) {
        if v.isFinite, v == v.rounded(), v.magnitude < 1e15 {
            value(Int(v))
            return
        }
        beginValue()
        var text = v.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func value(_ v: Bool) {
        beginValue()
        if v { bytes.append(contentsOf: "true".utf8) } else { bytes.append(contentsOf: "false".utf8) }
    }

    public mutating func value(_ s: String) {
        beginValue()
        Self.appendString(s, to: &bytes)
    }

    /// A string of `count` ASCII bytes that `fill` writes in place (dates, times), without a String.
    public mutating func asciiValue(count: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        beginValue()
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBufferPointer { fill(.init(rebasing: $0[start..<(start + count)])) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `s` as a JSON string, escaped as `JSONEncoder` escapes it: `"` and `\\`, the short escapes for
    /// control characters that have one, `\u00xx` for the others; everything else as its UTF-8 bytes.
    public static func appendString(_ s: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            let hex = Array("0123456789abcdef".utf8)
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
                case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
                case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case ..<0x20: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]]
                default: bytes.append(b)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func key(_ name: StaticString) {
        if separate { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        separate = false
    }

    private mutating func beginValue() {
        if separate { bytes.append(UInt8(ascii: ",")) }
        separate = true
    }
}

extension JSONWireError {
    /// The error as seen from the object holding `key`.
    func inside(_ key: String) -> JSONWireError {
        var e = self
        e.path.insert(key, at: 0)
        return e
    }
}

// MARK: - reading

/// Reads JSON in place from a buffer that outlives the reader (see `init(wireJSON:)`).
public struct JSONReader {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Calls `field` for each key of an object, positioned at the key's value; `field` must read or
    /// `skipValue()` it.
    public mutating func object(_ field: (JSONKey, inout JSONReader) throws(JSONWireError) -> Void) throws(JSONWireError) {
        try expect(UInt8(ascii: "{"), "an object")
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            let name = try key()
            try expect(UInt8(ascii: ":"), "':' after a key")
            do { try field(name, &self) } catch { throw error.inside(name.text) }
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an object", at: position - 1) }
        }
    }

    public mutating func array<T>(_ element: (inout JSONReader) throws(JSONWireError) -> T) throws(JSONWireError) -> [T] {
        try expect(UInt8(ascii: "["), "an array")
        var out: [T] = []
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return out
        }
        while true {
            out.append(try element(&self))
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "]") { return out }
            guard next == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array", at: position - 1) }
        }
    }

    public mutating func decode<T: JSONWireDecodable>(_ type: T.Type = T.self) throws(JSONWireError) -> T { try T(from: &self) }

    /// A value that may be `null` (read as nil), as `decodeIfPresent` reads it.
    public mutating func decodeIfPresent<T: JSONWireDecodable>(_ type: T.Type = T.self) throws(JSONWireError) -> T? {
        try null() ? nil : try T(from: &self)
    }

    /// A dictionary keyed by integers, written by `JSONWriter.field(_:intKeyed:)`.
    public mutating func decodeIntKeyed<T: JSONWireDecodable>(_ type: T.Type = T.self) throws(JSONWireError) -> [Int: T] {
        var out: [Int: T] = [:]
        try object { (key, json) throws(JSONWireError) in
            guard let k = Int(key.text) else { throw JSONWireError("not an integer key: \(key.text)", at: 0) }
            out[k] = try json.decode()
        }
        return out
    }

    /// Pairs written by `JSONWriter.field(_:intPairs:)`.
    public mutating func decodeIntPairs() throws(JSONWireError) -> [(Int, Int)] {
        try array { (json) throws(JSONWireError) -> (Int, Int) in
            let pair = try json.array { (json) throws(JSONWireError) -> Int in try json.int() }
            guard pair.count == 2 else { throw json.invalid("a pair of integers") }
            return (pair[0], pair[1])
        }
    }

    public mutating func decodeArray<T: JSONWireDecodable>(_ type: T.Type = T.self) throws(JSONWireError) -> [T] {
        try array { (r) throws(JSONWireError) -> T in try T(from: &r) }
    }

    /// Consumes a `null` and returns true, or returns false at any other value.
    public mutating func null() throws(JSONWireError) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    public mutating func int() throws(JSONWireError) -> Int {
        _ = try peek()
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var magnitude: UInt64 = 0
        var digits = 0
        while position < bytes.count, case let d = bytes[position] &- UInt8(ascii: "0"), d < 10 {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { throw error("integer out of range", at: start) }
            magnitude = s
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw error("expected an integer", at: start) }
        if position < bytes.count, case let c = bytes[position], c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            throw error("expected an integer, found a fraction or exponent", at: start)
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { throw error("integer out of range", at: start) }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { throw error("integer out of range", at: start) }
        return Int(magnitude)
    }

    public mutating func double() throws(JSONWireError) -> Double {
        _ = try peek()
        let start = position
        while position < bytes.count, case let c = bytes[position],
            (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
        {
            position += 1
        }
        guard let v = Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)), v.isFinite
        else { throw error("expected a number", at: start) }
        return v
    }

    public mutating func bool() throws(JSONWireError) -> Bool {
        if try peek() == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    public mutating func string() throws(JSONWireError) -> String {
        let raw = try rawString()
        if !raw.escaped { return String(decoding: raw.bytes, as: UTF8.self) }
        return try unescape(raw.bytes, at: position - raw.bytes.count - 1)
    }

    /// A string that is parsed from its bytes (dates, times): `parse` returns nil when malformed.
    public mutating func parsedString<T>(_ what: String, _ parse: (UnsafeRawBufferPointer) -> T?) throws(JSONWireError) -> T {
        let start = position
        let raw = try rawString()
        let value: T?
        if raw.escaped {
            var text = try unescape(raw.bytes, at: start)
            value = text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
        } else {
            value = parse(raw.bytes)
        }
        guard let value else { throw error("not \(what)", at: start) }
        return value
    }

    /// Skips a value of any shape, nested at most `depth` levels (unknown content must not exhaust the stack).
    public mutating func skipValue(depth: Int = 64) throws(JSONWireError) {
        let c = try peek()
        guard depth > 0 || (c != UInt8(ascii: "{") && c != UInt8(ascii: "[")) else { throw error("nested too deeply", at: position) }
        switch c {
        case UInt8(ascii: "{"): try object { (_, r) throws(JSONWireError) in try r.skipValue(depth: depth - 1) }
        case UInt8(ascii: "["): _ = try array { (r) throws(JSONWireError) in try r.skipValue(depth: depth - 1) }
        case UInt8(ascii: "\""): _ = try rawString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try double()
        }
    }

    /// Only whitespace may follow the value.
    public mutating func expectEnd() throws(JSONWireError) {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected data after the value", at: position) }
    }

    /// The value read for a required key, or the error that the key is missing.
    public func required<T>(_ value: T?, _ key: StaticString) throws(JSONWireError) -> T {
        guard let value else { throw error("missing key \"\(key)\"", at: position) }
        return value
    }
    public func invalid(_ what: String) -> JSONWireError { error(what, at: position) }

    // MARK: scanning

    private func error(_ message: String, at offset: Int) -> JSONWireError { JSONWireError(message, at: offset) }

    private mutating func skipWhitespace() {
        while position < bytes.count, case let c = bytes[position],
            c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    /// The next non-whitespace byte, not consumed.
    private mutating func peek() throws(JSONWireError) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of data", at: position) }
        return bytes[position]
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONWireError) {
        guard try peek() == byte else { throw error("expected \(what)", at: position) }
        position += 1
    }

    private mutating func literal(_ word: StaticString) throws(JSONWireError) {
        let start = position
        let matched = word.withUTF8Buffer { w in
            position + w.count <= bytes.count && zip(w, bytes[position..<(position + w.count)]).allSatisfy { $0 == $1 }
        }
        guard matched else { throw error("expected \(word)", at: start) }
        position += word.utf8CodeUnitCount
    }

    private mutating func key() throws(JSONWireError) -> JSONKey {
        _ = try peek()
        let raw = try rawString()
        if !raw.escaped { return JSONKey(bytes: raw.bytes, unescaped: nil) }
        return JSONKey(bytes: raw.bytes, unescaped: try unescape(raw.bytes, at: position - raw.bytes.count - 1))
    }

    /// The bytes between the quotes of the next string, and whether they hold escapes.
    private mutating func rawString() throws(JSONWireError) -> (bytes: UnsafeRawBufferPointer, escaped: Bool) {
        try expect(UInt8(ascii: "\""), "a string")
        let start = position
        var escaped = false
        while position < bytes.count {
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                return (UnsafeRawBufferPointer(rebasing: bytes[start..<(position - 1)]), escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                position += 2
                continue
            }
            guard c >= 0x20 else { throw error("control character in a string", at: position) }
            position += 1
        }
        throw error("unterminated string", at: start - 1)
    }

    private func unescape(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(JSONWireError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) throws(JSONWireError) -> UInt32 {
            guard at + 4 <= raw.count else { throw error("short \\u escape", at: offset) }
            var v: UInt32 = 0
            for b in raw[at..<(at + 4)] {
                guard let d = Character(UnicodeScalar(b)).hexDigitValue else { throw error("bad \\u escape", at: offset) }
                v = v * 16 + UInt32(d)
            }
            return v
        }
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { throw error("bad escape", at: offset) }
            switch raw[i + 1] {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i + 2)
                i += 6
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape", at: offset)
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape", at: offset) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let s = Unicode.Scalar(scalar) else { throw error("invalid \\u escape", at: offset) }
                out.append(contentsOf: String(Character(s)).utf8)
                continue
            default: throw error("bad escape", at: offset)
            }
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// An object key as read, matched against literal keys in a `switch` without building a String.
public struct JSONKey {
    let bytes: UnsafeRawBufferPointer
    /// The key's text when it held escapes.
    let unescaped: String?

    public var text: String { unescaped ?? String(decoding: bytes, as: UTF8.self) }

    public static func ~= (pattern: StaticString, key: JSONKey) -> Bool {
        pattern.withUTF8Buffer { p in
            if let text = key.unescaped { return text.utf8.elementsEqual(p) }
            return p.count == key.bytes.count && (p.count == 0 || memcmpEqual(p.baseAddress!, key.bytes.baseAddress!, p.count))
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    for i in 0..<count where a[i] != b.load(fromByteOffset: i, as: UInt8.self) { return false }
    return true
}

// MARK: - scalars

extension Int: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(self) }
    public init(from json: inout JSONReader) throws(JSONWireError) { self = try json.int() }
}

extension Double: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(self) }
    public init(from json: inout JSONReader) throws(JSONWireError) { self = try json.double() }
}

extension Bool: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(self) }
    public init(from json: inout JSONReader) throws(JSONWireError) { self = try json.bool() }
}

extension String: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(self) }
    public init(from json: inout JSONReader) throws(JSONWireError) { self = try json.string() }
}

/// String enums are written as their raw value.
extension JSONWireEncodable where Self: RawRepresentable, RawValue == String {
    public func write(to json: inout JSONWriter) { json.value(rawValue) }
}

extension JSONWireDecodable where Self: RawRepresentable, RawValue == String {
    public init(from json: inout JSONReader) throws(JSONWireError) {
        let text = try json.string()
        guard let value = Self(rawValue: text) else { throw json.invalid("Cannot initialize \(Self.self) from invalid String value \(text)") }
        self = value
    }
}
