import Foundation
import Testing

@testable import IntakeValidation

/// docs/intake-errors.md is the integrators' contract: every code the code can produce must be in it.
@Suite struct DocumentationTests {
    static func document() throws -> String {
        // The test folder may be reached through a symlink (dev packages); the docs live next to the real one.
        let testsFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        let url = testsFolder.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/intake-errors.md")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func everyErrorCodeIsDocumentedInItsTable() throws {
        let doc = try Self.document()
        for code in IntakeErrorCode.allCases {
            #expect(doc.contains("| `\(code.rawValue)` |"), "\(code.rawValue) has no row")
        }
    }

    @Test func everyWarningCodeIsDocumented() throws {
        let doc = try Self.document()
        for code in IntakeWarningCode.allCases { #expect(doc.contains("| `\(code.rawValue)` |"), "\(code.rawValue)") }
    }

    @Test func everyJSONProblemIsDocumented() throws {
        let doc = try Self.document()
        for kind in JSONParseError.Kind.allCases { #expect(doc.contains("| `\(kind.rawValue)` |"), "\(kind.rawValue)") }
    }

    @Test func documentedLimitsAreTheDefaults() throws {
        let doc = try Self.document()
        let limits = JSONLimits.default
        #expect(limits.maxTotalBytes == 16_777_216 && doc.contains("16 777 216 bytes"))
        #expect(limits.maxRecords == 50_000 && doc.contains("| records per body | 50 000 |"))
        #expect(limits.maxDepth == 64 && doc.contains("| nesting depth | 64 levels |"))
        #expect(limits.maxStringBytes == 65_536 && doc.contains("| one string | 65 536 bytes of UTF-8 |"))
        #expect(
            limits.maxNumberLength == 64 && JSONNumber.maxExponent == 100_000
                && doc.contains("| one number | 64 characters; exponent within ±100 000 |"))
    }
}
