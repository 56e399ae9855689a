/// Calendar dates and local date-times as NPR reports them (Norwegian local time, no offset).
/// Kept as plain integers so the domain core never depends on a time zone or on Foundation's calendar.
public struct LocalDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    // Stored compactly (8 bytes, not 24): the engines keep several dates for each of millions of episodes.
    private let storedYear: Int32
    private let storedMonth: UInt8
    private let storedDay: UInt8

    public var year: Int { Int(storedYear) }
    public var month: Int { Int(storedMonth) }
    public var day: Int { Int(storedDay) }

    /// Validating initialiser: nil for impossible dates (month 13, 29 February in a non-leap year, …).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...LocalDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.init(valid: year, month, day)
    }

    /// A date already known to exist (day arithmetic may leave 1...9999).
    private init(valid year: Int, _ month: Int, _ day: Int) {
        storedYear = Int32(year)
        storedMonth = UInt8(month)
        storedDay = UInt8(day)
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(_ text: String) { self.init(utf8: Array(text.utf8)) }

    init?<Bytes: RandomAccessCollection<UInt8>>(utf8 u: Bytes) where Bytes.Index == Int {
        let i = u.startIndex
        guard u.count == 10, u[i + 4] == UInt8(ascii: "-"), u[i + 7] == UInt8(ascii: "-"),
            let y = LocalDate.digits(u[i..<(i + 4)]), let m = LocalDate.digits(u[(i + 5)..<(i + 7)]),
            let d = LocalDate.digits(u[(i + 8)..<(i + 10)])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func digits<Bytes: Collection<UInt8>>(_ s: Bytes) -> Int? {
        var v = 0
        for c in s {
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for day arithmetic.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public init(dayNumber z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(valid: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.storedYear, a.storedMonth, a.storedDay) < (b.storedYear, b.storedMonth, b.storedDay)
    }

    public var description: String {
        // Dates are written for every episode a service encodes, so the usual case is formatted in place.
        guard (0...9999).contains(year) else {
            let y = String(year), m = String(month), d = String(day)
            return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count < 2 ? "0" : "") + m + "-" + (d.count < 2 ? "0" : "") + d
        }
        return String(unsafeUninitializedCapacity: 10) {
            write(to: $0)
            return 10
        }
    }

    /// Writes `YYYY-MM-DD` into the first ten bytes; the year must be 0...9999.
    func write(to buffer: UnsafeMutableBufferPointer<UInt8>) {
        LocalDate.writeDigits(year, width: 4, to: buffer, at: 0)
        buffer[4] = UInt8(ascii: "-")
        LocalDate.writeDigits(month, width: 2, to: buffer, at: 5)
        buffer[7] = UInt8(ascii: "-")
        LocalDate.writeDigits(day, width: 2, to: buffer, at: 8)
    }

    /// `value` (0 ≤ value < 10^width) as `width` zero-padded digits at `offset`.
    static func writeDigits(_ value: Int, width: Int, to buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        for i in stride(from: offset + width - 1, through: offset, by: -1) {
            buffer[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }

    /// Completed years at `date` (spec §5): a person born 29 February ages on 1 March in non-leap years.
    public func age(on date: LocalDate) -> Int {
        var a = date.year - year
        if (date.month, date.day) < (month, day) { a -= 1 }
        return a
    }

    public init(from decoder: Decoder) throws {
        self = try LocalDate.decoded(decoder.singleValueContainer().decode(String.self), codingPath: decoder.codingPath)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// `YYYY-MM-DDTHH:MM`, local Norwegian time without offset.
public struct LocalDateTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let date: LocalDate
    private let storedHour: UInt8
    private let storedMinute: UInt8

    public var hour: Int { Int(storedHour) }
    public var minute: Int { Int(storedMinute) }

    public init?(date: LocalDate, hour: Int, minute: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        self.date = date
        storedHour = UInt8(hour)
        storedMinute = UInt8(minute)
    }

    public init?(_ text: String) { self.init(utf8: Array(text.utf8)) }

    init?<Bytes: RandomAccessCollection<UInt8>>(utf8 u: Bytes) where Bytes.Index == Int {
        let i = u.startIndex
        guard u.count == 16, u[i + 10] == UInt8(ascii: "T"), u[i + 13] == UInt8(ascii: ":"),
            let d = LocalDate(utf8: u[i..<(i + 10)]),
            let h = LocalDate.digits(u[(i + 11)..<(i + 13)]), let m = LocalDate.digits(u[(i + 14)..<(i + 16)])
        else { return nil }
        self.init(date: d, hour: h, minute: m)
    }

    public static func < (a: LocalDateTime, b: LocalDateTime) -> Bool {
        (a.date, a.hour, a.minute) < (b.date, b.hour, b.minute)
    }

    public var description: String {
        guard (0...9999).contains(date.year) else {
            return date.description + "T" + (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
        }
        return String(unsafeUninitializedCapacity: 16) {
            write(to: $0)
            return 16
        }
    }

    /// Writes `YYYY-MM-DDTHH:MM` into the first sixteen bytes; the year must be 0...9999.
    func write(to buffer: UnsafeMutableBufferPointer<UInt8>) {
        date.write(to: buffer)
        buffer[10] = UInt8(ascii: "T")
        LocalDate.writeDigits(hour, width: 2, to: buffer, at: 11)
        buffer[13] = UInt8(ascii: ":")
        LocalDate.writeDigits(minute, width: 2, to: buffer, at: 14)
    }

    public init(from decoder: Decoder) throws {
        self = try LocalDateTime.decoded(decoder.singleValueContainer().decode(String.self), codingPath: decoder.codingPath)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Reporting periods: a year `YYYY` or a tertial `YYYY-T1` (Jan–Apr), `-T2` (May–Aug), `-T3` (Sep–Dec).
public enum Period: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    case year(Int)
    case tertial(Int, Int)

    public static func tertial(of date: LocalDate) -> Period { .tertial(date.year, (date.month - 1) / 4 + 1) }
    public static func year(of date: LocalDate) -> Period { .year(date.year) }
    /// The year and the tertial that contain `date`.
    public static func periods(of date: LocalDate) -> [Period] { [.year(date.year), tertial(of: date)] }

    public var year: Int {
        switch self {
        case .year(let y): return y
        case .tertial(let y, _): return y
        }
    }

    /// First and last day of the period.
    public var firstDay: LocalDate {
        switch self {
        case .year(let y): return LocalDate(year: y, month: 1, day: 1)!
        case .tertial(let y, let t): return LocalDate(year: y, month: (t - 1) * 4 + 1, day: 1)!
        }
    }

    public var lastDay: LocalDate {
        switch self {
        case .year(let y): return LocalDate(year: y, month: 12, day: 31)!
        case .tertial(let y, let t):
            let m = t * 4
            return LocalDate(year: y, month: m, day: LocalDate.daysIn(month: m, year: y))!
        }
    }

    public var description: String {
        switch self {
        case .year(let y): return String(y)
        case .tertial(let y, let t): return "\(y)-T\(t)"
        }
    }

    public init?(_ text: String) {
        if text.count == 4, let y = Int(text) {
            self = .year(y)
            return
        }
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]),
            parts[1].count == 2, parts[1].first == "T", let t = Int(parts[1].dropFirst()), (1...3).contains(t)
        else { return nil }
        self = .tertial(y, t)
    }

    public static func < (a: Period, b: Period) -> Bool { a.description < b.description }

    public init(from decoder: Decoder) throws {
        self = try Period.decoded(decoder.singleValueContainer().decode(String.self), codingPath: decoder.codingPath)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (for rates and timeouts given in seconds).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// The duration in whole nanoseconds (for timers).
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
