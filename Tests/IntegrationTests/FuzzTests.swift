import Foundation
import Kafka
import NPRCore
import SyntheticData
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Hostile input over HTTP and the inbound topic: random bytes, truncated JSON, wrong types, extreme numbers
/// and strings, deep nesting, invalid codes and ids, huge counts. No crash, no hang, nothing accepted, every
/// rejection with a field-level reason. `NPR_FUZZ_RECORDS` records per kind (2 000 here; the long variant:
/// `NPR_FUZZ_RECORDS=100000 swift test --filter FuzzTests`).
@Suite(.serialized) struct FuzzTests {
    static let count = Int(ProcessInfo.processInfo.environment["NPR_FUZZ_RECORDS"] ?? "") ?? 2_000

    static var activity: [String: Any] {
        [
            "messageId": "f-1", "status": "N", "revision": 1, "institutionId": "974589095", "episodeId": "E1", "unitId": "UA", "sector": "TSB",
            "patient": ["personId": PersonId.make(birth: LocalDate(year: 1990, month: 5, day: 17)!, individual: 123)!, "sex": 2, "municipality": "4601"],
            "careLevel": 1, "start": "2024-02-01T08:00", "end": "2024-02-10T12:00", "endType": 1,
        ]
    }
    static var death: [String: Any] {
        [
            "messageId": "d-1", "status": "N", "personId": PersonId.make(birth: LocalDate(year: 1950, month: 3, day: 4)!, individual: 222)!,
            "deathDate": "2024-06-01", "sex": 1, "municipality": "0301",
        ]
    }
    static var population: [String: Any] { ["messageId": "p-1", "year": 2024, "municipality": "0301", "sex": 1, "age": 40, "count": 700] }

    /// Values that no field of these records accepts in place of a required one.
    static func hostileValue(_ rng: inout SplitMix64) -> Any {
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return NSNull()
        case 1: return [1, 2, 3]
        case 2: return ["nested": ["deeper": [String](repeating: "x", count: 50)]]
        case 3: return 1e308
        case 4: return -9_223_372_036_854_775_807
        case 5: return String(repeating: "Ω", count: Int.random(in: 300...20_000, using: &rng))
        case 6: return "\u{0}\u{1}\u{7F}"
        case 7: return true
        case 8: return 3.5
        case 9: return ""
        case 10: return "9999-99-99\u{0}"  // no date, code or identifier (a control character)
        default: return [:] as [String: Any]
        }
    }

    /// A record of `template` made invalid by one to three mutations, each of which alone invalidates it.
    static func hostile(_ template: [String: Any], required: [String], rng: inout SplitMix64) -> [String: Any] {
        var r = template
        r["messageId"] = "fz-\(rng.next())"
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let field = required.randomElement(using: &rng)!
            if Bool.random(using: &rng) { r.removeValue(forKey: field) } else { r[field] = hostileValue(&rng) }
        }
        return r
    }

    /// A line that is not a valid record at all: random bytes, a truncated record, deep nesting, a bare value.
    static func garbage(_ valid: Data, rng: inout SplitMix64) -> Data {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            // Never a line break, and never blank (a blank NDJSON line is no record).
            var bytes = (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }.map { $0 == 0x0A ? 0x20 : $0 }
            if [0x20, 0x09, 0x0D].contains(bytes[0]) { bytes[0] = 0x01 }
            return Data(bytes)
        case 1: return valid.prefix(Int.random(in: 1..<valid.count, using: &rng))
        case 2:
            let depth = Int.random(in: 100...50_000, using: &rng)
            return Data(String(repeating: "[", count: depth).utf8) + Data(String(repeating: "]", count: depth).utf8)
        default: return Data(["42", "\"text\"", "null", "[]", "true"].randomElement(using: &rng)!.utf8)
        }
    }

    func body(_ template: [String: Any], required: [String], count: Int, rng: inout SplitMix64) throws -> [Data] {
        let valid = try JSONSerialization.data(withJSONObject: template)
        return try (0..<count).map { _ in
            Bool.random(using: &rng)
                ? Self.garbage(valid, rng: &rng)
                : try JSONSerialization.data(withJSONObject: Self.hostile(template, required: required, rng: &rng))
        }
    }

    @Test func hostileRecordsAreRejectedWithReasons() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let intake = try await ServiceProcess.alone("intake", broker: broker)
        defer { intake.stop() }
        let units =
            #"[{"unitId":"UA","name":"A","institutionId":"974589095","institutionName":"A","hfId":"974589095","hfName":"A","rhf":"vest","ownership":"public","detox":false,"validFrom":"2020-01-01"}]"#
        #expect(try await HTTP.request("PUT", intake.base + "/v1/reference/units", body: Data(units.utf8), token: "dev-admin-token").status == 200)
        var rng = SplitMix64(seed: 4242)
        let kinds: [(path: String, template: [String: Any], required: [String])] = [
            ("/v1/activities", Self.activity, ["status", "revision", "institutionId", "episodeId", "unitId", "sector", "patient", "careLevel", "start"]),
            ("/v1/deaths", Self.death, ["status", "personId", "deathDate", "sex"]),
            ("/v1/population", Self.population, ["year", "municipality", "sex", "age", "count"]),
        ]
        var tried = 0
        for kind in kinds {
            var sent = 0
            while sent < Self.count {
                let lines = try body(kind.template, required: kind.required, count: min(1_000, Self.count - sent), rng: &rng)
                let ndjson = lines.reduce(into: Data()) { $0 += $1 + Data([0x0A]) }
                let reply = try await HTTP.request("POST", intake.base + kind.path, body: ndjson, token: "dev-admin-token", contentType: "application/x-ndjson")
                #expect(reply.status == 200, "\(kind.path) answered \(reply.status)")
                let receipt = try #require(reply.json as? [String: Any])
                let rejected = receipt["rejected"] as? [[String: Any]] ?? []
                let rejectedIndices = Set(rejected.compactMap { $0["index"] as? Int })
                let taken = lines.indices.filter { !rejectedIndices.contains($0) }
                #expect(
                    receipt["accepted"] as? Int == 0 && receipt["duplicates"] as? Int == 0 && taken.isEmpty,
                    "\(kind.path): a hostile record was accepted: \(taken.prefix(3).map { String(decoding: lines[$0].prefix(400), as: UTF8.self) })")
                let reasonless = rejected.filter { r in
                    let errors = r["errors"] as? [[String: Any]] ?? []
                    return errors.isEmpty
                        || errors.contains { ($0["code"] as? String ?? "").isEmpty || ($0["message"] as? String ?? "").isEmpty || $0["field"] == nil }
                }
                #expect(reasonless.isEmpty, "\(reasonless.count) rejections without a field-level reason")
                sent += lines.count
            }
            tried += sent
        }
        // The inbound topic: the same kinds of record, signed, each answered with a rejected receipt.
        let producer = try producer(broker.bootstrap)
        defer { producer.close() }
        let inbound = try body(Self.activity, required: kinds[0].required, count: min(500, Self.count), rng: &rng)
        for value in inbound {
            try producer.send(
                OutgoingMessage(
                    topic: Topic.activitiesInbound, key: "974589095", value: Array(value),
                    headers: signature(Array(value), token: "dev-admin-token")))
        }
        try producer.flush(timeout: .seconds(30))
        var receipts: [[String: Any]] = []
        try await waitUntil(.seconds(120), "a receipt for every inbound record") {
            receipts = try await readTopics(broker.bootstrap, [Topic.receipts]).compactMap {
                try JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any]
            }
            return receipts.count >= inbound.count
        }
        #expect(receipts.allSatisfy { $0["outcome"] as? String == "rejected" && !(($0["errors"] as? [Any]) ?? []).isEmpty })
        tried += inbound.count
        #expect(intake.process.isRunning)
        #expect(try await HTTP.request("GET", intake.base + "/health/ready").status == 200)
        #expect(tried >= 3 * Self.count)
    }
}
