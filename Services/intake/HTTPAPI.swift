import Foundation
import Hummingbird
import IntakeLedger
import IntakeValidation
import Metrics
import ServiceRuntime
import Synchronization

/// Request limits: the parser's (documented in docs/intake-errors.md).
enum Limits {
    static let maxBodyBytes = JSONLimits.default.maxTotalBytes
    static let maxRecords = JSONLimits.default.maxRecords
}

/// Intake's HTTP routes: submissions of each record kind, the unit register, and the reporting-quality report.
final class HTTPAPI: Sendable {
    let credentials: Credentials
    let ledger: SharedLedger
    let rounds: Rounds
    /// Flow control: requests wait while a downstream consumer is too far behind (see `Backpressure`).
    let backpressure: Backpressure
    /// Requests inside intake at once (`NPR_INTAKE_MAX_REQUESTS`); more are answered 503 at once.
    let maxInFlight: Int
    let inFlight = Mutex(0)
    let bodyTimeoutSeconds: Int

    init(credentials: Credentials, ledger: SharedLedger, rounds: Rounds, backpressure: Backpressure, maxInFlight: Int, bodyTimeoutSeconds: Int) {
        self.credentials = credentials
        self.ledger = ledger
        self.rounds = rounds
        self.backpressure = backpressure
        self.maxInFlight = maxInFlight
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
    }

    func register(on router: HTTPRouter) {
        router.post(RouterPath(RecordKind.activity.route)) { [self] request, _ in try await submit(request, kind: .activity, adminOnly: false) }
        router.post(RouterPath(RecordKind.death.route)) { [self] request, _ in try await submit(request, kind: .death, adminOnly: true) }
        router.post(RouterPath(RecordKind.population.route)) { [self] request, _ in try await submit(request, kind: .population, adminOnly: true) }
        router.put(RouterPath(RecordKind.unit.route)) { [self] request, _ in try await submit(request, kind: .unit, adminOnly: true) }
        /// Reporting quality per institution (delays, closed inpatient episodes without an end type, last message),
        /// suppressed where it rests on fewer than 5 episodes; the publisher serves it beside the indicators.
        router.get("/v1/quality") { [self] _, _ -> Response in json(try JSONCodec.data(ledger.qualityReport())) }
        router.get("/v1/inflight") { [self] _, _ -> Response in
            struct InFlight: Encodable {
                var inFlight: Int
                var backpressure: Backpressure.Sample?
            }
            return json(try JSONCodec.data(InFlight(inFlight: inFlight.withLock { $0 }, backpressure: backpressure.current)))
        }
    }

    private func retryLater(_ detail: String) -> Response { problem(.serviceUnavailable, "Service Unavailable", detail, retryAfterSeconds: 5) }

    /// Submissions of records of one kind. The unit register is the admin's and is never held back by flow
    /// control: the services need it to go on.
    private func submit(_ request: Request, kind: RecordKind, adminOnly: Bool) async throws -> Response {
        let started = ContinuousClock.now
        defer {
            Metrics.Timer(label: "intake_request_seconds", dimensions: [("path", kind.route)]).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
        let caller: Caller
        switch credentials.caller(authorization: request.headers[.authorization]) {
        case .failure(let unauthorized): return problem(.unauthorized, "Unauthorized", unauthorized.detail)
        case .success(let c): caller = c
        }
        if adminOnly && !caller.isAdmin {
            return problem(
                .forbidden, "Forbidden",
                kind == .unit ? "only the admin token may change the unit register" : "only the admin token may submit \(kind.rawValue) records")
        }
        // Flow control, before the body is read (a waiting request holds its body in the socket, not in memory):
        // at most `maxInFlight` requests inside at once, and none while the pipeline is too far behind.
        let gated = kind != .unit
        if gated {
            guard
                inFlight.withLock({ n -> Bool in
                    guard n < maxInFlight else { return false }
                    n += 1
                    return true
                })
            else {
                return retryLater("\(maxInFlight) requests are already being handled; nothing was accepted, retry after the delay")
            }
        }
        defer { if gated { inFlight.withLock { $0 -= 1 } } }
        if gated, await !backpressure.admit() {
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
            recordMetrics(decision, kind: kind)
            return json(try JSONCodec.encode(decision.receipt))
        }
    }

    /// Reads the body as JSON array or NDJSON records, enforcing the limits.
    private func readRecords(_ request: Request) async -> Outcome<[Result<JSONValue, JSONParseError>]> {
        let type =
            request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "application/json"
        guard type == "application/json" || type == "application/x-ndjson" else {
            return .failure(problem(.unsupportedMediaType, "Unsupported Media Type", "send application/json (array) or application/x-ndjson"))
        }
        let buffer: ByteBuffer
        let timeout = bodyTimeoutSeconds
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
}

extension RecordKind {
    /// Where records of this kind are submitted (also the request timer's label).
    var route: String {
        switch self {
        case .activity: "/v1/activities"
        case .death: "/v1/deaths"
        case .population: "/v1/population"
        case .unit: "/v1/reference/units"
        }
    }
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
