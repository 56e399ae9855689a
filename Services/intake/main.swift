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

let host: ServiceHost
do { host = try ServiceHost.start(service: "intake") } catch { exit(ServiceHost.exitStatus(reporting: error, service: "intake")) }
let config = host.configuration

/// Pseudonym key: explicit in production (`PseudonymKey.parse`); generated once under the state directory in
/// development, where a key that cannot be kept is an error (a new key each start would break linking).
func loadPseudonymKey() throws -> SymmetricKey {
    if let text = config.environment["NPR_PSEUDONYM_KEY"], !text.isEmpty {
        return try PseudonymKey.parse(text, variable: "NPR_PSEUDONYM_KEY")
    }
    if let file = config.environment["NPR_PSEUDONYM_KEY_FILE"], !file.isEmpty {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError(variable: "NPR_PSEUDONYM_KEY_FILE", problem: "cannot read \(file)")
        }
        return try PseudonymKey.parse(String(decoding: data, as: UTF8.self), variable: "NPR_PSEUDONYM_KEY_FILE")
    }
    guard config.mode == .development else {
        throw ConfigurationError(variable: "NPR_PSEUDONYM_KEY", problem: "production mode needs NPR_PSEUDONYM_KEY or NPR_PSEUDONYM_KEY_FILE")
    }
    let path = config.stateDirectory + "/pseudonym.key"
    if let existing = FileManager.default.contents(atPath: path) { return SymmetricKey(data: existing) }
    try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true)
    let key = SymmetricKey(size: .bits256)
    guard FileManager.default.createFile(atPath: path, contents: key.withUnsafeBytes { Data($0) }, attributes: [.posixPermissions: 0o600]) else {
        throw ConfigurationError(variable: "NPR_STATE_DIR", problem: "cannot keep the development pseudonym key at \(path)")
    }
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
let backpressureSettings: Backpressure.Settings
do {
    ledger = Ledger(pseudonymKey: try loadPseudonymKey())
    tokens = try loadTokens()
    backpressureSettings = try Backpressure.Settings(configuration: config)
} catch {
    FileHandle.standardError.write(Data("intake: \(error)\n".utf8))
    exit(2)
}
host.ensureTopics()
host.serveOpenAPI(from: .module)
let store = try StateStore(path: config.storePath, durable: true)
try ledger.restore(from: store)
let producer = try host.makeProducer(deliveryTimeoutMs: Int(config.environment["INTAKE_DELIVERY_TIMEOUT_MS"] ?? "") ?? 10000)
let inFlight = Mutex(0)
/// Flow control: requests wait while a downstream consumer is too far behind (see `Backpressure`).
let backpressure = try Backpressure(settings: backpressureSettings, configuration: config, logger: host.logger)

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

/// Who submits: the institutions a token covers (`*`: every one, the admin).
struct Caller {
    let institutions: Set<String>
    var isAdmin: Bool { institutions.contains("*") }
    func mayReport(for institution: String) -> Bool { isAdmin || institutions.contains(institution) }
}

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

struct DeadlinePassed: Error {}

/// `work`, or `DeadlinePassed` once `limit` has passed (the work is cancelled).
func within<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlinePassed()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Reads the body as JSON array or NDJSON records, enforcing the limits.
func readRecords(_ request: Request) async -> Outcome<[Result<JSONValue, JSONParseError>]> {
    let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "application/json"
    guard type == "application/json" || type == "application/x-ndjson" else {
        return .failure(problem(.unsupportedMediaType, "Unsupported Media Type", "send application/json (array) or application/x-ndjson"))
    }
    let buffer: ByteBuffer
    let timeout = config.httpLimits.bodyTimeoutSeconds
    do {
        buffer = try await within(.seconds(timeout)) { try await request.body.collect(upTo: Limits.maxBodyBytes) }
    } catch is DeadlinePassed {
        return .failure(problem(.requestTimeout, "Request Timeout", "the body did not arrive within \(timeout) seconds"))
    } catch {
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
let phaseTimers = Dictionary(
    uniqueKeysWithValues: ["decide", "deliver", "commit"].map {
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
    struct Submission {
        var kind: RecordKind
        var prepared: [Prepared]
        var submitter: Submitter
        var reply: CheckedContinuation<Outcome<Decision>, Never>
    }
    private var queue: [Submission] = []
    private var running = false
    /// Records per round at most (a round's outputs are held in memory until acknowledged).
    let maxRecords = 20_000

    func submit(kind: RecordKind, prepared: [Prepared], submitter: Submitter) async -> Outcome<Decision> {
        await withCheckedContinuation { c in
            queue.append(Submission(kind: kind, prepared: prepared, submitter: submitter, reply: c))
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
            let decisions = await timed("decide") { round.map { ledger.decide(kind: $0.kind, prepared: $0.prepared, submitter: $0.submitter) } }
            do {
                let rows = try decisions.flatMap { try $0.allRows() }
                try await timed("deliver") { try await producer.deliverAll(decisions.flatMap(\.outputs)) }
                try await timed("commit") { try store.commit(rows: rows, offsets: [:]) }
                for (s, d) in zip(round, decisions) { s.reply.resume(returning: .success(d)) }
            } catch {
                for d in decisions.reversed() { ledger.rollback(d) }
                host.logger.error("broker or ledger unavailable, requests refused", metadata: ["error": "\(error)", "requests": "\(round.count)"])
                // Some records may have reached the broker: none is remembered, and a resent record repeats an
                // event the services apply idempotently (same version, same registration, same count).
                let refused = problem(
                    .serviceUnavailable, "Service Unavailable",
                    "the broker did not acknowledge every record; none was accepted: resend the request")
                for s in round { s.reply.resume(returning: .failure(refused)) }
            }
        }
        running = false
    }
}
let rounds = Rounds()

/// Requests inside intake at once (`NPR_INTAKE_MAX_REQUESTS`); more are answered 503 at once.
let maxInFlight = try config.integer("NPR_INTAKE_MAX_REQUESTS", default: 64, in: 1...10_000)

func retryLater(_ detail: String) -> Response { problem(.serviceUnavailable, "Service Unavailable", detail, retryAfterSeconds: 5) }

func receiptResponse(_ r: Receipt) throws -> Response {
    json(try JSONCodec.encode(r))
}

func submit(_ request: Request, kind: RecordKind, adminOnly: Bool) async throws -> Response {
    let started = ContinuousClock.now
    defer {
        let elapsed = ContinuousClock.now - started
        requestTimer("/v1/\(kind.rawValue)").recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    let caller: Caller
    switch authenticate(request) {
    case .failure(let r): return r
    case .success(let c): caller = c
    }
    if adminOnly && !caller.isAdmin { return problem(.forbidden, "Forbidden", "only the admin token may submit \(kind.rawValue) records") }
    // Admission before the body is read: a waiting request holds its body in the socket, not in memory, and
    // at most `maxInFlight` requests are inside at once.
    guard
        inFlight.withLock({ n -> Bool in
            guard n < maxInFlight else { return false }
            n += 1
            return true
        })
    else {
        return retryLater("\(maxInFlight) requests are already being handled; nothing was accepted, retry after the delay")
    }
    defer { inFlight.withLock { $0 -= 1 } }
    guard await backpressure.admit() else {
        return retryLater("the pipeline is too far behind to accept more now; nothing was accepted, retry after the delay")
    }
    let records: [Result<JSONValue, JSONParseError>]
    switch await readRecords(request) {
    case .failure(let r): return r
    case .success(let rs): records = rs
    }
    let prepared = try ledger.prepare(kind: kind, records: records, mayReport: { _, institution in caller.mayReport(for: institution) })
    switch await rounds.submit(kind: kind, prepared: prepared, submitter: Submitter(httpCaller: caller.institutions)) {
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
    switch authenticate(request) {
    case .failure(let r): return r
    case .success(let c): caller = c
    }
    guard caller.isAdmin else { return problem(.forbidden, "Forbidden", "only the admin token may change the unit register") }
    let records: [Result<JSONValue, JSONParseError>]
    switch await readRecords(request) {
    case .failure(let r): return r
    case .success(let rs): records = rs
    }
    switch await rounds.submit(
        kind: .unit, prepared: try ledger.prepare(kind: .unit, records: records, mayReport: { _, _ in true }),
        submitter: Submitter(httpCaller: caller.institutions))
    {
    case .failure(let response): return response
    case .success(let decision):
        recordMetrics(decision, kind: RecordKind.unit.rawValue)
        return try receiptResponse(decision.receipt)
    }
}
/// Reporting quality per institution (delays, closed inpatient episodes without an end type, last message),
/// suppressed where it rests on fewer than 5 episodes; the publisher serves it beside the indicators.
router.get("/v1/quality") { _, _ -> Response in
    let body = try JSONCodec.data(ledger.qualityReport())
    return json(body)
}
router.get("/v1/inflight") { _, _ -> Response in
    struct InFlight: Encodable {
        var inFlight: Int
        var backpressure: Backpressure.Sample?
    }
    let body = try JSONCodec.data(InFlight(inFlight: inFlight.withLock { $0 }, backpressure: backpressure.current))
    return json(body)
}

/// Hospitals producing to npr.activities.inbound: the same validation, decided in the same rounds as HTTP
/// requests (one gate, so a round's rollback never undoes another path's decision); one receipt per record
/// on npr.intake.receipts (`InboundReceipt`). The rounds commit the ledger before the runtime commits the
/// inbound offsets: after a crash between the two, replayed records are duplicates, never counted twice.
final class InboundHandler: StreamHandler, @unchecked Sendable {
    let inputTopics = Topic.inputs(of: "intake")
    func restore(from store: StateStore) throws {}
    let signers: InboundSigners
    init(signers: InboundSigners) { self.signers = signers }

    struct Input: Sendable {
        var origin: DeadLetter.Origin
        var record: Result<JSONValue, JSONParseError>
        /// From the record's signature (`InboundSigners`).
        var mayReportFor: Set<String>
    }
    /// Records read since the last flush (stream thread only).
    var received: [Input] = []
    var pendingOutputs: Int { received.count }

    /// Parsing is part of deciding: a record that is not JSON gets a receipt like any rejected record.
    func decode(_ m: ConsumedMessage) -> Input {
        let record: Result<JSONValue, JSONParseError>
        do throws(JSONParseError) { record = .success(try JSONValue.parse(m.value ?? [])) } catch { record = .failure(error) }
        return Input(origin: DeadLetter.Origin(m), record: record, mayReportFor: signers.institutions(of: m))
    }

    func apply(_ input: Input, from _: ConsumedMessage) { received.append(input) }

    func flush() throws -> StepResult {
        guard !received.isEmpty else { return StepResult() }
        let records = received
        received = []
        let signers = records.map { Caller(institutions: $0.mayReportFor) }
        let prepared = try ledger.prepare(
            kind: .activity, records: records.map(\.record),
            mayReport: { i, institution in signers[i].mayReport(for: institution) })
        let submitter = Submitter(channel: "kafka", reporter: "inbound", origins: records.map(\.origin))
        // The broker or the ledger unavailable: wait and decide again (nothing of a failed round was kept).
        // Past two minutes the service stops instead, so a shutdown is never held; its inbound offsets were
        // not committed, so a restart decides the same records again.
        var backoff: UInt32 = 100
        let deadline = ContinuousClock.now + .seconds(120)
        var decision: Decision
        while true {
            if case .success(let d) = awaitBlocking({ await rounds.submit(kind: .activity, prepared: prepared, submitter: submitter) }) {
                decision = d
                break
            }
            guard ContinuousClock.now < deadline else { throw InboundUnavailable() }
            usleep(backoff * 1000)
            backoff = min(backoff * 2, 5000)
        }
        recordMetrics(decision, kind: RecordKind.activity.rawValue)
        let errors = Dictionary(grouping: decision.receipt.rejected, by: \.index)
        let warnings = Dictionary(grouping: decision.receipt.warnings, by: \.index)
        var receipts: [OutgoingMessage] = []
        for (index, input) in records.enumerated() {
            let origin = input.origin, record = input.record
            let outcome = decision.outcomes[index]
            let messageId = (try? record.get())?["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
            let receipt = InboundReceipt(
                origin: origin, messageIdHash: messageId.map(ledger.keyedHash), outcome: outcome.outcome,
                errors: (errors[index] ?? []).flatMap(\.errors),
                warnings: (warnings[index] ?? []).map { .init(field: $0.field, code: $0.code, message: $0.message) })
            // Keyed by the institution once the record proved it may report for it; rejected records by the
            // inbound partition (hospitals find them by partition and offset).
            receipts.append(
                try .json(topic: Topic.receipts, key: outcome.outcome == "rejected" ? "partition-\(origin.partition)" : outcome.institution, receipt))
        }
        return StepResult(outputs: receipts)
    }
}

struct InboundUnavailable: Error, CustomStringConvertible {
    var description: String { "the broker or the ledger did not take inbound records for two minutes" }
}

/// Runs async work from a thread outside the concurrency pool (the stream thread) and waits for it.
func awaitBlocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let result = Mutex<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await work()
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return result.withLock { $0! }
}

/// The municipality reference tables, published once at start on the compacted reference topic.
func publishMunicipalities() async {
    let entries = MunicipalityRegister.byNumber.values.sorted { $0.number < $1.number }
    for m in entries {
        if let o = try? OutgoingMessage.json(topic: Topic.municipalities, key: m.number, m, causes: Provenance(.init(.municipalityRegister))) {
            try? producer.send(o)
        }
    }
    try? producer.flush(timeout: .seconds(30))
}
await publishMunicipalities()

let inbound = try StreamProcessor(
    handler: InboundHandler(signers: InboundSigners(tokens: tokens)), store: store, configuration: config, producer: producer,
    readiness: host.readiness, logger: host.logger)
exit(await host.run(services: [inbound]))
