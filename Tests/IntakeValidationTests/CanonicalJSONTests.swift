import SyntheticData
import Testing

@testable import IntakeValidation

@Suite struct CanonicalJSONTests {
    func canonical(_ text: String) throws -> String { try JSONValue.parse(text).canonical }

    @Test func sortsKeysAndDropsWhitespace() throws {
        #expect(
            try canonical(#" { "b" : 1 , "a" : [ true , null , "x" ] , "c":{"z":{},"y":[]} } "#)
                == #"{"a":[true,null,"x"],"b":1,"c":{"y":[],"z":{}}}"#)
    }

    /// Keys sort by UTF-8 bytes: "B" 0x42 < "Z" 0x5A < "a" 0x61 < "aa" < "é" 0xC3 0xA9.
    @Test func keysSortByBytes() throws {
        #expect(try canonical(#"{"é":1,"a":2,"Z":3,"aa":4,"B":5}"#) == #"{"B":5,"Z":3,"a":2,"aa":4,"é":1}"#)
    }

    /// One pass gives the whole canonical form and the form without some top-level keys (the idempotency
    /// hash and the revision hash), equal to writing each separately.
    @Test(arguments: [
        #"{"status":"N","messageId":"m1","b":1,"a":[{"z":1,"y":2}],"episodeId":"e"}"#,
        #"{"messageId":"only"}"#, #"{}"#, #"{"a":1}"#, #"{"status":"C","é":{"messageId":"nested stays"}}"#, #"[1,2]"#,
    ])
    func canonicalWithoutKeysEqualsCanonicalOfTheFilteredObject(_ text: String) throws {
        let value = try JSONValue.parse(text)
        let (whole, without) = value.canonicalUTF8(alsoWithout: ["messageId", "status"])
        #expect(whole == value.canonicalUTF8)
        let filtered: JSONValue
        if case .object(let o) = value {
            filtered = .object(JSONObject(o.members.filter { $0.key != "messageId" && $0.key != "status" }))
        } else {
            filtered = value
        }
        #expect(without == filtered.canonicalUTF8)
    }

    @Test(arguments: [
        ("1", "1"), ("1.0", "1"), ("10e-1", "1"), ("0.1e1", "1"), ("1.50", "1.5"), ("-0", "0"), ("-0.0", "0"),
        ("0e5", "0"), ("1e2", "100"), ("1E+2", "100"), ("0.001", "0.001"), ("0.000001", "0.000001"),
        ("0.0000001", "1e-7"), ("1e-7", "1e-7"), ("-1.25E-3", "-0.00125"), ("123.456", "123.456"),
        ("123e18", "123000000000000000000"), ("1e21", "1e+21"), ("1.5e21", "1.5e+21"),
        ("12345678901234567890123", "1.2345678901234567890123e+22"), ("-4.0e-10", "-4e-10"),
        ("9223372036854775808", "9223372036854775808"), ("100", "100"), ("2500e-2", "25"),
    ])
    func numbersAreNormalisedExactly(_ text: String, _ expected: String) throws {
        #expect(try canonical(text) == expected)
        #expect(try canonical("[" + text + "]") == "[" + expected + "]")
    }

    @Test func stringsAreEscapedMinimally() throws {
        #expect(try canonical(#""\u00e6\/\u0041\"\\\n\t\u001f\u007f\ud83d\ude00""#) == "\"æ/A\\\"\\\\\\n\\t\\u001f\u{7f}😀\"")
    }

    @Test func sameContentUnderReorderingAndNumberSpelling() throws {
        let a = try JSONValue.parse(#"{"a":1,"b":{"c":[1,2],"d":"x"},"unknown":{"k":null}}"#)
        let b = try JSONValue.parse(#" { "unknown": {"k": null}, "b" : {"d":"x","c":[1.0,2e0]}, "a":10e-1 } "#)
        #expect(a.canonical == b.canonical)
        #expect(a != b)  // structural equality keeps order and spelling
        // Differences that matter: an unknown field, array order, a value.
        let extra = try JSONValue.parse(#"{"a":1,"b":{"c":[1,2],"d":"x"},"unknown":{"k":null},"new":0}"#)
        let swapped = try JSONValue.parse(#"{"a":1,"b":{"c":[2,1],"d":"x"},"unknown":{"k":null}}"#)
        let string = try JSONValue.parse(#"{"a":"1","b":{"c":[1,2],"d":"x"},"unknown":{"k":null}}"#)
        for other in [extra, swapped, string] { #expect(other.canonical != a.canonical) }
    }

    /// Random documents written with random key order, whitespace, number spellings and escapes must
    /// all have the canonical text of the document they describe.
    @Test func canonicalIgnoresKeyOrderWhitespaceAndSpelling() throws {
        var rng = SplitMix64(seed: 0xCA11_0001)
        for _ in 0..<300 {
            let doc = RandomJSON.document(depth: 3, using: &rng)
            let first = try JSONValue.parse(RandomJSON.write(doc, using: &rng))
            let second = try JSONValue.parse(RandomJSON.write(doc, using: &rng))
            #expect(first.canonical == second.canonical)
            #expect(try JSONValue.parse(first.canonical).canonical == first.canonical)
        }
    }
}

/// A test-only document model and a deliberately sloppy writer (random order, spacing, spellings).
enum RandomJSON {
    indirect enum Doc {
        case null, bool(Bool), int(Int), decimal(Int, Int), string(String), array([Doc]), object([(String, Doc)])
    }

    static func document(depth: Int, using rng: inout SplitMix64) -> Doc {
        switch Int.random(in: 0..<(depth > 0 ? 7 : 5), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: -1_000_000...1_000_000, using: &rng))
        case 3: return .decimal(Int.random(in: -99_999...99_999, using: &rng), Int.random(in: 1...4, using: &rng))
        case 4: return .string(randomString(using: &rng))
        case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in document(depth: depth - 1, using: &rng) })
        default:
            var keys = Set<String>()
            while keys.count < Int.random(in: 0...5, using: &rng) { keys.insert(randomString(using: &rng)) }
            return .object(keys.sorted().map { ($0, document(depth: depth - 1, using: &rng)) })
        }
    }

    static func randomString(using rng: inout SplitMix64) -> String {
        let pool: [Character] = ["a", "b", "Z", "0", " ", "æ", "é", "😀", "\"", "\\", "\n", "\t", "\u{1}", "/"]
        return String((0..<Int.random(in: 0...6, using: &rng)).map { _ in pool.randomElement(using: &rng)! })
    }

    static func write(_ doc: Doc, using rng: inout SplitMix64) -> String {
        let space = { (rng: inout SplitMix64) -> String in ["", " ", "\n", "\t ", "\r\n"].randomElement(using: &rng)! }
        switch doc {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let v):
            // Same value, different spellings.
            if v == 0 { return ["0", "-0", "0.0", "0e5", "-0.00E-2"].randomElement(using: &rng)! }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return String(v)
            case 1: return String(v) + ".0"
            case 2: return String(v) + "0e-1"
            default: return String(v) + "00E-2"
            }
        case .decimal(let mantissa, let scale):
            // mantissa × 10^-scale, written plainly or with trailing zeros / an exponent.
            let sign = mantissa < 0 ? "-" : ""
            var digits = String(abs(mantissa))
            while digits.count <= scale { digits = "0" + digits }
            let plain = sign + String(digits.dropLast(scale)) + "." + String(digits.suffix(scale))
            return Bool.random(using: &rng) ? plain + "000" : sign + String(abs(mantissa)) + "e-" + String(scale)
        case .string(let s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += Bool.random(using: &rng) ? "\\\\" : "\\u005c"
                case "\n": out += "\\n"
                case "\t": out += Bool.random(using: &rng) ? "\\t" : "\\u0009"
                case "\u{1}": out += "\\u0001"
                case "/": out += Bool.random(using: &rng) ? "/" : "\\/"
                case "æ": out += Bool.random(using: &rng) ? "æ" : "\\u00E6"
                case "😀": out += Bool.random(using: &rng) ? "😀" : "\\uD83D\\uDE00"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        case .array(let elements):
            return "[" + space(&rng) + elements.map { write($0, using: &rng) }.joined(separator: space(&rng) + "," + space(&rng)) + "]"
        case .object(let members):
            let shuffled = members.shuffled(using: &rng)
            return "{" + space(&rng)
                + shuffled.map { key, value in
                    write(.string(key), using: &rng) + space(&rng) + ":" + space(&rng) + write(value, using: &rng)
                }.joined(separator: "," + space(&rng)) + space(&rng) + "}"
        }
    }
}
