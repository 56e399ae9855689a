import NPRCore
import Testing

/// PersonId (NPRCore) against examples computed by hand from the rules in messages.md.
/// Check digits: k1 = 11 − (Σ wᵢ·dᵢ mod 11) with w = 3,7,6,1,8,9,4,5,2 over d1..d9;
/// k2 = 11 − (Σ wᵢ·dᵢ mod 11) with w = 5,4,3,2,7,6,5,4,3,2 over d1..d9,k1; 11 → 0, 10 → invalid.
/// Each comment lists the products, their sum, the remainder and the resulting digit.
@Suite struct PersonIdTests {
    static func date(_ y: Int, _ m: Int, _ d: Int) -> LocalDate { LocalDate(year: y, month: m, day: d)! }

    struct Valid: Sendable, CustomStringConvertible {
        let id: String, year: Int, month: Int, day: Int, why: String
        var description: String { why }
    }

    static let valid: [Valid] = [
        // 170580 123: k1 3+49+0+5+64+0+4+10+6=141, 141 mod 11=9, k1=2;
        //             k2 5+28+0+10+56+0+5+8+9+4=125, 125 mod 11=4, k2=7. III 123 → 1900s.
        Valid(id: "17058012327", year: 1980, month: 5, day: 17, why: "ordinary fødselsnummer, III 000–499 → 1900s"),
        // 010120 499: k1 0+7+0+1+16+0+16+45+18=103, mod 11=4, k1=7; k2 0+4+0+2+14+0+20+36+27+14=117, mod 11=7, k2=4.
        Valid(id: "01012049974", year: 1920, month: 1, day: 1, why: "III 499 is the last 1900s number"),
        // 311299 499: k1 9+7+6+2+72+81+16+45+18=256, mod 11=3, k1=8; k2 15+4+3+4+63+54+20+36+27+16=242, mod 11=0, 11 → k2=0.
        Valid(id: "31129949980", year: 1999, month: 12, day: 31, why: "last day of the 1900s range, k2 from 11 becomes 0"),
        // 150360 600: k1 3+35+0+3+48+0+24+0+0=113, mod 11=3, k1=8; k2 5+20+0+6+42+0+30+0+0+16=119, mod 11=9, k2=2.
        Valid(id: "15036060082", year: 1860, month: 3, day: 15, why: "III 500–749 with YY ≥ 54 → 1800s"),
        // 010154 749: k1 0+7+0+1+40+36+28+20+18=150, mod 11=7, k1=4; k2 0+4+0+2+35+24+35+16+27+8=151, mod 11=8, k2=3.
        Valid(id: "01015474943", year: 1854, month: 1, day: 1, why: "1800s boundary: YY 54, III 749"),
        // 121205 512: k1 3+14+6+2+0+45+20+5+4=99, mod 11=0, 11 → k1=0; k2 5+8+3+4+0+30+25+4+6+0=85, mod 11=8, k2=3.
        Valid(id: "12120551203", year: 2005, month: 12, day: 12, why: "III 500–999 with YY ≤ 39 → 2000s, k1 from 11 becomes 0"),
        // 020110 950: k1 0+14+0+1+8+0+36+25+0=84, mod 11=7, k1=4; k2 0+8+0+2+7+0+45+20+0+8=90, mod 11=2, k2=9.
        Valid(id: "02011095049", year: 2010, month: 1, day: 2, why: "III 950 with YY ≤ 39 → 2000s"),
        // 020139 500: k1 0+14+0+1+24+81+20+0+0=140, mod 11=8, k1=3; k2 0+8+0+2+21+54+25+0+0+6=116, mod 11=6, k2=5.
        Valid(id: "02013950035", year: 2039, month: 1, day: 2, why: "2000s boundary: YY 39, III 500"),
        // 241245 950: k1 6+28+6+2+32+45+36+25+0=180, mod 11=4, k1=7; k2 10+16+3+4+28+30+45+20+0+14=170, mod 11=5, k2=6.
        Valid(id: "24124595076", year: 1945, month: 12, day: 24, why: "III 900–999 with YY ≥ 40 → 1900s"),
        // 010140 900: k1 0+7+0+1+32+0+36+0+0=76, mod 11=10, k1=1; k2 0+4+0+2+28+0+45+0+0+2=81, mod 11=4, k2=7.
        Valid(id: "01014090017", year: 1940, month: 1, day: 1, why: "boundary: YY 40, III 900 → 1900s"),
        // 150399 999: k1 3+35+0+3+72+81+36+45+18=293, mod 11=7, k1=4; k2 5+20+0+6+63+54+45+36+27+8=264, mod 11=0, k2=0.
        Valid(id: "15039999940", year: 1999, month: 3, day: 15, why: "III 999, YY 99 → 1900s"),
        // 410180 123: k1 12+7+0+1+64+0+4+10+6=104, mod 11=5, k1=6; k2 20+4+0+2+56+0+5+8+9+12=116, mod 11=6, k2=5.
        Valid(id: "41018012365", year: 1980, month: 1, day: 1, why: "D-number: day 41 − 40 = 1"),
        // 174580 124: k1 3+49+24+5+64+0+4+10+8=167, mod 11=2, k1=9; k2 5+28+12+10+56+0+5+8+12+18=154, mod 11=0, k2=0.
        Valid(id: "17458012490", year: 1980, month: 5, day: 17, why: "H-number: month 45 − 40 = 5"),
        // 178580 123: k1 3+49+48+5+64+0+4+10+6=189, mod 11=2, k1=9; k2 5+28+24+10+56+0+5+8+9+18=163, mod 11=9, k2=2.
        Valid(id: "17858012392", year: 1980, month: 5, day: 17, why: "synthetic test number: month 85 − 80 = 5"),
        // 418580 123: k1 12+7+48+5+64+0+4+10+6=156, mod 11=2, k1=9; k2 20+4+24+10+56+0+5+8+9+18=154, mod 11=0, k2=0.
        Valid(id: "41858012390", year: 1980, month: 5, day: 1, why: "synthetic D-number: day 41 − 40, month 85 − 80"),
        // 410281 123: k1 12+7+0+2+64+9+4+10+6=114, mod 11=4, k1=7; k2 20+4+0+4+56+6+5+8+9+14=126, mod 11=5, k2=6.
        Valid(id: "41028112376", year: 1981, month: 2, day: 1, why: "synthetic D-number in February"),
        // 704580 123: k1 21+0+24+5+64+0+4+10+6=134, mod 11=2, k1=9; k2 35+0+12+10+56+0+5+8+9+18=153, mod 11=10, k2=1.
        Valid(id: "70458012391", year: 1980, month: 5, day: 30, why: "D-number and H-number rules apply independently"),
        // 290296 124: k1 6+63+0+2+72+54+4+10+8=219, mod 11=10, k1=1; k2 10+36+0+4+63+36+5+8+12+2=176, mod 11=0, k2=0.
        Valid(id: "29029612410", year: 1996, month: 2, day: 29, why: "29 February of a leap year"),
        // 290252 123: k1 6+63+0+2+40+18+4+10+6=149, mod 11=6, k1=5; k2 10+36+0+4+35+12+5+8+9+10=129, mod 11=8, k2=3.
        Valid(id: "29025212353", year: 1952, month: 2, day: 29, why: "29 February 1952"),
        // 290200 523: k1 6+63+0+2+0+0+20+10+6=107, mod 11=8, k1=3; k2 10+36+0+4+0+0+25+8+9+6=98, mod 11=10, k2=1.
        Valid(id: "29020052331", year: 2000, month: 2, day: 29, why: "29 February 2000 (divisible by 400: leap)"),
        // 290204 540: k1 6+63+0+2+0+36+20+20+0=147, mod 11=4, k1=7; k2 10+36+0+4+0+24+25+16+0+14=129, mod 11=8, k2=3.
        Valid(id: "29020454073", year: 2004, month: 2, day: 29, why: "29 February 2004"),
    ]

    @Test(arguments: valid)
    func validIdsGiveTheirBirthDate(_ example: Valid) {
        #expect(PersonId.birthDate(of: example.id) == .success(Self.date(example.year, example.month, example.day)))
        #expect(PersonId.isValid(example.id))
    }

    struct Invalid: Sendable, CustomStringConvertible {
        let id: String, problem: PersonId.Problem, why: String
        var description: String { why }
    }

    static let invalid: [Invalid] = [
        // Check digits right (computed as above), but no real birth date:
        // 150353 600: k1 …=132, mod 11=0 → 0; k2 5+20+0+6+35+18+30+0+0+0=114, mod 11=4, k2=7.
        Invalid(id: "15035360007", problem: .birthDate, why: "III 500–749 with YY 40–53: no century"),
        // 010153 749: k1 …=141, mod 11=9, k1=2; k2 0+4+0+2+35+18+35+16+27+4=141, mod 11=9, k2=2.
        Invalid(id: "01015374922", problem: .birthDate, why: "1800s needs YY ≥ 54: YY 53 with III 749"),
        // 010140 600: k1 …=64, mod 11=9, k1=2; k2 0+4+0+2+28+0+30+0+0+4=68, mod 11=2, k2=9.
        Invalid(id: "01014060029", problem: .birthDate, why: "III 600 with YY 40: no century"),
        // 010145 800: k1 …=117, mod 11=7, k1=4; k2 0+4+0+2+28+30+40+0+0+8=112, mod 11=2, k2=9.
        Invalid(id: "01014580049", problem: .birthDate, why: "III 750–899 with YY ≥ 40: no century"),
        // 010145 750: k1 …=138, mod 11=6, k1=5; k2 …=129, mod 11=8, k2=3.
        Invalid(id: "01014575053", problem: .birthDate, why: "III 750 with YY 45"),
        // 010145 899: k1 …=180, mod 11=4, k1=7; k2 …=181, mod 11=5, k2=6.
        Invalid(id: "01014589976", problem: .birthDate, why: "III 899 with YY 45"),
        // 290297 123: k1 6+63+0+2+72+63+4+10+6=226, mod 11=6, k1=5; k2 …=187, mod 11=0, k2=0.
        Invalid(id: "29029712350", problem: .birthDate, why: "29 February 1997 (not a leap year)"),
        // 290200 123: k1 …=91, mod 11=3, k1=8; k2 …=88, mod 11=0, k2=0.
        Invalid(id: "29020012380", problem: .birthDate, why: "29 February 1900 (divisible by 100, not 400)"),
        // 011380 124: k1 0+7+6+3+64+0+4+10+8=102, mod 11=3, k1=8; k2 …=110, mod 11=0, k2=0.
        Invalid(id: "01138012480", problem: .birthDate, why: "month 13"),
        // 320180 123: k1 9+14+0+1+64+0+4+10+6=108, mod 11=9, k1=2; k2 …=107, mod 11=8, k2=3.
        Invalid(id: "32018012323", problem: .birthDate, why: "day 32"),
        // 000180 123: k1 0+0+0+1+64+0+4+10+6=85, mod 11=8, k1=3; k2 …=86, mod 11=9, k2=2.
        Invalid(id: "00018012332", problem: .birthDate, why: "day 0"),
        // 310480 123: k1 …=104, mod 11=5, k1=6; k2 …=117, mod 11=7, k2=4.
        Invalid(id: "31048012364", problem: .birthDate, why: "31 April"),
        // 300280 123: k1 …=95, mod 11=7, k1=4; k2 …=105, mod 11=6, k2=5.
        Invalid(id: "30028012345", problem: .birthDate, why: "30 February"),
        // Wrong check digits of 17058012327:
        Invalid(id: "17058012328", problem: .checkDigit, why: "k2 off by one"),
        Invalid(id: "17058012337", problem: .checkDigit, why: "k1 off by one"),
        Invalid(id: "71058012327", problem: .checkDigit, why: "first two digits swapped"),
        // Format:
        Invalid(id: "1705801232", problem: .format, why: "10 digits"),
        Invalid(id: "170580123270", problem: .format, why: "12 digits"),
        Invalid(id: "", problem: .format, why: "empty"),
        Invalid(id: "1705801232a", problem: .format, why: "a letter"),
        Invalid(id: " 17058012327", problem: .format, why: "leading space"),
        Invalid(id: "170580 12327", problem: .format, why: "space inside"),
        Invalid(id: "١٧٠٥٨٠١٢٣٢٧", problem: .format, why: "non-ASCII digits"),
    ]

    @Test(arguments: invalid)
    func invalidIdsAreRejectedForTheRightReason(_ example: Invalid) {
        #expect(PersonId.birthDate(of: example.id) == .failure(example.problem))
        #expect(!PersonId.isValid(example.id))
    }

    /// First nine digits whose check digit would be 10: no ending makes them valid.
    /// 010139 500: k1 0+7+0+1+24+81+20+0+0=133, mod 11=1, 11−1=10.
    /// 011380 123: k1 0+7+6+3+64+0+4+10+6=100, mod 11=1, 11−1=10.
    /// 010110 950: k1 …=77, mod 11=0 → 0; k2 0+4+0+2+7+0+45+20+0+0=78, mod 11=1, 11−1=10.
    /// 290296 123: k1 …=217, mod 11=8, k1=3; k2 10+36+0+4+63+36+5+8+9+6=177, mod 11=1, 10.
    @Test(arguments: ["010139500", "011380123", "010110950", "290296123"])
    func checkDigitTenNeverValidates(_ first9: String) {
        #expect(PersonId.checkDigits(first9.map { Int(String($0))! }) == nil)
        for ending in 0..<100 {
            let id = first9 + (ending < 10 ? "0" : "") + String(ending)
            #expect(PersonId.birthDate(of: id) == .failure(.checkDigit), "\(id)")
        }
    }

    @Test func makeBuildsTheHandComputedIds() {
        #expect(PersonId.make(birth: Self.date(1980, 5, 17), individual: 123) == "17058012327")
        #expect(PersonId.make(birth: Self.date(1860, 3, 15), individual: 600) == "15036060082")
        #expect(PersonId.make(birth: Self.date(2000, 2, 29), individual: 523) == "29020052331")
        #expect(PersonId.make(birth: Self.date(1980, 1, 1), individual: 123, dNumber: true) == "41018012365")
        #expect(PersonId.make(birth: Self.date(2039, 1, 1), individual: 500) == nil)  // k1 would be 10 (above)
    }

    /// Mod-11 with weights that are all non-zero and below 11 detects every single-digit substitution;
    /// a changed date digit may instead break the date. Either way no substituted id is valid.
    @Test func everySingleDigitSubstitutionIsInvalid() {
        for example in Self.valid {
            let digits = Array(example.id)
            for position in 0..<11 {
                for d in "0123456789" where d != digits[position] {
                    var changed = digits
                    changed[position] = d
                    #expect(!PersonId.isValid(String(changed)), "\(String(changed))")
                }
            }
        }
    }
}
