import Foundation
import Hummingbird
import Kafka
import NPRCore
import Publishing
import ServiceRuntime

/// The publisher's HTTP API: current values (JSON, CSV, JSON-stat), vintages and history, the live stream, the
/// pipeline status, the data-quality report and the dashboard.
struct PublisherAPI: Sendable {
    let publication: Publication
    let admin: KafkaAdmin
    let intakeURL: String
    let calculatorURL: String
    /// The consumer group of a service (for the pipeline status).
    let consumerGroup: @Sendable (String) -> String
    /// The status is collected at most once a second, however many callers ask (it queries the broker).
    let statusCache = StatusCache()
    /// Entries one history answer may hold (the history of a whole indicator at national volume is far more).
    static let historyLimit = 100_000
    static let dashboardTemplate: String = {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "html", subdirectory: "Dashboard"),
            let page = try? String(contentsOf: url, encoding: .utf8)
        else { return "<!doctype html><p>dashboard missing</p>" }
        return page
    }()

    func register(on router: HTTPRouter) {
        router.get("/v1/indicators") { request, _ -> Response in
            let q = query(request)
            if let moment = q["publishedAt"] {
                // A vintage: the values as published then (from the revision history; no Last-Event-ID, it is not live).
                guard let ms = Vintage.milliseconds(iso: moment) else {
                    return problem(.badRequest, "Invalid publishedAt", "publishedAt must be an ISO 8601 date-time with a time zone, e.g. 2025-03-01T10:00:00Z")
                }
                return json(try JSONCodec.data(try publication.values(q, publishedAt: ms)))
            }
            let lastEventId = publication.lastEventId
            var response = json(try JSONCodec.data(publication.values(q)))
            response.headers[.init("Last-Event-ID")!] = String(lastEventId)
            return response
        }
        /// Each value's revision history with timestamps (withdrawals included), ordered by key, then publication.
        router.get("/v1/history") { request, _ -> Response in
            var entries: [PublishedRevision] = []
            struct TooMany: Error {}
            do {
                try publication.forEachRevision(query(request)) {
                    entries.append($0)
                    if entries.count > Self.historyLimit { throw TooMany() }
                }
            } catch is TooMany {
                return problem(
                    .badRequest, "Too many revisions",
                    "more than \(Self.historyLimit) entries match; narrow the filters (indicator, measure, period, level, unit, sex)")
            }
            entries.sort { ($0.key, $0.eventId) < ($1.key, $1.eventId) }
            return json(try JSONCodec.data(entries))
        }
        router.get("/v1/indicators.csv") { request, _ -> Response in
            let q = query(request)
            guard let dialect = CSV.Dialect(rawValue: q["dialect"] ?? CSV.Dialect.rfc4180.rawValue) else {
                return problem(
                    .badRequest, "Unknown CSV dialect",
                    "dialect must be one of \(CSV.Dialect.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let text = CSV.render(values: publication.values(q), dialect: dialect, language: Language(query: q["lang"]))
            var response = json(Data(text.utf8), type: "text/csv; charset=utf-8")
            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            response.headers[.contentDisposition] = #"attachment; filename=""# + CSV.fileName(indicator: q["indicator"], date: today) + #"""#
            return response
        }
        router.get("/v1/indicators/:indicator/jsonstat") { request, context -> Response in
            let indicator = context.parameters.get("indicator") ?? ""
            var q = query(request)
            q["indicator"] = indicator
            let revision = publication.lastEventId
            let cells = publication.cells(q)
            guard !cells.isEmpty || Indicator(rawValue: indicator) != nil else {
                return problem(.notFound, "Unknown indicator", "no such indicator is published")
            }
            let dataset = JSONStat.dataset(indicator: indicator, cells: cells, revision: revision, language: Language(query: q["lang"]))
            return json(try dataset.jsonData())
        }
        /// The data-quality report: intake's reporting figures per institution (it holds the arrivals), joined with the
        /// indicator-calculator's closed treatment stays without an end type (it holds the stays).
        router.get("/v1/quality") { _, _ -> Response in
            guard let report = await qualityReport() else {
                return problem(
                    .serviceUnavailable, "Quality report unavailable",
                    "intake's or the indicator-calculator's part of the quality report could not be read; retry later", retryAfterSeconds: 5)
            }
            return json(report)
        }
        /// The label catalogue (bokmål and English) that the dashboard, JSON-stat and CSV use.
        router.get("/v1/labels") { _, _ -> Response in json(LabelCatalogue.json) }
        router.get("/v1/stream") { request, _ -> Response in
            let q = query(request)
            // Resume after Last-Event-ID (header, or `lastEventId` for clients that cannot set headers); without
            // one the stream starts with the next change.
            let lastId = request.headers[.init("Last-Event-ID")!].flatMap(Int.init) ?? q["lastEventId"].flatMap(Int.init) ?? publication.lastEventId
            let indicator = q["indicator"]
            @Sendable func wanted(_ e: PublicationEvent) -> Bool { indicator == nil || e.key.hasPrefix(indicator! + "|") }
            // Subscribe before replaying, so nothing published in between is missed; skip what was replayed.
            guard let live = publication.broadcaster.subscribe() else {
                return problem(.serviceUnavailable, "Too many streams", "every stream slot is taken; retry later", retryAfterSeconds: 10)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    var sent = lastId
                    // `retry`: how long a client waits before reconnecting (it resumes with Last-Event-ID).
                    try await writer.write(ByteBuffer(string: ": stream of PublishedValue changes\nretry: 3000\n\n"))
                    // The backlog in pages: a resume from far back never copies the whole log at once.
                    while true {
                        let page = publication.events(after: sent, limit: 1_000)
                        guard let last = page.last else { break }
                        for e in page where wanted(e) { try await writer.write(sseFrame(e)) }
                        sent = last.id
                    }
                    for await item in live {
                        switch item {
                        case .keepAlive:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        case .event(let e) where e.id > sent && wanted(e):
                            try await writer.write(sseFrame(e))
                            sent = e.id
                        case .event: continue
                        }
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("/v1/status") { _, _ -> Response in
            json(
                try await statusCache.current {
                    await PipelineStatus.collect(admin: admin, intakeURL: intakeURL, groupOf: consumerGroup)
                })
        }
        router.get("/") { _, _ -> Response in
            let lastEventId = publication.lastEventId
            let cells = publication.cells([:])
            var units: [String: String] = [:]
            for cell in cells {
                if let formula = cell.formula {
                    units[cell.value.indicator + "|" + cell.value.measure] = LabelCatalogue.unitKey(formula: formula, scale: cell.scale)
                }
            }
            let snapshot = try JSONEncoder().encode(DashboardSnapshot(lastEventId: lastEventId, values: cells.map(\.value), units: units))
            // The data-quality report as of now, so the page shows it at once (it refreshes it itself).
            let quality = await qualityReport()
            let page = Self.dashboardTemplate.replacingOccurrences(
                of: "<!--INITIAL-DATA-->",
                with: scriptJSON(id: "initial-data", snapshot) + "\n" + scriptJSON(id: "labels", LabelCatalogue.json)
                    + (quality.map { "\n" + scriptJSON(id: "quality-data", $0) } ?? ""))
            return json(Data(page.utf8), type: "text/html; charset=utf-8")
        }
    }

    func qualityReport() async -> Data? {
        async let reporting = fetchOK(intakeURL + "/v1/quality")
        async let stays = fetchOK(calculatorURL + "/v1/quality/stays")
        guard let reporting = await reporting, let stays = await stays,
            let rows = try? JSONDecoder().decode([QualityReportRow].self, from: reporting),
            let stayRows = try? JSONDecoder().decode([StayEndTypeRow].self, from: stays)
        else { return nil }
        return try? JSONCodec.data(QualityReportRow.joining(rows, stays: stayRows))
    }
}

func query(_ request: Request) -> [String: String] {
    var q: [String: String] = [:]
    for (k, v) in request.uri.queryParameters { q[String(k)] = String(v).removingPercentEncoding ?? String(v) }
    return q
}

func sseFrame(_ event: PublicationEvent) -> ByteBuffer {
    let payload: String
    if let v = event.value, let d = try? JSONCodec.encode(v) {
        payload = "id: \(event.id)\nevent: value\ndata: \(String(decoding: d, as: UTF8.self))\n\n"
    } else {
        let removed = (try? JSONCodec.encode(["key": event.key])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        payload = "id: \(event.id)\nevent: removed\ndata: \(removed)\n\n"
    }
    return ByteBuffer(string: payload)
}

/// The dashboard page with the current snapshot and the label catalogue embedded (`/` is escaped by the
/// default encoder, so the JSON cannot close the script element).
struct DashboardSnapshot: Encodable {
    let lastEventId: Int
    let values: [PublishedValue]
    /// `indicator|measure` → the catalogue's unit key (`share`, `count`, `rate-100000`, …).
    let units: [String: String]
}
/// JSON inside a script element, `<` escaped: no text in the data can close the element or open a comment in it.
func scriptJSON(id: String, _ data: Data) -> String {
    #"<script id="\#(id)" type="application/json">"#
        + String(decoding: data, as: UTF8.self)
        .replacingOccurrences(of: "<", with: "\\u003c") + "</script>"
}

/// The last collected status, reused for a second (unauthenticated callers must not drive broker queries).
actor StatusCache {
    /// The newest collection, finished or under way: callers arriving meanwhile share it.
    private var latest: (started: ContinuousClock.Instant, body: Task<Data, Error>)?

    func current(_ collect: @escaping @Sendable () async -> PipelineStatus) async throws -> Data {
        if let l = latest, ContinuousClock.now - l.started < .seconds(1) { return try await l.body.value }
        let body = Task { try JSONCodec.data(await collect()) }
        latest = (.now, body)
        return try await body.value
    }
}
