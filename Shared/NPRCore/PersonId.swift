/// Norwegian fødselsnummer / D-number rules (messages.md, "Birth date from the person id").
/// A person id is valid when both mod-11 check digits are right and a real birth date follows from it.
public enum PersonId {
    public enum Problem: String, Error, Sendable, Hashable {
        case format = "invalid-format"  // not 11 digits
        case checkDigit = "invalid-check-digit"  // a check digit is wrong (or would be 10)
        case birthDate = "invalid-birth-date"  // no real birth date (month 13, 29 Feb in a non-leap year, impossible century)
    }

    static let weights1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
    static let weights2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]

    /// The two check digits for the first nine digits, or nil when one of them would be 10.
    public static func checkDigits(_ first9: [Int]) -> (Int, Int)? {
        precondition(first9.count == 9)
        func digit(_ digits: [Int], _ w: [Int]) -> Int? {
            let r = 11 - zip(digits, w).reduce(0) { $0 + $1.0 * $1.1 } % 11
            return r == 11 ? 0 : (r == 10 ? nil : r)
        }
        guard let k1 = digit(first9, weights1), let k2 = digit(first9 + [k1], weights2) else { return nil }
        return (k1, k2)
    }

    /// Birth date of a valid person id, or the first problem found.
    public static func birthDate(of id: String) -> Result<LocalDate, Problem> {
        let u = Array(id.utf8)
        guard u.count == 11, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return .failure(.format) }
        let d = u.map { Int($0 - 48) }
        guard let (k1, k2) = checkDigits(Array(d[0..<9])), k1 == d[9], k2 == d[10] else { return .failure(.checkDigit) }
        var day = d[0] * 10 + d[1]
        var month = d[2] * 10 + d[3]
        let yy = d[4] * 10 + d[5]
        let individual = d[6] * 100 + d[7] * 10 + d[8]
        if day > 40 { day -= 40 }  // D-number
        if month > 80 { month -= 80 } else if month > 40 { month -= 40 }  // synthetic test number, H-number
        let century: Int
        switch individual {
        case 0...499: century = 1900
        case 500...749 where yy >= 54: century = 1800
        case 500...999 where yy <= 39: century = 2000
        case 900...999 where yy >= 40: century = 1900
        default: return .failure(.birthDate)
        }
        guard let date = LocalDate(year: century + yy, month: month, day: day) else { return .failure(.birthDate) }
        return .success(date)
    }

    public static func isValid(_ id: String) -> Bool {
        if case .success = birthDate(of: id) { return true }
        return false
    }

    /// A valid fødselsnummer for `birth` and individual number `individual` (the century must agree
    /// with the rules above), or nil when that individual number yields a check digit of 10.
    /// `synthetic` gives a synthetic test number (month + 80), which no real person has.
    public static func make(birth: LocalDate, individual: Int, dNumber: Bool = false, synthetic: Bool = false) -> String? {
        let dd = birth.day + (dNumber ? 40 : 0), mm = birth.month + (synthetic ? 80 : 0), yy = birth.year % 100
        let first9 = [dd / 10, dd % 10, mm / 10, mm % 10, yy / 10, yy % 10, individual / 100, individual / 10 % 10, individual % 10]
        guard let (k1, k2) = checkDigits(first9) else { return nil }
        return (first9 + [k1, k2]).map(String.init).joined()
    }
}
