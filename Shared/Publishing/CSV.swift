import NPRCore

/// Published values as CSV (RFC 4180): a header row, CRLF line ends, fields quoted only when they hold a
/// comma, a quote or a line break (quotes doubled), nulls as empty fields. Numbers are written in Swift's
/// shortest round-trip form (`0.15`, `1e-05`).
public enum CSV {
    public static let columns = ["indicator", "measure", "period", "level", "unit", "unitName", "sex", "numerator",
                                 "denominator", "value", "ciLower", "ciUpper", "status", "revision", "asOf", "updatedAt"]

    public static func render(values: [PublishedValue]) -> String {
        var lines = [columns.map(field).joined(separator: ",")]
        for v in values {
            let numbers: [String?] = [v.numerator.map { String($0) }, v.denominator.map { String($0) },
                                      v.value.map { String($0) }, v.ciLower.map { String($0) }, v.ciUpper.map { String($0) }]
            let text: [String?] = [v.indicator, v.measure, v.period, v.level, v.unit, v.unitName, v.sex].map { $0.map(inert) }
            let cells = text + numbers + [v.status.rawValue, String(v.revision), v.asOf.description, v.updatedAt]
            lines.append(cells.map { field($0 ?? "") }.joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
    /// leading `'` (OWASP's CSV-injection advice); numbers are written as they are.
    static func inert(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    private static func field(_ text: String) -> String {
        // `isNewline` also catches "\r\n", which Swift treats as one Character.
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
