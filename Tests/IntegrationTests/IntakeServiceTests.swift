import Foundation
import Kafka
import NPRCore
import SyntheticData
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// intake alone against a real broker process: authorisation, idempotency across restarts,
/// whole-request problems and broker outages.
@Suite(.serialized) struct IntakeServiceTests {
    static let hospitalA = "974589095", hospitalB = "983974899"

    struct Stack {
        let broker: BrokerProcess
        let intake: ServiceProcess
        let url: String
        let state: String
    }

    func start() async throws -> Stack {
        let broker = try BrokerProcess()
        let state = temporaryDirectory()
        let tokens = ["token-a": [Self.hospitalA], "token-admin": ["*"]]
        try JSONSerialization.data(withJSONObject: tokens).write(to: URL(fileURLWithPath: state + "/tokens.json"))
        let port = freePorts(1)[0]
        let intake = try ServiceProcess(
            "intake", port: port,
            environment: [
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "NPR_STATE_DIR": state, "NPR_MODE": "production",
                "NPR_PSEUDONYM_KEY": String(repeating: "5e", count: 32), "NPR_TOKEN_FILE": state + "/tokens.json", "INTAKE_DELIVERY_TIMEOUT_MS": "3000",
            ])
        let url = "http://127.0.0.1:\(port)"
        try await waitUntil(.seconds(60), "intake ready") { try await HTTP.request("GET", url + "/health/ready").status == 200 }
        let units =
            #"[{"unitId":"UA","name":"A","institutionId":"974589095","institutionName":"A","hfId":"974589095","hfName":"A","rhf":"vest","ownership":"public","detox":false,"validFrom":"2020-01-01"},{"unitId":"UB","name":"B","institutionId":"983974899","institutionName":"B","hfId":"983974899","hfName":"B","rhf":"nord","ownership":"public","detox":false,"validFrom":"2020-01-01"}]"#
        #expect(try await HTTP.request("PUT", url + "/v1/reference/units", body: Data(units.utf8), token: "token-admin").status == 200)
        return Stack(broker: broker, intake: intake, url: url, state: state)
    }

    func activity(_ id: String, institution: String = hospitalA, unit: String = "UA", episode: String = "E1", revision: Int = 1, endType: Int = 1) -> Data {
        let m = ActivityMessage(
            messageId: id, status: revision == 1 ? .new : .correction, revision: revision, institutionId: institution,
            episodeId: episode, unitId: unit, sector: "TSB",
            patient: .init(personId: PersonId.make(birth: LocalDate(year: 1990, month: 5, day: 17)!, individual: 123)!, sex: 2, municipality: "4601"),
            careLevel: 1, start: LocalDateTime("2024-02-01T08:00")!, end: LocalDateTime("2024-02-10T12:00")!, endType: endType)
        return try! JSONEncoder().encode([m])
    }

    func receipt(_ r: HTTP.Reply) -> [String: Any] { (r.json as? [String: Any]) ?? [:] }

    @Test func authorisationMatrix() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        // No token, unknown token: 401. Institution token: own institution accepted, other rejected per record.
        #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("a1")).status == 401)
        #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("a1"), token: "nope").status == 401)
        let own = try await HTTP.request("POST", s.url + "/v1/activities", body: activity("a1"), token: "token-a")
        #expect(receipt(own)["accepted"] as? Int == 1)
        let other = try await HTTP.request("POST", s.url + "/v1/activities", body: activity("b1", institution: Self.hospitalB, unit: "UB"), token: "token-a")
        let errors = (receipt(other)["rejected"] as? [[String: Any]])?.first?["errors"] as? [[String: Any]]
        #expect(errors?.first?["code"] as? String == "forbidden-institution")
        #expect(
            receipt(
                try await HTTP.request("POST", s.url + "/v1/activities", body: activity("b1", institution: Self.hospitalB, unit: "UB"), token: "token-admin"))[
                    "accepted"] as? Int == 1)
        // Metrics count per institution and outcome, and rejections per code: a rejected record is counted
        // under who sent it (the token's institution), never under a value from the record.
        let metrics = String(decoding: try await HTTP.request("GET", s.url + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"intake_records_total{kind="activity",institution="974589095",outcome="accepted"} 1"#))
        #expect(metrics.contains(#"intake_rejections_total{kind="activity",institution="974589095",code="forbidden-institution"} 1"#))
        #expect(!metrics.contains(#"institution="983974899",outcome="rejected""#))
        // Registers and the unit register are admin only: 403 for an institution token.
        for (method, path) in [("POST", "/v1/deaths"), ("POST", "/v1/population"), ("PUT", "/v1/reference/units")] {
            let r = try await HTTP.request(method, s.url + path, body: Data("[]".utf8), token: "token-a")
            #expect(r.status == 403, "\(method) \(path)")
            #expect((r.json as? [String: Any])?["status"] as? Int == 403)
        }
    }

    @Test func duplicatesAndConflictsSurviveARestart() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        #expect(receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("m1"), token: "token-a"))["accepted"] as? Int == 1)
        s.intake.stop()
        try s.intake.start()
        try await waitUntil(.seconds(60), "intake ready again") { try await HTTP.request("GET", s.url + "/health/ready").status == 200 }
        let again = receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("m1"), token: "token-a"))
        #expect(again["duplicates"] as? Int == 1)
        #expect(again["accepted"] as? Int == 0)
        let conflict = receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("m1", endType: 3), token: "token-a"))
        #expect(((conflict["rejected"] as? [[String: Any]])?.first?["errors"] as? [[String: Any]])?.first?["code"] as? String == "conflict")
        // A different version at an already accepted revision, under a new message id.
        let revision = receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("m2", endType: 3), token: "token-a"))
        #expect(((revision["rejected"] as? [[String: Any]])?.first?["errors"] as? [[String: Any]])?.first?["code"] as? String == "revision-conflict")
        #expect(
            receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("m3", revision: 2, endType: 3), token: "token-a"))["accepted"]
                as? Int == 1)
    }

    @Test func wholeRequestProblemsAreRFC9457() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        let bad = try await HTTP.request("POST", s.url + "/v1/activities", body: Data("[{".utf8), token: "token-a")
        #expect(bad.status == 400)
        #expect((bad.json as? [String: Any])?["title"] as? String == "Bad Request")
        #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: Data("x".utf8), token: "token-a", contentType: "text/plain").status == 415)
        let huge = Data(repeating: 0x20, count: 17 * 1024 * 1024)
        #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: huge, token: "token-a").status == 413)
        let tooMany = Data(("[" + Array(repeating: "{}", count: 50_001).joined(separator: ",") + "]").utf8)
        #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: tooMany, token: "token-a").status == 413)
        // NDJSON: one bad line is one rejected record, the others are accepted.
        let ndjson = String(decoding: activity("n1").dropFirst().dropLast(), as: UTF8.self) + "\n{oops\n"
        let r = receipt(
            try await HTTP.request("POST", s.url + "/v1/activities", body: Data(ndjson.utf8), token: "token-a", contentType: "application/x-ndjson"))
        #expect(r["accepted"] as? Int == 1)
        #expect((r["rejected"] as? [[String: Any]])?.first?["index"] as? Int == 1)
    }

    /// Hospitals with Kafka: the same validation on npr.activities.inbound, receipts on npr.intake.receipts
    /// keyed by institution, accepted records on npr.activities under the pseudonym.
    @Test func inboundTopicIsValidatedLikeHTTP() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        let producer = try producer(s.broker.bootstrap)
        defer { producer.close() }
        let good = try JSONSerialization.jsonObject(with: activity("k1")) as! [Any]
        var bad = good[0] as! [String: Any]
        bad["messageId"] = "k2"
        bad["careLevel"] = 7
        var forOther = try JSONSerialization.jsonObject(with: activity("k3", institution: Self.hospitalB, unit: "UB")) as! [[String: Any]]
        forOther[0]["messageId"] = "k3"
        var unsigned = good[0] as! [String: Any]
        unsigned["messageId"] = "k4"
        // Signed with token-a: its own record, an invalid one, one for another institution; then one unsigned.
        var delivered: [DeliveryReport] = []
        for (record, token) in [(good[0], "token-a"), (bad, "token-a"), (forOther[0], "token-a"), (unsigned, nil)] as [(Any, String?)] {
            let value = Array(try JSONSerialization.data(withJSONObject: record))
            delivered.append(
                try await producer.deliver(
                    OutgoingMessage(
                        topic: Topic.activitiesInbound, key: Self.hospitalA, value: value,
                        headers: token.map { signature(value, token: $0) } ?? [])))
        }
        // One receipt per record, found by the partition and offset of the hospital's delivery report; no
        // clear message id on the shared topic.
        var receipts: [(key: String?, value: [String: Any])] = []
        try await waitUntil(.seconds(60), "four receipts") {
            receipts = try await readTopics(s.broker.bootstrap, [Topic.receipts]).map {
                ($0.keyString, try JSONSerialization.jsonObject(with: Data($0.value ?? [])) as! [String: Any])
            }
            return receipts.count == 4
        }
        func receipt(for d: DeliveryReport) -> (key: String?, value: [String: Any])? {
            receipts.first { r in
                let origin = r.value["origin"] as? [String: Any]
                return origin?["topic"] as? String == Topic.activitiesInbound && origin?["partition"] as? Int == Int(d.partition)
                    && origin?["offset"] as? Int == Int(d.offset)
            }
        }
        let accepted = try #require(receipt(for: delivered[0])), rejected = try #require(receipt(for: delivered[1]))
        #expect(accepted.value["outcome"] as? String == "accepted" && accepted.key == Self.hospitalA)
        #expect(rejected.value["outcome"] as? String == "rejected")
        #expect(((rejected.value["errors"] as? [[String: Any]])?.first?["field"] as? String) == "careLevel")
        #expect((accepted.value["messageIdHash"] as? String)?.count == 64)
        for forbidden in delivered[2...] {
            let r = try #require(receipt(for: forbidden))
            #expect(((r.value["errors"] as? [[String: Any]])?.first?["code"] as? String) == "forbidden-institution")
        }
        let onTopic = try await readTopics(s.broker.bootstrap, [Topic.receipts]).map { String(decoding: $0.value ?? [], as: UTF8.self) }.joined()
        #expect(!["k1", "k2", "k3", "k4"].contains { onTopic.contains("\"\($0)\"") }, "a clear message id on the receipts topic")
        // The accepted record is on npr.activities like one sent over HTTP.
        let admin = try KafkaAdmin(bootstrap: s.broker.bootstrap, logger: quiet)
        let published = try (0..<6).reduce(Int64(0)) { $0 + (try admin.watermarks(TopicPartition(Topic.activities, Int32($1))).high) }
        #expect(published == 1)
    }

    /// Records of one request reach the broker in request order: a death registered and annulled in one
    /// request (order-dependent) ends annulled, for every person.
    @Test func recordsOfARequestKeepTheirOrder() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        var deaths: [[String: Any]] = []
        for i in 0..<300 {
            // Distinct birth dates (the residues repeat only after 2 100), so distinct people.
            let birth = LocalDate(year: 1950 + i % 50, month: 1 + i % 12, day: 1 + i % 28)!
            let pid = (100...499).lazy.compactMap { PersonId.make(birth: birth, individual: $0) }.first!
            for (n, status) in ["N", "C", "N", "C"].enumerated() {
                deaths.append([
                    "messageId": "d\(i)-\(n)", "status": status, "personId": pid, "deathDate": "2024-0\(1 + n)-01", "sex": 1, "municipality": "0301",
                ])
            }
        }
        let r = receipt(try await HTTP.request("POST", s.url + "/v1/deaths", body: try JSONSerialization.data(withJSONObject: deaths), token: "token-admin"))
        #expect(r["accepted"] as? Int == deaths.count)
        let events = try await readTopics(s.broker.bootstrap, [Topic.deaths]).map { try JSONDecoder().decode(DeathEvent.self, from: Data($0.value ?? [])) }
        let perPerson = Dictionary(grouping: events, by: \.pseudonym)
        #expect(perPerson.count == 300)
        for (_, sequence) in perPerson {
            #expect(sequence.map(\.status.rawValue) == ["N", "C", "N", "C"])
            #expect(sequence.map(\.deathDate.description) == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
        }
    }

    /// Two institutions may use the same message id (spec: *idempotency scope*); within one it stays a duplicate.
    @Test func messageIdsAreScopedByInstitution() async throws {
        let s = try await start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        let a = receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("same"), token: "token-admin"))
        let b = receipt(
            try await HTTP.request("POST", s.url + "/v1/activities", body: activity("same", institution: Self.hospitalB, unit: "UB"), token: "token-admin"))
        let again = receipt(
            try await HTTP.request("POST", s.url + "/v1/activities", body: activity("same", institution: Self.hospitalB, unit: "UB"), token: "token-admin"))
        #expect(a["accepted"] as? Int == 1 && b["accepted"] as? Int == 1)
        #expect(again["duplicates"] as? Int == 1)
    }

    @Test func brokerDownMeans503AndNothingAccepted() async throws {
        let s = try await start()
        defer { s.intake.stop() }
        s.broker.stop()
        let r = try await HTTP.request("POST", s.url + "/v1/activities", body: activity("x1"), token: "token-a")
        #expect(r.status == 503)
        #expect((r.json as? [String: Any])?["status"] as? Int == 503)
        // Nothing was remembered: the same record is not a duplicate once a broker is back.
        let broker = try BrokerProcess()
        defer { broker.stop() }
        s.intake.stop()
        var env = s.intake.environment
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        let intake = try ServiceProcess("intake", port: s.intake.port, environment: env)
        defer { intake.stop() }
        try await waitUntil(.seconds(60), "intake ready on the new broker") { try await HTTP.request("GET", s.url + "/health/ready").status == 200 }
        let units =
            #"[{"unitId":"UA","name":"A","institutionId":"974589095","institutionName":"A","hfId":"974589095","hfName":"A","rhf":"vest","ownership":"public","detox":false,"validFrom":"2020-01-01"}]"#
        #expect(try await HTTP.request("PUT", s.url + "/v1/reference/units", body: Data(units.utf8), token: "token-admin").status == 200)
        let again = receipt(try await HTTP.request("POST", s.url + "/v1/activities", body: activity("x1"), token: "token-a"))
        #expect(again["accepted"] as? Int == 1)
        #expect(again["duplicates"] as? Int == 0)
    }
}

/// Property: whatever mix of valid and invalid records arrives, no clear person id reaches any topic
/// (dead letters and receipts included) or any log line.
@Suite(.serialized) struct IntakePrivacyTests {
    @Test func noClearPersonIdLeavesIntake() async throws {
        let s = try await IntakeServiceTests().start()
        defer {
            s.intake.stop()
            s.broker.stop()
        }
        var rng = SplitMix64(seed: 20241122)
        var ids: Set<String> = []
        for batch in 0..<8 {
            var records: [[String: Any]] = []
            for i in 0..<60 {
                let birth = LocalDate(
                    year: Int.random(in: 1950...2005, using: &rng), month: Int.random(in: 1...12, using: &rng), day: Int.random(in: 1...28, using: &rng))!
                guard let pid = PersonId.make(birth: birth, individual: Int.random(in: 0...499, using: &rng)) else { continue }
                ids.insert(pid)
                var r: [String: Any] = [
                    "messageId": "msg-\(batch)-\(i)-clear", "status": "N", "revision": 1, "institutionId": "974589095", "episodeId": "P\(batch)-\(i)",
                    "unitId": "UA", "sector": "TSB", "careLevel": 3, "start": "2024-03-01T10:00", "end": "2024-03-01T11:00",
                    "patient": ["personId": pid, "sex": 1, "municipality": "0301"] as [String: Any],
                ]
                // Break the record in a random way (or not): every path must keep the id out.
                switch Int.random(in: 0..<8, using: &rng) {
                case 0: r["careLevel"] = 7
                case 1: r["patient"] = ["personId": pid, "sex": 1, "municipality": "9999"] as [String: Any]
                case 2: r["patient"] = ["personId": pid, "sex": 1, "municipality": "0301", "birthDate": "1901-01-01"] as [String: Any]
                case 3: r["unitId"] = "UB"
                case 4:
                    r["messageId"] = "\(pid)-\(batch)-\(i)"
                    r["careLevel"] = 7  // an id in a message id, and rejected
                case 5: r["end"] = "2024-02-01T10:00"
                default: break
                }
                records.append(r)
            }
            let body = try JSONSerialization.data(withJSONObject: records)
            #expect(try await HTTP.request("POST", s.url + "/v1/activities", body: body, token: "token-admin").status == 200)
            let deaths = ids.prefix(5).enumerated().map {
                [
                    "messageId": "d\(batch)-\($0.offset)", "status": "N", "personId": $0.element,
                    "deathDate": "2024-06-01", "sex": 1, "municipality": batch % 2 == 0 ? "0301" : "0000",
                ] as [String: Any]
            }
            #expect(
                try await HTTP.request("POST", s.url + "/v1/deaths", body: try JSONSerialization.data(withJSONObject: deaths), token: "token-admin").status
                    == 200)
        }
        // Everything on every topic.
        var corpus: [String: String] = [:]  // topic → everything on it, a value a line (keys apart)
        var keys = ""
        for m in try await readTopics(s.broker.bootstrap, Topic.catalogue.map(\.name)) {
            corpus[m.topic, default: ""] += String(decoding: m.value ?? [], as: UTF8.self) + "\n"
            keys += (m.keyString ?? "") + "\n"
        }
        #expect(corpus[Topic.deadLetter] != nil, "dead letters were produced")
        #expect(corpus[Topic.activities] != nil && corpus[Topic.deaths] != nil, "records were accepted")
        // Report where a leak is, never the id itself (test output is a file too).
        let logs = try String(contentsOfFile: s.state + "/intake.log", encoding: .utf8)
        let leakingTopics = corpus.filter { containsAny(of: ids, in: $0.value.utf8) }.keys.sorted()
        #expect(leakingTopics.isEmpty, "clear person ids on topics: \(leakingTopics)")
        #expect(!containsAny(of: ids, in: keys.utf8), "a clear person id in a record key")
        #expect(!containsAny(of: ids, in: logs.utf8), "a clear person id reached a log line")
        // Message ids leave intake only as keyed hashes (spec: *opaque identifiers*).
        #expect(!corpus.values.contains { $0.contains("-clear") }, "a clear message id reached a topic")
        #expect(!logs.contains("-clear"), "a clear message id reached a log line")
        // Dead letters are what contracts/dead-letter.v1 says they are.
        let letters = temporaryDirectory() + "/dead-letters.ndjson"
        try Data((corpus[Topic.deadLetter] ?? "").utf8).write(to: URL(fileURLWithPath: letters))
        #expect(try validate(letters, against: "dead-letter.v1.schema.json"))
    }
}
