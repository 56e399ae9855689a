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
/// Requests are decided one at a time so idempotency and revision checks see every earlier record.
let requestGate = AsyncGate()

/// Records per kind, institution and outcome, and rejections per error code (HTTP and inbound alike).
func recordMetrics(_ decision: Decision, kind: String) {
    for o in decision.outcomes {
        Counter(label: "intake_records_total", dimensions: [("kind", kind), ("institution", o.institution), ("outcome", o.outcome)]).increment()
        for code in o.codes {
            Counter(label: "intake_rejections_total", dimensions: [("kind", kind), ("institution", o.institution), ("code", code)]).increment()
        }
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

/// Publishes a decision's records and waits for the broker (acks=all); commits the ledger only then.
func publish(_ decision: Decision) async -> Response? {
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for o in decision.outputs { group.addTask { try await producer.deliver(o) } }
            try await group.waitForAll()
        }
        try store.commit(rows: decision.rows, offsets: [:])
        return nil
    } catch {
        ledger.rollback(decision)
        host.logger.error("broker unavailable, request refused", metadata: ["error": "\(error)"])
        return problem(.serviceUnavailable, "Service Unavailable", "the broker did not acknowledge the records; nothing was accepted, retry later")
    }
}

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
    return try await requestGate.run {
        let decision = ledger.decide(kind: kind, records: records, source: "http",
                                     mayReport: { caller.isAdmin || caller.institutions.contains($0) })
        if let failure = await publish(decision) { return failure }
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
    return try await requestGate.run {
        let decision = ledger.decide(kind: .unit, records: records, source: "http", mayReport: { _ in true })
        if let failure = await publish(decision) { return failure }
        recordMetrics(decision, kind: RecordKind.unit.rawValue)
        return try receiptResponse(decision.receipt)
    }
}
router.get("/v1/inflight") { _, _ -> Response in
    let n = inFlight.withLock { $0 }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"inFlight\":\(n)}")))
}

/// Hospitals producing to npr.activities.inbound: the same validation; receipts on npr.intake.receipts
/// keyed by institution. The ledger rows are committed with the inbound offsets.
final class InboundHandler: StreamHandler, @unchecked Sendable {
    let inputTopics = Topic.inputs(of: "intake")
    func restore(from store: StateStore) throws {}
    func process(_ batch: [ConsumedMessage]) throws -> StepResult {
        var step = StepResult()
        for m in batch {
            let parsed: Result<JSONValue, JSONParseError>
            do throws(JSONParseError) { parsed = .success(try JSONValue.parse(m.value ?? [])) } catch { parsed = .failure(error) }
            let decision = ledger.decide(kind: .activity, records: [parsed], source: "kafka", mayReport: { _ in true })
            recordMetrics(decision, kind: RecordKind.activity.rawValue)
            step.outputs += decision.outputs
            step.rows += decision.rows
            let institution = (try? parsed.get())?["institutionId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? m.keyString ?? ""
            step.outputs.append(try .json(topic: Topic.receipts, key: institution, decision.receipt))
        }
        return step
    }
    func tick() throws -> StepResult { StepResult() }
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

let inbound = StreamProcessor(handler: InboundHandler(), store: store, configuration: config, producer: producer,
                              readiness: host.readiness, logger: host.logger)
await host.run(services: [inbound])
