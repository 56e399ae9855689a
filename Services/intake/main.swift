// intake: hospitals and registers submit episodes, deaths, population counts and the unit register
// over HTTP (or the inbound topic); records are validated, pseudonymised and published with acks=all.
import Crypto
import Foundation
import Hummingbird
import IntakeValidation
import Kafka
import Metrics
import NPRCore
import ServiceRuntime
import Synchronization

/// Request limits: the parser's (documented in docs/intake-errors.md).
enum Limits {
    static let maxBodyBytes = JSONLimits.default.maxTotalBytes
    static let maxRecords = JSONLimits.default.maxRecords
}

let host = ServiceHost.start(service: "intake")
let config = host.configuration

/// Pseudonym key: explicit in production; generated once under the state directory in development.
func loadPseudonymKey() throws -> SymmetricKey {
    if let hex = config.environment["NPR_PSEUDONYM_KEY"], !hex.isEmpty { return SymmetricKey(data: Data(hex.utf8)) }
    if let file = config.environment["NPR_PSEUDONYM_KEY_FILE"], !file.isEmpty {
        return SymmetricKey(data: try Data(contentsOf: URL(fileURLWithPath: file)))
    }
    guard config.mode == .development else {
        throw ConfigurationError(variable: "NPR_PSEUDONYM_KEY", problem: "production mode needs NPR_PSEUDONYM_KEY or NPR_PSEUDONYM_KEY_FILE")
    }
    let path = config.stateDirectory + "/pseudonym.key"
    if let existing = try? Data(contentsOf: URL(fileURLWithPath: path)) { return SymmetricKey(data: existing) }
    try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true)
    let key = SymmetricKey(size: .bits256)
    let data = key.withUnsafeBytes { Data($0) }
    FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
    return key
}

/// Tokens: a JSON file `{"<token>": ["<institutionId>", …]}` where `"*"` means every institution (admin);
/// in development the admin token `$NPR_ADMIN_TOKEN` (default `dev-admin-token`) is added.
func loadTokens() throws -> [String: Set<String>] {
    var tokens: [String: Set<String>] = [:]
    if let file = config.environment["NPR_TOKEN_FILE"], !file.isEmpty {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: [String]] else {
            throw ConfigurationError(variable: "NPR_TOKEN_FILE", problem: "must be a JSON object of token → [institutionId or \"*\"]")
        }
        tokens = obj.mapValues(Set.init)
    } else if config.mode == .production {
        throw ConfigurationError(variable: "NPR_TOKEN_FILE", problem: "required in production mode")
    }
    if config.mode == .development { tokens[config.environment["NPR_ADMIN_TOKEN"] ?? "dev-admin-token"] = ["*"] }
    return tokens
}

let ledger: Ledger
let tokens: [String: Set<String>]
do {
    ledger = Ledger(pseudonymKey: try loadPseudonymKey())
    tokens = try loadTokens()
} catch {
    FileHandle.standardError.write(Data("intake: \(error)\n".utf8))
    exit(2)
}
host.ensureTopics()
let store = try StateStore(path: config.storePath)
try ledger.restore(from: store)
let producer = try host.makeProducer(deliveryTimeoutMs: Int(config.environment["INTAKE_DELIVERY_TIMEOUT_MS"] ?? "") ?? 10000)
let inFlight = Mutex(0)
/// Flow control: requests wait while a downstream consumer is too far behind (see `Backpressure`).
let backpressure = try Backpressure(settings: try Backpressure.Settings(configuration: config),
                                    bootstrap: config.bootstrapServers, logger: host.logger)

/// Records per kind, institution and outcome, and rejections per error code (HTTP and inbound alike).
func recordMetrics(_ decision: Decision, kind: String) {
    // Counted per label set first: one counter lookup per distinct labels, not per record.
    var records: [[String]: Int] = [:], rejections: [[String]: Int] = [:]
    for o in decision.outcomes {
        records[[o.institution, o.outcome], default: 0] += 1
        for code in o.codes { rejections[[o.institution, code], default: 0] += 1 }
    }
    for (labels, n) in records {
        Counter(label: "intake_records_total", dimensions: [("kind", kind), ("institution", labels[0]), ("outcome", labels[1])]).increment(by: n)
    }
    for (labels, n) in rejections {
        Counter(label: "intake_rejections_total", dimensions: [("kind", kind), ("institution", labels[0]), ("code", labels[1])]).increment(by: n)
    }
}
let requestTimer = { (path: String) in Metrics.Timer(label: "intake_request_seconds", dimensions: [("path", path)]) }

func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String) -> Response {
    let body = try! JSONSerialization.data(withJSONObject: ["type": "about:blank", "title": title, "status": status.code, "detail": detail], options: [.sortedKeys])
    return Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}

struct Caller { let institutions: Set<String>; var isAdmin: Bool { institutions.contains("*") } }

/// A value or the response that ends the request.
enum Outcome<T> { case success(T), failure(Response) }
extension Outcome: Sendable where T: Sendable {}

func authenticate(_ request: Request) -> Outcome<Caller> {
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
        return .failure(problem(.unauthorized, "Unauthorized", "send Authorization: Bearer <token>"))
    }
    guard let allowed = tokens[String(header.dropFirst(7))] else { return .failure(problem(.unauthorized, "Unauthorized", "unknown token")) }
    return .success(Caller(institutions: allowed))
}

/// Reads the body as JSON array or NDJSON records, enforcing the limits.
func readRecords(_ request: Request) async -> Outcome<[Result<JSONValue, JSONParseError>]> {
    let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "application/json"
    guard type == "application/json" || type == "application/x-ndjson" else {
        return .failure(problem(.unsupportedMediaType, "Unsupported Media Type", "send application/json (array) or application/x-ndjson"))
    }
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: Limits.maxBodyBytes) } catch {
        return .failure(problem(.contentTooLarge, "Content Too Large", "the body exceeds \(Limits.maxBodyBytes) bytes"))
    }
    let bytes = Array(buffer.readableBytesView)
    let records: [Result<JSONValue, JSONParseError>]
    do {
        records = type == "application/x-ndjson" ? try JSONBody.ndjsonRecords(bytes) : try JSONBody.arrayRecords(bytes).map { .success($0) }
    } catch {
        switch error.kind {
        case .tooManyRecords: return .failure(problem(.contentTooLarge, "Content Too Large", "at most \(Limits.maxRecords) records per request"))
        case .tooLarge: return .failure(problem(.contentTooLarge, "Content Too Large", "the body exceeds \(Limits.maxBodyBytes) bytes"))
        default: return .failure(problem(.badRequest, "Bad Request", "the body is not valid JSON: \(error)"))
        }
    }
    guard records.count <= Limits.maxRecords else {
        return .failure(problem(.contentTooLarge, "Content Too Large", "at most \(Limits.maxRecords) records per request"))
    }
    return .success(records)
}

/// Time spent per phase of a round (decide, deliver to the broker, commit the ledger).
let phaseTimers = Dictionary(uniqueKeysWithValues: ["decide", "deliver", "commit"].map {
    ($0, Metrics.Timer(label: "intake_phase_seconds", dimensions: [("phase", $0)]))
})
func timed<T>(_ phase: String, _ work: () async throws -> T) async rethrows -> T {
    let started = ContinuousClock.now
    defer {
        let elapsed = ContinuousClock.now - started
        phaseTimers[phase]?.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    return try await work()
}

/// Group commit: the requests that arrive while a round is with the broker are decided together in the next
/// round, in arrival order, published with one wait for the broker (acks=all) and committed to the ledger in
/// one transaction; each gets its own receipt. If the broker or the store fails, every decision of the round
/// is rolled back and every request of it answered 503: nothing of a refused request was acknowledged.
actor Rounds {
    struct Submission { var kind: RecordKind; var prepared: [Prepared]; var reply: CheckedContinuation<Outcome<Decision>, Never> }
    private var queue: [Submission] = []
    private var running = false
    /// Records per round at most (a round's outputs are held in memory until acknowledged).
    let maxRecords = 20_000

    func submit(kind: RecordKind, prepared: [Prepared]) async -> Outcome<Decision> {
        await withCheckedContinuation { c in
            queue.append(Submission(kind: kind, prepared: prepared, reply: c))
            if !running {
                running = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            var round: [Submission] = [], records = 0
            while let next = queue.first, round.isEmpty || records + next.prepared.count <= maxRecords {
                round.append(queue.removeFirst())
                records += next.prepared.count
            }
            let decisions = await timed("decide") { round.map { ledger.decide(kind: $0.kind, prepared: $0.prepared, source: "http") } }
            do {
                let rows = try decisions.flatMap { try $0.allRows() }
                try await timed("deliver") { try await producer.deliverAll(decisions.flatMap(\.outputs)) }
                try await timed("commit") { try store.commit(rows: rows, offsets: [:]) }
                for (s, d) in zip(round, decisions) { s.reply.resume(returning: .success(d)) }
            } catch {
                for d in decisions.reversed() { ledger.rollback(d) }
                host.logger.error("broker or ledger unavailable, requests refused", metadata: ["error": "\(error)", "requests": "\(round.count)"])
                let refused = problem(.serviceUnavailable, "Service Unavailable",
                                      "the broker did not acknowledge the records; nothing was accepted, retry later")
                for s in round { s.reply.resume(returning: .failure(refused)) }
            }
        }
        running = false
    }
}
let rounds = Rounds()

func receiptResponse(_ r: Receipt) throws -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONCodec.encode(r))))
}

func submit(_ request: Request, kind: RecordKind, adminOnly: Bool) async throws -> Response {
    let started = ContinuousClock.now
    defer {
        let elapsed = ContinuousClock.now - started
        requestTimer("/v1/\(kind.rawValue)").recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    let caller: Caller
    switch authenticate(request) { case .failure(let r): return r; case .success(let c): caller = c }
    if adminOnly && !caller.isAdmin { return problem(.forbidden, "Forbidden", "only the admin token may submit \(kind.rawValue) records") }
    let records: [Result<JSONValue, JSONParseError>]
    switch await readRecords(request) { case .failure(let r): return r; case .success(let rs): records = rs }
    inFlight.withLock { $0 += 1 }
    defer { inFlight.withLock { $0 -= 1 } }
    guard await backpressure.admit() else {
        var refused = problem(.serviceUnavailable, "Service Unavailable",
                              "the pipeline is too far behind to accept more now; nothing was accepted, retry after the delay")
        refused.headers[.retryAfter] = "5"
        return refused
    }
    let prepared = try ledger.prepare(kind: kind, records: records, mayReport: { caller.isAdmin || caller.institutions.contains($0) })
    switch await rounds.submit(kind: kind, prepared: prepared) {
    case .failure(let response): return response
    case .success(let decision):
        recordMetrics(decision, kind: kind.rawValue)
        return try receiptResponse(decision.receipt)
    }
}

let router = host.router
router.post("/v1/activities") { request, _ in try await submit(request, kind: .activity, adminOnly: false) }
router.post("/v1/deaths") { request, _ in try await submit(request, kind: .death, adminOnly: true) }
router.post("/v1/population") { request, _ in try await submit(request, kind: .population, adminOnly: true) }
router.put("/v1/reference/units") { request, _ -> Response in
    let caller: Caller
    switch authenticate(request) { case .failure(let r): return r; case .success(let c): caller = c }
    guard caller.isAdmin else { return problem(.forbidden, "Forbidden", "only the admin token may change the unit register") }
    let records: [Result<JSONValue, JSONParseError>]
    switch await readRecords(request) { case .failure(let r): return r; case .success(let rs): records = rs }
    switch await rounds.submit(kind: .unit, prepared: try ledger.prepare(kind: .unit, records: records, mayReport: { _ in true })) {
    case .failure(let response): return response
    case .success(let decision):
        recordMetrics(decision, kind: RecordKind.unit.rawValue)
        return try receiptResponse(decision.receipt)
    }
}
router.get("/v1/inflight") { _, _ -> Response in
    struct InFlight: Encodable { var inFlight: Int; var backpressure: Backpressure.Sample? }
    let body = try JSONCodec.data(InFlight(inFlight: inFlight.withLock { $0 }, backpressure: backpressure.current))
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}

/// Hospitals producing to npr.activities.inbound: the same validation; receipts on npr.intake.receipts
/// keyed by institution. The ledger rows are committed with the inbound offsets.
final class InboundHandler: StreamHandler, @unchecked Sendable {
    let inputTopics = Topic.inputs(of: "intake")
    func restore(from store: StateStore) throws {}
    /// Decisions since the last flush (receipts and dead letters are appended, not coalesced).
    var pending = StepResult()
    func apply(_ batch: [ConsumedMessage]) throws {
        for m in batch {
            let parsed: Result<JSONValue, JSONParseError>
            do throws(JSONParseError) { parsed = .success(try JSONValue.parse(m.value ?? [])) } catch { parsed = .failure(error) }
            let decision = try ledger.decide(kind: .activity, records: [parsed], source: "kafka", mayReport: { _ in true })
            recordMetrics(decision, kind: RecordKind.activity.rawValue)
            pending.outputs += decision.outputs
            pending.rows += try decision.allRows()
            let institution = (try? parsed.get())?["institutionId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? m.keyString ?? ""
            pending.outputs.append(try .json(topic: Topic.receipts, key: institution, decision.receipt))
        }
    }
    func flush() throws -> StepResult {
        defer { pending = StepResult() }
        return pending
    }
}

/// The municipality reference tables, published once at start on the compacted reference topic.
func publishMunicipalities() async {
    let entries = MunicipalityRegister.byNumber.values.sorted { $0.number < $1.number }
    for m in entries {
        if let o = try? OutgoingMessage.json(topic: Topic.municipalities, key: m.number, m) { try? producer.send(o) }
    }
    try? producer.flush(timeout: .seconds(30))
}
await publishMunicipalities()

let inbound = try StreamProcessor(handler: InboundHandler(), store: store, configuration: config, producer: producer,
                                  readiness: host.readiness, logger: host.logger)
await host.run(services: [inbound])
