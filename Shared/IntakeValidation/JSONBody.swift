/// Splitting a request body into records (interfaces.md: a JSON array, or NDJSON).
public enum JSONBody {
    /// NDJSON (`application/x-ndjson`): one JSON value per non-empty line. Lines end with `\n`
    /// (a trailing `\r` is tolerated); lines holding only whitespace are skipped and do not count
    /// as records. A line that does not parse is one bad record, not a bad body, so its result is a
    /// failure at its record index. Throws only for whole-body problems (`tooLarge`, `tooManyRecords`).
    public static func ndjsonRecords(_ input: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONParseError) -> [Result<
        JSONValue, JSONParseError
    >] {
        let body = Array(input)
        guard body.count <= limits.maxTotalBytes else { throw JSONParseError(.tooLarge, at: limits.maxTotalBytes) }
        var records: [Result<JSONValue, JSONParseError>] = []
        var lineStart = hasByteOrderMark(body) ? 3 : 0
        while lineStart < body.count {
            let lineEnd = body[lineStart...].firstIndex(of: 0x0A) ?? body.count
            let line = body[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            guard line.contains(where: { !isWhitespace($0) }) else { continue }
            guard records.count < limits.maxRecords else { throw JSONParseError(.tooManyRecords, at: line.startIndex) }
            do throws(JSONParseError) {
                records.append(.success(try JSONValue.parse(line, limits: limits)))
            } catch {
                records.append(.failure(error))
            }
        }
        return records
    }

    /// A JSON array body (`application/json`): its elements are the records. Any parse problem makes
    /// the whole body unusable (HTTP 400), since the record boundaries are then unknown.
    public static func arrayRecords(_ body: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONParseError) -> [JSONValue] {
        guard case .array(let elements) = try JSONValue.parse(body, limits: limits) else {
            throw JSONParseError(.notAnArray, at: 0)
        }
        guard elements.count <= limits.maxRecords else { throw JSONParseError(.tooManyRecords, at: 0) }
        return elements
    }

    static func hasByteOrderMark(_ b: [UInt8]) -> Bool { b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF }
    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
}

extension JSONValue {
    /// A copy fit for dead-letter topics and operator views (spec: no clear person id): every member
    /// named `personId` (or whose key holds 11 consecutive digits) is dropped, and any other string or number containing 11 consecutive digits
    /// becomes `"[redacted]"` — a person id may hide in an unknown or misnamed field, and an invalid
    /// id (a typo) is still personal data, so the digits' validity does not matter.
    public func redactingPersonIds() -> JSONValue {
        switch self {
        case .null, .bool: return self
        case .number(let n): return JSONValue.hasElevenDigitRun(n.text) ? .string(JSONValue.redacted) : self
        case .string(let s): return JSONValue.hasElevenDigitRun(s) ? .string(JSONValue.redacted) : self
        case .array(let elements): return .array(elements.map { $0.redactingPersonIds() })
        case .object(let o):
            return .object(
                JSONObject(
                    o.members.compactMap { m in
                        m.key == "personId" || JSONValue.hasElevenDigitRun(m.key)
                            ? nil : JSONObject.Member(key: m.key, value: m.value.redactingPersonIds())
                    }))
        }
    }

    public static let redacted = "[redacted]"

    static func hasElevenDigitRun(_ s: String) -> Bool {
        var run = 0
        for b in s.utf8 {
            run = isDigit(b) ? run + 1 : 0
            if run >= 11 { return true }
        }
        return false
    }
}
