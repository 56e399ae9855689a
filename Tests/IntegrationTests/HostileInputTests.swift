import Foundation
import Kafka
import NPRCore
import ServiceRuntime
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Input a service cannot use goes to the dead-letter topic with a reason, and the service goes on; weak
/// secrets and an exposed development mode stop a service before it serves anything.
@Suite(.serialized) struct HostileInputTests {
    func deadLetters(_ bootstrap: String) async throws -> [DeadLetter] {
        try await readTopics(bootstrap, [Topic.deadLetter]).map { try JSONDecoder().decode(DeadLetter.self, from: Data($0.value ?? [])) }
    }

    @Test func unreadableCellsAreDeadLetteredAndThePublisherGoesOn() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let publisher = try await ServiceProcess.alone("publisher", broker: broker)
        defer { publisher.stop() }
        let producer = try producer(broker.bootstrap)
        defer { producer.close() }
        let key = CellKey(indicator: .avbrudd, measure: "hovedmaltall", period: .year(2024), level: .national, unit: "NO")
        let cell = CellUpdate(
            key: key,
            cell: Cell(
                key: key, formula: .share, numerator: 5, denominator: 20, patients: 20, size: 20,
                parent: nil, unitName: "Norge", asOf: LocalDate("2024-12-31")!))
        let secret = "17058012345"  // stands for anything a broken producer might write: it must not be copied
        var poison: [DeliveryReport] = []
        for bytes in [Array("{\"key\":\(secret)".utf8), [0xFF, 0x00, 0x7B], Array("{\"cell\":{}}".utf8)] {
            poison.append(try await producer.deliver(OutgoingMessage(topic: Topic.cells, key: key.string, value: bytes)))
        }
        try await producer.deliver(OutgoingMessage(topic: Topic.cells, key: key.string, value: Array(try JSONEncoder().encode(cell))))
        try await waitUntil(.seconds(60), "the valid cell published after the unreadable ones") {
            (try await HTTP.request("GET", publisher.base + "/v1/indicators").json as? [[String: Any]])?.first?["numerator"] as? Int == 5
        }
        var letters: [DeadLetter] = []
        try await waitUntil(.seconds(30), "three dead letters") {
            letters = try await deadLetters(broker.bootstrap)
            return letters.count == 3
        }
        #expect(letters.map { $0.origin.map { [$0.partition, Int32($0.offset)] } } == poison.map { [$0.partition, Int32($0.offset)] })
        for letter in letters {
            #expect(letter.service == "publisher" && letter.channel == "kafka" && letter.origin?.topic == Topic.cells)
            #expect(letter.errors.first?.code == "unreadable" && !(letter.errors.first?.message ?? "").isEmpty)
            #expect(letter.record == nil)
        }
        let onTopic = try await readTopics(broker.bootstrap, [Topic.deadLetter]).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(!onTopic.contains { $0.contains(secret) }, "a dead letter copied the unreadable message")
        #expect(try await metric(publisher.base, #"npr_unreadable_messages_total{service="publisher"}"#) == 3)
    }

    /// A population count near Int.max would overflow the tallies: refused at intake, and dead-lettered by a
    /// service that reads it from the topic anyway.
    @Test func implausiblePopulationNeverReachesTheTallies() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let mortality = try await ServiceProcess.alone("mortality-linker", broker: broker)
        defer { mortality.stop() }
        let producer = try producer(broker.bootstrap)
        defer { producer.close() }
        let counts = [
            PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 40, count: Int.max),
            PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 41, count: Int.max),
            PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 42, count: 7_000),
        ]
        for c in counts {
            try await producer.deliver(OutgoingMessage(topic: Topic.population, key: c.key, value: Array(try JSONEncoder().encode(c))))
        }
        try await waitUntil(.seconds(60), "all three consumed") {
            try await metric(mortality.base, #"npr_consumed_messages_total{service="mortality-linker"}"#) >= 3
        }
        #expect(try await metric(mortality.base, #"npr_unreadable_messages_total{service="mortality-linker"}"#) == 2)
        #expect(mortality.process.isRunning)
        let letters = try await deadLetters(broker.bootstrap)
        #expect(letters.count == 2 && letters.allSatisfy { $0.errors.first?.message.contains("plausible") == true })
    }

    func exitsBeforeServing(_ environment: [String: String]) async throws -> String {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let state = temporaryDirectory()
        let intake = try ServiceProcess(
            "intake", port: freePorts(1)[0],
            environment: ["KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "NPR_STATE_DIR": state].merging(environment) { $1 })
        defer { intake.stop() }
        try await waitUntil(.seconds(60), "intake exits") { !intake.process.isRunning }
        #expect(intake.process.terminationStatus != 0)
        return try String(contentsOfFile: state + "/intake.log", encoding: .utf8)
    }

    @Test func productionRefusesAWeakOrMalformedKey() async throws {
        let tokens = temporaryDirectory() + "/tokens.json"
        try Data(#"{"t": ["974589095"]}"#.utf8).write(to: URL(fileURLWithPath: tokens))
        let production = ["NPR_MODE": "production", "NPR_TOKEN_FILE": tokens]
        let short = try await exitsBeforeServing(production.merging(["NPR_PSEUDONYM_KEY": String(repeating: "ab", count: 16)]) { $1 })
        #expect(short.contains("NPR_PSEUDONYM_KEY") && short.contains("at least 32 bytes"))
        let text = try await exitsBeforeServing(production.merging(["NPR_PSEUDONYM_KEY": "correct horse battery staple"]) { $1 })
        #expect(text.contains("hex or base64"))
        #expect(!text.contains("correct horse"), "the key reached the log")
        let missing = try await exitsBeforeServing(production)
        #expect(missing.contains("production mode needs NPR_PSEUDONYM_KEY"))
        let noTokens = try await exitsBeforeServing(["NPR_MODE": "production", "NPR_PSEUDONYM_KEY": String(repeating: "ab", count: 32)])
        #expect(noTokens.contains("NPR_TOKEN_FILE"))
    }

    @Test func developmentModeServesLoopbackOnly() async throws {
        let log = try await exitsBeforeServing(["NPR_HTTP_HOST": "0.0.0.0"])
        #expect(log.contains("NPR_HTTP_HOST") && log.contains("loopback"))
    }

    /// A key file's trailing newline is not part of the key: the file and the same key in the environment
    /// give the same pseudonyms.
    @Test func keyFileAndVariableGiveTheSamePseudonyms() async throws {
        let key = String(repeating: "3c", count: 32)
        let file = temporaryDirectory() + "/key"
        try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: file))
        var pseudonyms: [String] = []
        let personId = (200...299).lazy.compactMap { PersonId.make(birth: LocalDate("1970-03-04")!, individual: $0) }.first!
        for setting in [["NPR_PSEUDONYM_KEY": key], ["NPR_PSEUDONYM_KEY_FILE": file]] {
            let broker = try BrokerProcess()
            defer { broker.stop() }
            let state = temporaryDirectory()
            try Data(#"{"admin": ["*"]}"#.utf8).write(to: URL(fileURLWithPath: state + "/tokens.json"))
            let intake = try ServiceProcess(
                "intake", port: freePorts(1)[0],
                environment: [
                    "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "NPR_STATE_DIR": state, "NPR_MODE": "production",
                    "NPR_TOKEN_FILE": state + "/tokens.json",
                ].merging(setting) { $1 })
            defer { intake.stop() }
            let url = "http://127.0.0.1:\(intake.port)"
            try await waitUntil(.seconds(60), "intake ready") { try await HTTP.request("GET", url + "/health/ready").status == 200 }
            let death = #"[{"messageId":"d1","status":"N","personId":"\#(personId)","deathDate":"2024-06-01","sex":1,"municipality":"0301"}]"#
            #expect(try await HTTP.request("POST", url + "/v1/deaths", body: Data(death.utf8), token: "admin").status == 200)
            let events = try await readTopics(broker.bootstrap, [Topic.deaths])
            pseudonyms.append(try #require(events.first?.keyString))
        }
        #expect(pseudonyms.count == 2 && pseudonyms[0] == pseudonyms[1])
    }

    /// A request whose body trickles in is cut off with 408 once the body timeout passes.
    @Test func slowBodiesAreCutOff() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let intake = try await ServiceProcess.alone("intake", broker: broker, environment: ["NPR_HTTP_BODY_TIMEOUT_S": "2"])
        defer { intake.stop() }
        // Headers promise 1 000 bytes; 10 arrive, then nothing (but the connection stays open).
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", \(intake.port)))
            s.sendall(b"POST /v1/activities HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer dev-admin-token\\r\\nContent-Type: application/json\\r\\nContent-Length: 1000\\r\\n\\r\\n[{\\"a\\":1,")
            s.settimeout(30)
            print(s.recv(200).split(b"\\r\\n")[0].decode())
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let status = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(status.hasPrefix("HTTP/1.1 408"), "\(status)")
    }

    /// Event streams are capped; one more is refused with 503 while the others stay open, told how soon to
    /// reconnect and kept alive by comments while nothing changes.
    @Test func eventStreamsAreCapped() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let publisher = try await ServiceProcess.alone("publisher", broker: broker, environment: ["NPR_SSE_MAX_SUBSCRIBERS": "1", "NPR_SSE_KEEPALIVE_S": "1"])
        defer { publisher.stop() }
        let first = Process()
        first.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        first.arguments = ["-sN", "--max-time", "60", publisher.base + "/v1/stream"]
        let out = Pipe()
        first.standardOutput = out
        try first.run()
        defer { first.terminate() }
        // The stream is open once its opening comment arrived; a keep-alive follows within the interval.
        var opened = ""
        while !opened.contains(": keep-alive") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            opened += String(decoding: chunk, as: UTF8.self)
        }
        #expect(opened.contains(": stream of") && opened.contains("retry: 3000") && opened.contains(": keep-alive"))
        let second = try await HTTP.request("GET", publisher.base + "/v1/stream")
        #expect(second.status == 503)
        #expect((second.json as? [String: Any])?["status"] as? Int == 503)
    }
}
