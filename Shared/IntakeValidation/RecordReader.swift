import NPRCore

/// Reads typed fields out of one JSON record while collecting every problem, so a record's receipt
/// lists all its errors at once. Each check exists once here; the validators only say which field
/// needs which check. Messages name the rule, never the submitted value.
struct RecordReader {
    enum Presence {
        /// Must be present and non-null.
        case required
        /// Must be present; null is a meaningful value (`end`, `municipality`).
        case requiredNullable
        /// May be absent; null means absent.
        case optional
    }

    private(set) var errors: [FieldError] = []
    private var object: JSONObject
    private var prefix = ""

    init(_ object: JSONObject) { self.object = object }

    mutating func reject(_ field: String, _ code: IntakeErrorCode, _ message: String) {
        errors.append(FieldError(field: field, code: code, message: message))
    }

    func path(_ key: String) -> String { prefix + key }

    /// True when `key` is present with the value null.
    func isNull(_ key: String) -> Bool { object[key] == .null }

    /// True when `key` is present with a non-null value (valid or not).
    func isGiven(_ key: String) -> Bool { object[key].map { $0 != .null } ?? false }

    /// The non-null value at `key`, recording `required` when the presence rule is broken.
    mutating func lookup(_ key: String, _ presence: Presence) -> (value: JSONValue, path: String)? {
        switch object[key] {
        case nil:
            if presence != .optional { reject(path(key), .required, "\(path(key)) is required") }
            return nil
        case .null?:
            if presence == .required { reject(path(key), .required, "\(path(key)) is required and must not be null") }
            return nil
        case let value?:
            return (value, path(key))
        }
    }

    /// Reads the nested object at `key` with `body`, reporting its fields as `key.field`.
    mutating func nested<T>(_ key: String, _ presence: Presence, _ body: (inout RecordReader) -> T) -> T? {
        guard let f = lookup(key, presence), let o = object(f.value, at: f.path) else { return nil }
        let saved = (object, prefix)
        (object, prefix) = (o, f.path + ".")
        defer { (object, prefix) = saved }
        return body(&self)
    }

    // MARK: Checks on a value at a path

    mutating func object(_ v: JSONValue, at path: String) -> JSONObject? {
        if case .object(let o) = v { return o }
        reject(path, .invalidType, "\(path) must be a JSON object")
        return nil
    }

    mutating func array(_ v: JSONValue, at path: String) -> [JSONValue]? {
        if case .array(let a) = v { return a }
        reject(path, .invalidType, "\(path) must be a JSON array")
        return nil
    }

    mutating func bool(_ v: JSONValue, at path: String) -> Bool? {
        if case .bool(let b) = v { return b }
        reject(path, .invalidType, "\(path) must be true or false")
        return nil
    }

    /// A string whose length in Unicode code points (as JSON Schema counts) lies in `length`.
    mutating func string(_ v: JSONValue, at path: String, length: ClosedRange<Int>) -> String? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a string")
            return nil
        }
        guard length.contains(s.unicodeScalars.count) else {
            reject(path, .invalidLength, "\(path) must be \(length.lowerBound)–\(length.upperBound) characters long")
            return nil
        }
        return s
    }

    /// An identifier: a string of the given length without control characters (they would corrupt
    /// logs and keys; no NPR identifier contains one). Identifiers are the sender's opaque values: never
    /// inspected for what they look like (spec: *opaque identifiers*).
    mutating func identifier(_ v: JSONValue, at path: String, length: ClosedRange<Int>) -> String? {
        guard let s = string(v, at: path, length: length) else { return nil }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            reject(path, .invalidFormat, "\(path) must not contain control characters")
            return nil
        }
        return s
    }

    /// A string of exactly `count` ASCII digits (leading zeros matter, so numbers are refused).
    mutating func digits(_ v: JSONValue, at path: String, count: Int) -> String? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a string of \(count) digits (a JSON number would lose leading zeros)")
            return nil
        }
        guard s.utf8.count == count, s.utf8.allSatisfy(isDigit) else {
            reject(path, .invalidFormat, "\(path) must be exactly \(count) digits")
            return nil
        }
        return s
    }

    /// An integral JSON number (`2` or `2.0`) that fits in 64 bits.
    mutating func integer(_ v: JSONValue, at path: String) -> Int? {
        guard case .number(let n) = v, n.isIntegral else {
            reject(path, .invalidType, "\(path) must be an integer")
            return nil
        }
        guard let i = n.int else {
            reject(path, .outOfRange, "\(path) is too large")
            return nil
        }
        return i
    }

    mutating func integer(_ v: JSONValue, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard let i = integer(v, at: path) else { return nil }
        guard range.contains(i) else {
            let rule = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            reject(path, .outOfRange, "\(path) must be \(rule)")
            return nil
        }
        return i
    }

    /// An integer from an NPR code list.
    mutating func code(_ v: JSONValue, at path: String, allowed: [Int]) -> Int? {
        guard let i = integer(v, at: path) else { return nil }
        guard allowed.contains(i) else {
            reject(path, .invalidCode, "\(path) must be one of " + allowed.map(String.init).joined(separator: ", "))
            return nil
        }
        return i
    }

    /// A string from a fixed list (exact spelling and case).
    mutating func code(_ v: JSONValue, at path: String, allowed: [String]) -> String? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a string")
            return nil
        }
        guard allowed.contains(s) else {
            reject(path, .invalidCode, "\(path) must be one of " + allowed.map { "\"\($0)\"" }.joined(separator: ", "))
            return nil
        }
        return s
    }

    /// Dates outside the registers' era would open periods no one reports for.
    mutating func plausible(_ year: Int, at path: String) -> Bool {
        guard Plausible.years.contains(year) else {
            reject(path, .outOfRange, "\(path) must lie in the years \(Plausible.years.lowerBound)–\(Plausible.years.upperBound)")
            return false
        }
        return true
    }

    mutating func date(_ v: JSONValue, at path: String) -> LocalDate? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a date string YYYY-MM-DD")
            return nil
        }
        guard let d = LocalDate(s) else {
            reject(path, .invalidDate, "\(path) must be a real calendar date written YYYY-MM-DD")
            return nil
        }
        return plausible(d.year, at: path) ? d : nil
    }

    mutating func dateTime(_ v: JSONValue, at path: String) -> LocalDateTime? {
        guard case .string(let s) = v else {
            reject(path, .invalidType, "\(path) must be a date-time string YYYY-MM-DDTHH:MM")
            return nil
        }
        guard let d = LocalDateTime(s) else {
            reject(path, .invalidDateTime, "\(path) must be a real local date-time written YYYY-MM-DDTHH:MM (no seconds, no offset)")
            return nil
        }
        return plausible(d.date.year, at: path) ? d : nil
    }

    // MARK: The same checks on the field `key` of the current object

    mutating func string(_ key: String, _ presence: Presence, length: ClosedRange<Int>) -> String? {
        guard let f = lookup(key, presence) else { return nil }
        return string(f.value, at: f.path, length: length)
    }

    mutating func identifier(_ key: String, _ presence: Presence, length: ClosedRange<Int>) -> String? {
        guard let f = lookup(key, presence) else { return nil }
        return identifier(f.value, at: f.path, length: length)
    }

    mutating func digits(_ key: String, _ presence: Presence, count: Int) -> String? {
        guard let f = lookup(key, presence) else { return nil }
        return digits(f.value, at: f.path, count: count)
    }

    mutating func integer(_ key: String, _ presence: Presence) -> Int? {
        guard let f = lookup(key, presence) else { return nil }
        return integer(f.value, at: f.path)
    }

    mutating func integer(_ key: String, _ presence: Presence, in range: ClosedRange<Int>) -> Int? {
        guard let f = lookup(key, presence) else { return nil }
        return integer(f.value, at: f.path, in: range)
    }

    mutating func code(_ key: String, _ presence: Presence, allowed: [Int]) -> Int? {
        guard let f = lookup(key, presence) else { return nil }
        return code(f.value, at: f.path, allowed: allowed)
    }

    mutating func code(_ key: String, _ presence: Presence, allowed: [String]) -> String? {
        guard let f = lookup(key, presence) else { return nil }
        return code(f.value, at: f.path, allowed: allowed)
    }

    mutating func date(_ key: String, _ presence: Presence) -> LocalDate? {
        guard let f = lookup(key, presence) else { return nil }
        return date(f.value, at: f.path)
    }

    mutating func dateTime(_ key: String, _ presence: Presence) -> LocalDateTime? {
        guard let f = lookup(key, presence) else { return nil }
        return dateTime(f.value, at: f.path)
    }

    mutating func bool(_ key: String, _ presence: Presence) -> Bool? {
        guard let f = lookup(key, presence) else { return nil }
        return bool(f.value, at: f.path)
    }

    mutating func array(_ key: String, _ presence: Presence) -> [JSONValue]? {
        guard let f = lookup(key, presence) else { return nil }
        return array(f.value, at: f.path)
    }
}
