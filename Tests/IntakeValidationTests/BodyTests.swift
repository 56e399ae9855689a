import Testing

@testable import IntakeValidation

@Suite struct BodyTests {
    @Test func ndjsonGivesOneResultPerNonEmptyLine() throws {
        let body = Array("{\"a\":1}\n\n  \t\n{\"b\":2}\r\n{bad\n[3]\n".utf8)
        let records = try JSONBody.ndjsonRecords(body)
        #expect(records.count == 4)
        #expect(try records[0].get() == JSONValue.parse(#"{"a":1}"#))
        #expect(try records[1].get() == JSONValue.parse(#"{"b":2}"#))  // the \r before \n is whitespace
        #expect(throws: JSONParseError(.unexpectedCharacter, at: 1)) { try records[2].get() }
        #expect(try records[3].get() == JSONValue.parse("[3]"))
    }

    @Test func ndjsonWithoutFinalNewlineAndWithByteOrderMark() throws {
        let records = try JSONBody.ndjsonRecords([0xEF, 0xBB, 0xBF] + Array("1\n2".utf8))
        #expect(try records.map { try $0.get().canonical } == ["1", "2"])
        #expect(try JSONBody.ndjsonRecords(Array("\n \n".utf8)).isEmpty)
    }

    @Test func ndjsonLimits() throws {
        let limits = JSONLimits(maxTotalBytes: 12, maxRecords: 3)
        #expect(try JSONBody.ndjsonRecords(Array("1\n2\n3\n\n\n".utf8), limits: limits).count == 3)
        #expect(throws: JSONParseError(.tooManyRecords, at: 6)) { try JSONBody.ndjsonRecords(Array("1\n2\n3\n4".utf8), limits: limits) }
        let thirteenBytes = Array(("1\n2\n3" + String(repeating: "\n", count: 8)).utf8)
        #expect(throws: JSONParseError(.tooLarge, at: 12)) { try JSONBody.ndjsonRecords(thirteenBytes, limits: limits) }
    }

    @Test func arrayBody() throws {
        #expect(try JSONBody.arrayRecords(Array(#" [ {"a":1}, 2 ] "#.utf8)).map(\.canonical) == [#"{"a":1}"#, "2"])
        #expect(try JSONBody.arrayRecords(Array("[]".utf8)).isEmpty)
        #expect(throws: JSONParseError(.notAnArray, at: 0)) { try JSONBody.arrayRecords(Array("{}".utf8)) }
        #expect(throws: JSONParseError(.unexpectedEnd, at: 7)) { try JSONBody.arrayRecords(Array("[{},{},".utf8)) }
        #expect(throws: JSONParseError(.tooManyRecords, at: 0)) {
            try JSONBody.arrayRecords(Array("[1,2,3]".utf8), limits: JSONLimits(maxRecords: 2))
        }
    }

    @Test func invalidJSONBecomesARecordError() {
        let error = FieldError.invalidJSON(JSONParseError(.controlCharacter, at: 17))
        #expect(error.field == "")
        #expect(error.code == .invalidJSON)
        #expect(error.message.contains("control character") && error.message.contains("17"))
    }

    @Test func redactionRemovesEveryElevenDigitRun() throws {
        let record = try JSONValue.parse(
            #"""
            {"messageId":"m1","patient":{"personId":"17058012327","sex":1},"note":"id 17058012328 typo",
             "asNumber":17058012327,"short":"1705801232","nested":[{"personId":null},"x17058012327y"],"17058012327":true}
            """#)
        let redacted = try JSONValue.parse(
            #"""
            {"messageId":"m1","patient":{"sex":1},"note":"[redacted]","asNumber":"[redacted]","short":"1705801232",
             "nested":[{},"[redacted]"]}
            """#)
        #expect(record.redactingPersonIds().canonical == redacted.canonical)
    }
}
