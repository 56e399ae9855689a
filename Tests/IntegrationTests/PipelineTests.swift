import Foundation
import NPRCore
import Publishing
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The five real services against a real broker process, driven over HTTP.
@Suite(.serialized) struct PipelineTests {
    static let institution = "974589095"

    func unitJSON() -> Data {
        Data(
            #"[{"unitId":"U1","name":"Døgn 1","institutionId":"974589095","institutionName":"Inst","hfId":"974589095","hfName":"HF Test","rhf":"sor-ost","ownership":"public","detox":false,"validFrom":"2020-01-01"}]"#
                .utf8)
    }

    /// A closed TSB inpatient stay in 2024 for a patient born in 1980.
    func stay(_ i: Int, endType: Int?, revision: Int = 1, personId: String? = nil) -> ActivityMessage {
        let pid = personId ?? PersonId.make(birth: LocalDate(year: 1980, month: 1, day: 1 + i)!, individual: 100 + i)!
        return ActivityMessage(
            messageId: "m\(i)-r\(revision)", status: revision == 1 ? .new : .correction, revision: revision,
            institutionId: Self.institution, episodeId: "E\(i)", unitId: "U1", sector: "TSB",
            patient: .init(personId: pid, sex: 1, municipality: "0301"),
            referral: .init(rightToHealthcare: 3), careLevel: 1,
            start: LocalDateTime("2024-03-01T10:00")!, end: LocalDateTime("2024-03-20T10:00")!, endType: endType)
    }

    func avbrudd(_ publisher: Int, measure: String = "hovedmaltall") async throws -> (Int?, Int?, String)? {
        let r = try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/indicators?indicator=tsb-avbrudd&measure=\(measure)&period=2024&level=national")
        guard let rows = r.json as? [[String: Any]], let row = rows.first else { return nil }
        return (row["numerator"] as? Int, row["denominator"] as? Int, row["status"] as? String ?? "")
    }

    @Test func episodesFlowThroughEveryServiceAndSurviveKill9() async throws {
        let pipeline = try await Pipeline.start(environment: ["NPR_AS_OF": "2024-12-31"])
        defer { pipeline.stop() }
        let intake = pipeline.intake, publisher = pipeline["publisher"].port, state = pipeline.state

        // Authentication and unit register.
        #expect(try await HTTP.request("POST", "\(intake)/v1/activities", body: Data("[]".utf8)).status == 401)
        #expect(try await HTTP.request("PUT", "\(intake)/v1/reference/units", body: unitJSON(), token: "dev-admin-token").status == 200)

        // Five patients, two stays ended by the patient (end type 3); one record with a bad person id check digit.
        var batch = (0..<5).map { stay($0, endType: $0 < 2 ? 3 : 1) }
        var bad = stay(9, endType: 1)
        bad.patient.personId = String(bad.patient.personId!.dropLast()) + String((Int(String(bad.patient.personId!.last!))! + 1) % 10)
        bad.patient.birthDate = nil
        batch.append(bad)
        let r = try await HTTP.request("POST", "\(intake)/v1/activities", body: try JSONEncoder().encode(batch), token: "dev-admin-token")
        #expect(r.status == 200)
        let receipt = try #require(r.json as? [String: Any])
        #expect(receipt["accepted"] as? Int == 5)
        #expect((receipt["rejected"] as? [[String: Any]])?.first?["index"] as? Int == 5)
        // Resending is a duplicate, not a second count.
        let again = try await HTTP.request("POST", "\(intake)/v1/activities", body: try JSONEncoder().encode(Array(batch.prefix(5))), token: "dev-admin-token")
        #expect((again.json as? [String: Any])?["duplicates"] as? Int == 5)

        try await waitUntil(.seconds(60), "avbrudd 2/5") { try await avbrudd(publisher).map { $0.0 == 2 && $0.1 == 5 } ?? false }
        #expect(try await avbrudd(publisher)?.2 == "ok")

        // kill -9 the linker, correct one stay while it is down, restart: the correction is counted once.
        pipeline["episode-linker"].kill9()
        let correction = [stay(2, endType: 4, revision: 2)]
        #expect(try await HTTP.request("POST", "\(intake)/v1/activities", body: try JSONEncoder().encode(correction), token: "dev-admin-token").status == 200)
        try pipeline["episode-linker"].start()
        try await waitUntil(.seconds(60), "avbrudd 3/5 after restart") { try await avbrudd(publisher).map { $0.0 == 3 && $0.1 == 5 } ?? false }

        // The pipeline reports itself caught up, and no clear person id reached any log.
        try await waitUntil(.seconds(60), "caught up") {
            ((try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/status").json as? [String: Any])?["caughtUp"] as? Bool) == true
        }
        // A vintage to ask for later: the values now, while nothing is in flight.
        let vintage = try await publishedValues(publisher, "")
        let vintageMoment = Vintage.isoText(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        let logs = try FileManager.default.contentsOfDirectory(atPath: state).filter { $0.hasSuffix(".log") }
            .map { try String(contentsOfFile: state + "/" + $0, encoding: .utf8) }.joined()
        for m in batch { #expect(!logs.contains(m.patient.personId!)) }

        // JSON-stat and CSV views of the same values.
        let js = try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/indicators/tsb-avbrudd/jsonstat")
        let dataset = try #require(js.json as? [String: Any])
        #expect(dataset["version"] as? String == "2.0")
        #expect(dataset["class"] as? String == "dataset")
        let csv = try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/indicators.csv?indicator=tsb-avbrudd")
        #expect(String(decoding: csv.body, as: UTF8.self).hasPrefix("indicator,measure,period"))

        // One patient aged 20 on the end date: maltall-3 (ages 18–22) has one patient → primary suppression.
        var young = stay(20, endType: 1)
        young.patient.personId = PersonId.make(birth: LocalDate(year: 2004, month: 1, day: 1)!, individual: 500)!
        #expect(try await HTTP.request("POST", "\(intake)/v1/activities", body: try JSONEncoder().encode([young]), token: "dev-admin-token").status == 200)
        try await waitUntil(.seconds(60), "maltall-3 suppressed") { try await avbrudd(publisher, measure: "maltall-3")?.2 == "suppressed-primary" }
        #expect(try await avbrudd(publisher, measure: "maltall-3").map { $0.0 == nil && $0.1 == nil } == true)

        // The dashboard in a real browser: headless Chromium renders it; read the rendered DOM (screenshots
        // of each view are kept in .build/screenshots).
        let base = "http://127.0.0.1:\(publisher)"
        let national = try renderDashboard(
            base, "#indicator=tsb-avbrudd&measure=hovedmaltall&year=2024&level=national&sex=all",
            screenshot: "dropout-national")
        #expect(national.contains(">Avbrudd i TSB-døgnbehandling</h1>") && national.contains("<html lang=\"nb\""))
        #expect(national.contains("publiserte verdier"))
        #expect(national.contains(#"data-status="ok">50,0 %</td>"#))  // 3 of 6 stays, as Norwegians write it
        #expect(national.contains("<caption") && national.contains(#"scope="row""#) && national.contains(#"scope="col""#))
        #expect(national.contains(#"role="img""#) && national.contains(#"aria-label="Stolpediagram"#))
        let english = try renderDashboard(base, "#indicator=tsb-avbrudd&measure=hovedmaltall&year=2024&level=national&sex=all&lang=en")
        #expect(english.contains(">Dropout from inpatient substance-use treatment (TSB)</h1>") && english.contains("published values"))
        #expect(english.contains(#"data-status="ok">50.0 %</td>"#))
        let suppressed = try renderDashboard(
            base, "#indicator=tsb-avbrudd&measure=maltall-3&year=2024&level=national&sex=all",
            screenshot: "dropout-suppressed")
        #expect(suppressed.contains(#"data-status="suppressed-primary">:<span class="visually-hidden">"#))
        #expect(suppressed.contains("primær prikking") && suppressed.contains("sekundær prikking"), "the legend tells the symbols apart")

        // Unit names come from the unit register: markup in one shows as text, in the table and the chart.
        let markup = #"<img id="injected" src="x" onerror="document.title='run'">Døgn"#
        let renamed = String(decoding: unitJSON(), as: UTF8.self).replacingOccurrences(
            of: #""name":"Døgn 1""#, with: "\"name\":" + String(decoding: try JSONEncoder().encode(markup), as: UTF8.self))
        #expect(try await HTTP.request("PUT", "\(intake)/v1/reference/units", body: Data(renamed.utf8), token: "dev-admin-token").status == 200)
        try await waitUntil(.seconds(60), "the new unit name published") {
            let r = try await HTTP.request(
                "GET", "http://127.0.0.1:\(publisher)/v1/indicators?indicator=tsb-avbrudd&measure=hovedmaltall&period=2024&level=unit")
            return (r.json as? [[String: Any]])?.first?["unitName"] as? String == markup
        }
        // Vintages: the values as published at the earlier moment are exactly what was read then, though
        // values changed since; the history of the national dropout share shows each revision with its time.
        #expect(try await publishedValues(publisher, "?publishedAt=\(vintageMoment)") == vintage)
        #expect(try await publishedValues(publisher, "?publishedAt=2000-01-01T00:00:00Z").isEmpty)
        #expect(
            try await publishedValues(publisher, "?publishedAt=\(Vintage.isoText(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))")
                == (try await publishedValues(publisher, "")))
        #expect(try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/indicators?publishedAt=yesterday").status == 400)
        let historyQuery = "?indicator=tsb-avbrudd&measure=hovedmaltall&period=2024&level=national&unit=NO&sex=all"
        let history = try JSONDecoder().decode(
            [PublishedRevision].self,
            from: try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/history\(historyQuery)").body)
        #expect(history.map { $0.value?.revision } == Array(1...history.count).map { Optional($0) })
        let counts = history.compactMap { $0.value.map { "\($0.numerator ?? -1)/\($0.denominator ?? -1)" } }
        let first = counts.firstIndex(of: "2/5"), corrected = counts.firstIndex(of: "3/5"), withYoung = counts.firstIndex(of: "3/6")
        #expect(first != nil && corrected != nil && withYoung != nil && first! < corrected! && corrected! < withYoung!, "revisions \(counts)")
        // Provenance: each revision says what caused it, by reporting institution, without person-level data.
        let revisions = history.filter { $0.value != nil }
        if let corrected, let withYoung {
            #expect(revisions[corrected].causes == Provenance(.init(.correction, institution: Self.institution)), "\(revisions[corrected].causes)")
            #expect(revisions[withYoung].causes == Provenance(.init(.newEpisode, institution: Self.institution)), "\(revisions[withYoung].causes)")
        }
        #expect(revisions.allSatisfy { !$0.causes.isEmpty })
        #expect(zip(history, history.dropFirst()).allSatisfy { $0.publishedAtMs <= $1.publishedAtMs && $0.eventId < $1.eventId })
        #expect(history.last?.value == (try await publishedValues(publisher, historyQuery)).first)

        let unitView = try renderDashboard(
            base, "#indicator=tsb-avbrudd&measure=hovedmaltall&year=2024&level=unit&sex=all",
            screenshot: "dropout-units")
        #expect(unitView.contains("&lt;img id=\"injected\""), "the unit name is not shown as text")
        #expect(!unitView.contains("<img id=\"injected\""), "a unit name was interpreted as HTML")
    }

    func publishedValues(_ publisher: Int, _ query: String) async throws -> [PublishedValue] {
        let r = try await HTTP.request("GET", "http://127.0.0.1:\(publisher)/v1/indicators\(query)")
        #expect(r.status == 200, "\(query): \(String(decoding: r.body, as: UTF8.self))")
        return try JSONDecoder().decode([PublishedValue].self, from: r.body)
    }
}
