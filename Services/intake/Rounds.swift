import Foundation
import Hummingbird
import IntakeLedger
import Kafka
import Logging
import Metrics
import ServiceRuntime

/// A value or the response that ends the request.
enum Outcome<T> { case success(T), failure(Response) }
extension Outcome: Sendable where T: Sendable {}

/// Group commit: the submissions that arrive while a round is with the broker are decided together in the next
/// round, in arrival order, published with one wait for the broker (acks=all) and committed to the ledger in
/// one transaction; each gets its own decision. If the broker or the store fails, every decision of the round
/// is rolled back and every submission of it answered 503: nothing of a refused request was acknowledged.
actor Rounds {
    struct Submission {
        var kind: RecordKind
        var prepared: [Prepared]
        var submitter: Submitter
        var reply: CheckedContinuation<Outcome<Decision>, Never>
    }
    private let ledger: SharedLedger
    private let producer: KafkaProducer
    private let store: StateStore
    private let logger: Logger
    private var queue: [Submission] = []
    private var running = false
    /// Records per round at most (a round's outputs are held in memory until acknowledged).
    let maxRecords = 20_000
    /// Time spent per phase of a round (decide, deliver to the broker, commit the ledger).
    private let phaseTimers: [String: Metrics.Timer]

    init(ledger: SharedLedger, producer: KafkaProducer, store: StateStore, logger: Logger) {
        self.ledger = ledger
        self.producer = producer
        self.store = store
        self.logger = logger
        phaseTimers = Dictionary(
            uniqueKeysWithValues: ["decide", "deliver", "commit"].map { ($0, Metrics.Timer(label: "intake_phase_seconds", dimensions: [("phase", $0)])) })
    }

    func submit(kind: RecordKind, prepared: [Prepared], submitter: Submitter) async -> Outcome<Decision> {
        await withCheckedContinuation { c in
            queue.append(Submission(kind: kind, prepared: prepared, submitter: submitter, reply: c))
            if !running {
                running = true
                Task { await drain() }
            }
        }
    }

    private func timed<T>(_ phase: String, _ work: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { phaseTimers[phase]?.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        return try await work()
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
                let rows = try decisions.flatMap { try LedgerStore.rows($0.changes) }
                let outputs = try BatchCodec.map(decisions.flatMap(\.outputs), OutgoingMessage.init)
                try await timed("deliver") { try await producer.deliverAll(outputs) }
                try await timed("commit") { try store.commit(rows: rows, offsets: [:]) }
                for (s, d) in zip(round, decisions) { s.reply.resume(returning: .success(d)) }
            } catch {
                ledger.rollback(decisions)
                logger.error("broker or ledger unavailable, requests refused", metadata: ["error": "\(error)", "requests": "\(round.count)"])
                // Some records may have reached the broker: none is remembered, and a resent record repeats an
                // event the services apply idempotently (same version, same registration, same count).
                let refused = problem(
                    .serviceUnavailable, "Service Unavailable", "the broker did not acknowledge every record; none was accepted: resend the request")
                for s in round { s.reply.resume(returning: .failure(refused)) }
            }
        }
        running = false
    }
}

/// Records per kind, institution and outcome, and rejections per error code (HTTP and inbound alike).
func recordMetrics(_ decision: Decision, kind: RecordKind) {
    // Counted per label set first: one counter lookup per distinct labels, not per record.
    var records: [[String]: Int] = [:], rejections: [[String]: Int] = [:]
    for o in decision.outcomes {
        records[[o.institution, o.outcome], default: 0] += 1
        for code in o.codes { rejections[[o.institution, code], default: 0] += 1 }
    }
    for (labels, n) in records {
        Counter(label: "intake_records_total", dimensions: [("kind", kind.rawValue), ("institution", labels[0]), ("outcome", labels[1])]).increment(by: n)
    }
    for (labels, n) in rejections {
        Counter(label: "intake_rejections_total", dimensions: [("kind", kind.rawValue), ("institution", labels[0]), ("code", labels[1])]).increment(by: n)
    }
}
