import NPRCore

/// Published values as CSV, codes first (the `PublishedValue` fields), then their labels from the catalogue.
///
/// Two dialects: `rfc4180` (comma, decimal point in Swift's shortest round-trip form such as `0.15` or `1e-05`,
/// no byte-order mark) for programs, and `excel-nb` for a spreadsheet in a Norwegian locale (semicolon,
/// decimal comma, no exponent, UTF-8 byte-order mark so the letters æøå are read as UTF-8). Both: a header
/// row, CRLF line ends, fields quoted only when they hold the separator, a quote or a line break (quotes
/// doubled), nulls as empty fields.
public enum CSV {
    public enum Dialect: String, CaseIterable, Sendable {
        case rfc4180
        case excelNb = "excel-nb"

        var separator: Character { self == .rfc4180 ? "," : ";" }
    }

    public static let codeColumns = [
        "indicator", "measure", "period", "level", "unit", "unitName", "sex", "numerator",
        "denominator", "value", "ciLower", "ciUpper", "status", "revision", "asOf", "updatedAt",
    ]
    public static let labelColumns = [
        "indicatorLabel", "measureLabel", "periodLabel", "levelLabel", "regionLabel", "sexLabel",
        "statusSymbol", "statusLabel",
    ]
    public static var columns: [String] { codeColumns + labelColumns }

    public static func render(
        values: [PublishedValue], dialect: Dialect = .rfc4180, language: Language = .nb,
        labels: LabelCatalogue = .shared
    ) -> String {
        func number(_ x: Double?) -> String? {
            guard let x else { return nil }
            return dialect == .rfc4180 ? String(x) : positional(x).replacingOccurrences(of: ".", with: ",")
        }
        var lines = [columns.map { field($0, dialect) }.joined(separator: String(dialect.separator))]
        for v in values {
            let numbers: [String?] = [
                v.numerator.map { String($0) }, v.denominator.map { String($0) },
                number(v.value), number(v.ciLower), number(v.ciUpper),
            ]
            let text: [String?] = [v.indicator, v.measure, v.period, v.level, v.unit, v.unitName, v.sex].map { $0.map(inert) }
            let meta: [String?] = [v.status.rawValue, String(v.revision), v.asOf.description, v.updatedAt]
            let described: [String?] = [
                labels.indicator(v.indicator, language), labels.measure(indicator: v.indicator, v.measure, language),
                labels.period(v.period, language), labels.level(v.level, language),
                labels.region(unit: v.unit, unitName: v.unitName, language), labels.sex(v.sex, language),
                labels.statusSymbol(v.status), labels.status(v.status, language),
            ].map(inert)
            let cells = text + numbers + meta + described
            lines.append(cells.map { field($0 ?? "", dialect) }.joined(separator: String(dialect.separator)))
        }
        let body = lines.map { $0 + "\r\n" }.joined()
        return dialect == .excelNb ? "\u{FEFF}" + body : body
    }

    /// A file name for a download of `indicator` (or of every indicator) on `date` (`yyyy-mm-dd`).
    public static func fileName(indicator: String?, date: String) -> String {
        let safe = indicator.map { String($0.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) }
        return "\(safe.flatMap { $0.isEmpty ? nil : $0 } ?? "tsb-indikatorer")-\(date).csv"
    }

    /// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
    /// leading `'` (OWASP's CSV-injection advice); numbers are written as they are.
    static func inert(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// `x` in positional notation with the fewest digits that read back as `x` (`1e-05` → `0.00001`),
    /// since a spreadsheet in a comma-decimal locale does not read an exponent with a comma mantissa.
    static func positional(_ x: Double) -> String {
        let shortest = String(x)
        guard x.isFinite, let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }),
            let exponent = Int(shortest[shortest.index(after: e)...])
        else { return shortest }
        let negative = shortest.hasPrefix("-")
        let mantissa = shortest[..<e].drop { $0 == "-" }
        let point = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        var digits = String(mantissa.filter { $0 != "." })
        var position = point + exponent
        if position <= 0 {
            digits = String(repeating: "0", count: 1 - position) + digits
            position = 1
        }
        if position >= digits.count { digits += String(repeating: "0", count: position - digits.count) }
        var integer = String(digits.prefix(position)), fraction = String(digits.dropFirst(position))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        while integer.count > 1 && integer.hasPrefix("0") { integer.removeFirst() }
        return (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
    }

    private static func field(_ text: String, _ dialect: Dialect) -> String {
        // `isNewline` also catches "\r\n", which Swift treats as one Character.
        guard text.contains(where: { $0 == dialect.separator || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
