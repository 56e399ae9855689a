import Foundation
import IntakeValidation
import NPRCore
import PipelineReference
import SyntheticData
import Testing

/// The statistical views of the published values, read as their readers read them: JSON-stat by an independent
/// JSON-stat reader (pyjstat), CSV in both dialects by Python's csv module, each compared value by value with
/// `/v1/indicators` (scripts/check_publication.py), in both languages.
func checkStatisticalViews(_ publisher: String) throws {
    for language in ["nb", "en"] {
        let script = Build.root.appendingPathComponent("scripts/check_publication.py").path
        let (status, output) = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", #""$0" "$1" --lang "$2" 2>&1"#, script, publisher, language])
        #expect(status == 0, "check_publication.py --lang \(language): \(output)")
        #expect(output.contains("JSON-stat tsb-overdodelighet") && output.contains("CSV excel-nb"), "\(output)")
    }
    // Excess mortality with its confidence intervals, and a key figure with thousands separators.
    let mortality = try renderDashboard(
        publisher, "#indicator=tsb-overdodelighet&measure=hovedmaltall&year=2024&level=all-but-unit&sex=all",
        screenshot: "excess-mortality")
    #expect(mortality.contains(">Overdødelighet hos personer i TSB</h1>") && mortality.contains("95 % KI 2024"))
    #expect(mortality.contains(#"class="ci""#), "confidence intervals in the table")
    let keyFigures = try renderDashboard(
        publisher, "#indicator=tsb-nokkeltall&measure=polikliniske-kontakter&year=2024&level=all-but-unit&sex=all",
        screenshot: "key-figures")
    #expect(keyFigures.contains(">Nøkkeltall for TSB</h1>") && keyFigures.contains("1. tertial 2024"))
}

/// The data-quality report as the publisher serves it equals the reporting quality of the messages sent, in
/// the order sent (resent duplicates left out), on today's arrival date, joined with the closed treatment stays
/// without an end type computed from scratch.
func checkReportingQuality(_ publisher: String, sent: [ActivityMessage], data: SyntheticDataset) async throws {
    let units = data.units
    let today = LocalDate(String(ISO8601DateFormatter().string(from: Date()).prefix(10)))!
    var quality: [String: InstitutionQuality] = [:]
    var episodes: [String: EpisodeQualityState] = [:]
    var seen = Set<String>()
    for m in sent where seen.insert(m.institutionId + "|" + m.messageId).inserted {
        let key = m.institutionId + "|" + m.episodeId
        let episode = Episode(m, pseudonym: nil, birthDate: m.patient.birthDate ?? today)
        episodes[key] = quality[m.institutionId, default: InstitutionQuality()].accept(
            status: m.status, revision: m.revision, episode: episode, before: episodes[key], arrival: today, at: "")
    }
    let names = Dictionary(units.map { ($0.institutionId, $0.institutionName) }, uniquingKeysWith: min)
    let r = try await HTTP.request("GET", publisher + "/v1/quality")
    #expect(r.status == 200)
    var served = try JSONDecoder().decode([QualityReportRow].self, from: r.body)
    #expect(served.allSatisfy { $0.lastMessageAt != nil })
    for i in served.indices { served[i].lastMessageAt = nil }
    let reporting = quality.sorted { $0.key < $1.key }.map {
        var row = QualityReportRow(institutionId: $0.key, institutionName: names[$0.key], quality: $0.value)
        row.lastMessageAt = nil
        return row
    }
    let expected = QualityReportRow.joining(reporting, stays: FromScratch.stayEndTypeRows(data))
    #expect(served == expected)
    #expect(
        served.contains { $0.delayStatus == .ok && $0.endTypeStatus == .ok && $0.stays?.status == .ok },
        "a realistic institution shows its figures")
    #expect(served.contains { ($0.stays?.withoutEndType ?? 0) > 0 }, "stays without an end type are counted")
    let report = temporaryDirectory() + "/quality.ndjson"
    try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: r.body)).write(to: URL(fileURLWithPath: report))
    #expect(try validate(report, against: "quality-report.v1.schema.json"))
    // The dashboard's data-quality view shows the stay figures beside the episode ones.
    let page = try renderDashboard(
        publisher, "#indicator=tsb-avbrudd&level=rhf", screenshot: "data-quality",
        window: (1900, 3600))
    #expect(page.contains("Andel opphold uten avslutningstype"))
    #expect(page.contains(#"data-col="shareStaysWithoutEndType" data-status="ok""#))
}

/// The dashboard's DOM after its scripts ran, as headless Chromium renders it; with `screenshot`, also a
/// picture of the view in .build/screenshots/<name>.png (checked to be a PNG of some substance).
func renderDashboard(
    _ publisher: String, _ fragment: String, screenshot: String? = nil,
    window: (width: Int, height: Int) = (1300, 1800)
) throws -> String {
    let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
    // The DOM as of the load event: the page renders from the data embedded in it, before the live stream.
    let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    if let screenshot {
        let directory = Build.root.appendingPathComponent(".build/screenshots")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(screenshot + ".png")
        try? FileManager.default.removeItem(at: file)
        _ = try runProcess(chromium, common + ["--window-size=\(window.width),\(window.height)", "--screenshot=\(file.path)", publisher + "/" + fragment])
        let png = try Data(contentsOf: file)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "screenshot \(screenshot): \(png.count) bytes")
    }
    return try runProcess(chromium, common + ["--dump-dom", publisher + "/" + fragment]).output
}
