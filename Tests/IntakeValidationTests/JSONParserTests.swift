import SyntheticData
import Testing

@testable import IntakeValidation

@Suite struct JSONParserTests {
    func parse(_ text: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        try JSONValue.parse(text, limits: limits)
    }

    func failure(_ bytes: [UInt8], limits: JSONLimits = .default) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes, limits: limits)
            return nil
        } catch { return error }
    }

    func failure(_ text: String, limits: JSONLimits = .default) -> JSONParseError? { failure(Array(text.utf8), limits: limits) }

    @Test func parsesEveryKindOfValueAndKeepsKeyOrder() throws {
        let v = try parse(#" { "z": [true, false, null], "a": {"n": -12.5e1, "s": "x\"\\\/\b\f\n\r\t\u00e6\ud83d\ude00"}, "m": [] } "#)
        guard case .object(let o) = v else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["z", "a", "m"])
        #expect(o["z"] == .array([.bool(true), .bool(false), .null]))
        #expect(o["m"] == .array([]))
        #expect(v["a"]?["s"] == .string("x\"\\/\u{08}\u{0C}\n\r\tæ😀"))
        guard case .number(let n)? = v["a"]?["n"] else {
            Issue.record("not a number")
            return
        }
        #expect(n.text == "-12.5e1")
        #expect(n.int == -125)
        #expect(n.double == -125.0)
    }

    @Test func rawMultibyteUTF8IsAccepted() throws {
        #expect(try parse("\"æøå – 😀\"") == .string("æøå – 😀"))
    }

    struct NumberCase: Sendable, CustomStringConvertible {
        let text: String, int: Int?, double: Double?, integral: Bool
        var description: String { text }
    }

    static let numbers: [NumberCase] = [
        .init(text: "0", int: 0, double: 0, integral: true),
        .init(text: "-0", int: 0, double: -0.0, integral: true),
        .init(text: "3", int: 3, double: 3, integral: true),
        .init(text: "3.0", int: 3, double: 3, integral: true),
        .init(text: "30e-1", int: 3, double: 3, integral: true),
        .init(text: "0.3e1", int: 3, double: 3, integral: true),
        .init(text: "1E+2", int: 100, double: 100, integral: true),
        .init(text: "1.5", int: nil, double: 1.5, integral: false),
        .init(text: "-0.25", int: nil, double: -0.25, integral: false),
        .init(text: "9223372036854775807", int: Int.max, double: 0x1p63, integral: true),
        .init(text: "-9223372036854775808", int: Int.min, double: -9223372036854775808, integral: true),
        .init(text: "9223372036854775808", int: nil, double: 9223372036854775808, integral: true),
        .init(text: "1e30", int: nil, double: 1e30, integral: true),
        .init(text: "1e400", int: nil, double: nil, integral: true),
        .init(text: "1e-400", int: nil, double: 0, integral: false),
    ]

    @Test(arguments: numbers)
    func numbersKeepTextAndExactValue(_ c: NumberCase) throws {
        guard case .number(let n) = try parse(c.text) else {
            Issue.record("not a number")
            return
        }
        #expect(n.text == c.text)
        #expect(n.int == c.int)
        #expect(n.double == c.double)
        #expect(n.isIntegral == c.integral)
    }

    struct Malformed: Sendable, CustomStringConvertible {
        let bytes: [UInt8], kind: JSONParseError.Kind, offset: Int
        init(_ text: String, _ kind: JSONParseError.Kind, at offset: Int) {
            bytes = Array(text.utf8)
            self.kind = kind
            self.offset = offset
        }
        init(bytes: [UInt8], _ kind: JSONParseError.Kind, at offset: Int) {
            self.bytes = bytes
            self.kind = kind
            self.offset = offset
        }
        var description: String { bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "<\($0)>" }.joined() }
    }

    static let malformed: [Malformed] = [
        .init("", .emptyInput, at: 0),
        .init("  \n ", .emptyInput, at: 4),
        .init("01", .invalidNumber, at: 0),
        .init("1.", .invalidNumber, at: 0),
        .init(".5", .unexpectedCharacter, at: 0),
        .init("+1", .unexpectedCharacter, at: 0),
        .init("1e", .invalidNumber, at: 0),
        .init("-", .invalidNumber, at: 0),
        .init("--1", .invalidNumber, at: 0),
        .init("1.e3", .invalidNumber, at: 0),
        .init("[1-2]", .invalidNumber, at: 1),
        .init("0x10", .trailingContent, at: 1),
        .init("NaN", .unexpectedCharacter, at: 0),
        .init("Infinity", .unexpectedCharacter, at: 0),
        .init("tru", .unexpectedEnd, at: 3),
        .init("trux", .invalidLiteral, at: 0),
        .init("nul", .unexpectedEnd, at: 3),
        .init("[1,]", .unexpectedCharacter, at: 3),
        .init(#"{"a":1,}"#, .unexpectedCharacter, at: 7),
        .init("{a:1}", .unexpectedCharacter, at: 1),
        .init("['a']", .unexpectedCharacter, at: 1),
        .init(#""abc"#, .unexpectedEnd, at: 4),
        .init("[1 2]", .unexpectedCharacter, at: 3),
        .init(#"{"a" 1}"#, .unexpectedCharacter, at: 5),
        .init("1 2", .trailingContent, at: 2),
        .init("{}{}", .trailingContent, at: 2),
        .init(#""\x""#, .invalidEscape, at: 1),
        .init(#""\u12""#, .invalidEscape, at: 5),
        .init(#""\uD800""#, .loneSurrogate, at: 1),
        .init(#""\uDC00""#, .loneSurrogate, at: 1),
        .init(#""\uD800\u0041""#, .loneSurrogate, at: 1),
        .init(#""\uD800x""#, .loneSurrogate, at: 1),
        .init(#""\uD800"#, .unexpectedEnd, at: 7),
        .init("\"a\u{01}b\"", .controlCharacter, at: 2),
        .init("\"a\tb\"", .controlCharacter, at: 2),
        .init("\"a\nb\"", .controlCharacter, at: 2),
        .init(#"{"a":1,"a":2}"#, .duplicateKey, at: 7),
        .init("[", .unexpectedEnd, at: 1),
        .init("{", .unexpectedEnd, at: 1),
        .init(#"{"a":"#, .unexpectedEnd, at: 5),
        .init(bytes: [0x22, 0xC0, 0xAF, 0x22], .invalidUTF8, at: 1),  // overlong "/"
        .init(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8, at: 1),  // overlong 3-byte
        .init(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, at: 1),  // UTF-8-encoded surrogate U+D800
        .init(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, at: 1),  // above U+10FFFF
        .init(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidUTF8, at: 1),
        .init(bytes: [0x22, 0xFF, 0x22], .invalidUTF8, at: 1),
        .init(bytes: [0x22, 0x80, 0x22], .invalidUTF8, at: 1),  // lone continuation byte
        .init(bytes: [0x22, 0xE2, 0x82, 0x22], .invalidUTF8, at: 1),  // sequence cut short by the quote
        .init(bytes: [0x22, 0xE2, 0x82], .unexpectedEnd, at: 3),  // input ends inside a sequence
        .init(bytes: [0xC3, 0xA6], .unexpectedCharacter, at: 0),  // non-ASCII outside a string
        .init(bytes: [0x5B, 0x00, 0x5D], .unexpectedCharacter, at: 1),
    ]

    @Test(arguments: malformed)
    func malformedInputGivesAClearError(_ c: Malformed) {
        let error = failure(c.bytes)
        #expect(error == JSONParseError(c.kind, at: c.offset))
    }

    @Test func byteOrderMarkIsIgnoredAtTheStartOnly() throws {
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.number(JSONNumber("1")!)]))
        #expect(failure([0x20, 0xEF, 0xBB, 0xBF, 0x31])?.kind == .unexpectedCharacter)
    }

    @Test func nestingIsLimitedWithoutRecursingPastTheLimit() throws {
        let limit = JSONLimits.default.maxDepth
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        _ = try parse(ok)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(failure(tooDeep) == JSONParseError(.tooDeep, at: limit))
        // Hostile: a megabyte of openers, arrays and objects mixed, stops at the limit.
        #expect(failure(String(repeating: "[", count: 1_000_000))?.kind == .tooDeep)
        #expect(failure(String(repeating: #"{"a":"#, count: 200_000))?.kind == .tooDeep)
        #expect(failure(String(repeating: #"[{"a":"#, count: 100_000))?.kind == .tooDeep)
        // The cap protects callers who ask for absurd depths.
        #expect(JSONLimits(maxDepth: 1_000_000).maxDepth == JSONLimits.depthCap)
    }

    @Test func hugeNumbersAreBounded() throws {
        let limit = JSONLimits.default.maxNumberLength
        guard case .number(let n) = try parse(String(repeating: "9", count: limit)) else {
            Issue.record("not a number")
            return
        }
        #expect(n.int == nil && n.isIntegral)
        #expect(failure(String(repeating: "9", count: limit + 1)) == JSONParseError(.numberTooLong, at: 0))
        #expect(failure("[" + String(repeating: "1", count: 10_000_000) + "]") == JSONParseError(.numberTooLong, at: 1))
        #expect(failure("1e100001") == JSONParseError(.numberOutOfRange, at: 0))
        #expect(failure("1e-100001") == JSONParseError(.numberOutOfRange, at: 0))
        #expect(failure("1e99999999999999999999999999999999999999") == JSONParseError(.numberOutOfRange, at: 0))
        _ = try parse("1e100000")
        _ = try parse("1e-99999")
    }

    @Test func hugeStringsAreBounded() throws {
        let limit = JSONLimits.default.maxStringBytes
        #expect(try parse("\"" + String(repeating: "a", count: limit) + "\"") == .string(String(repeating: "a", count: limit)))
        #expect(failure("\"" + String(repeating: "a", count: limit + 1) + "\"") == JSONParseError(.stringTooLong, at: 0))
        // The limit counts decoded UTF-8 bytes: "æ" is 2 bytes, so limit/2 + 1 of them is over.
        #expect(failure("[\"" + String(repeating: "æ", count: limit / 2 + 1) + "\"]") == JSONParseError(.stringTooLong, at: 1))
        #expect(failure("\"" + String(repeating: "\\u00e6", count: limit / 2 + 1) + "\"")?.kind == .stringTooLong)
        // Keys are strings too.
        #expect(failure("{\"" + String(repeating: "k", count: limit + 1) + "\":1}") == JSONParseError(.stringTooLong, at: 1))
    }

    @Test func totalSizeIsBounded() throws {
        let limits = JSONLimits(maxTotalBytes: 10)
        _ = try parse("[1,2,3,45]", limits: limits)
        #expect(failure("[1,2,3,456]", limits: limits) == JSONParseError(.tooLarge, at: 10))
    }

    /// Every proper prefix of an object or array is incomplete, so it must fail, and only because it ends early
    /// (or because a number was cut to `1.` / `1e` / `-`).
    @Test func truncatedInputFailsCleanly() {
        let document = #"{"messageId":"m-1","patient":{"sex":2,"name":"Åse 😀\u00e6","n":[1.5e3,-0,true,false,null]},"x":"\\"}"#
        let bytes = Array(document.utf8)
        for cut in 0..<bytes.count {
            let error = failure(Array(bytes[..<cut]))
            #expect(error != nil, "prefix of length \(cut) parsed")
            if let error {
                let allowed: Set<JSONParseError.Kind> = cut == 0 ? [.emptyInput] : [.unexpectedEnd, .invalidNumber]
                #expect(allowed.contains(error.kind), "prefix \(cut): \(error)")
                #expect(error.offset <= cut)
            }
        }
    }

    /// Random bytes drawn mostly from JSON's own alphabet: the parser must never crash, and whatever it
    /// accepts must survive a canonical round trip.
    @Test func randomBytesNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let alphabet = Array(#"{}[]:,"\ u0123456789abcdefABCDEFeE+-.tfnrl"#.utf8) + [0x00, 0x0A, 0x80, 0xBF, 0xC3, 0xA6, 0xED, 0xF0, 0xFF]
        var parsed = 0
        for _ in 0..<3000 {
            let length = Int.random(in: 0...40, using: &rng)
            let bytes = (0..<length).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            do {
                let v = try JSONValue.parse(bytes)
                parsed += 1
                #expect(try JSONValue.parse(v.canonical).canonical == v.canonical)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                #expect(!error.description.isEmpty)
            }
        }
        #expect(parsed > 0)  // the generator does reach valid documents
    }

    /// Random single-byte edits of a real record: never a crash; accepted edits round-trip canonically.
    @Test func mutatedRecordsNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let base = Array(Fixtures.activityText.utf8)
        for _ in 0..<400 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            if let v = try? JSONValue.parse(bytes) {
                #expect(try JSONValue.parse(v.canonical).canonical == v.canonical)
                _ = validateActivity(v, units: Fixtures.units)
            }
        }
    }
}
