import Foundation
import IntakeLedger
import IntakeValidation
import Kafka
import NPRCore
import ServiceRuntime
import Synchronization

/// Hospitals producing to npr.activities.inbound: the same validation, decided in the same rounds as HTTP
/// requests (one gate, so a round's rollback never undoes another path's decision); one receipt per record
/// on npr.intake.receipts (`InboundReceipt`). The rounds commit the ledger before the runtime commits the
/// inbound offsets: after a crash between the two, replayed records are duplicates, never counted twice.
struct InboundStage: StreamStage {
    let signers: InboundSigners
    let ledger: SharedLedger
    let rounds: Rounds

    struct Input: Sendable {
        var origin: DeadLetter.Origin
        var record: Result<JSONValue, JSONParseError>
        /// From the record's signature (`InboundSigners`).
        var mayReportFor: Set<String>
    }
    /// Parsing is part of deciding: a record that is not JSON gets a receipt like any rejected record.
    var inputs: StreamInputs<Input> {
        StreamInputs(
            service: "intake",
            [
                Topic.activitiesInbound: { [signers] m in
                    let record: Result<JSONValue, JSONParseError>
                    do throws(JSONParseError) { record = .success(try JSONValue.parse(m.value ?? [])) } catch { record = .failure(error) }
                    return Input(origin: DeadLetter.Origin(m), record: record, mayReportFor: signers.institutions(of: m))
                }
            ])
    }

    /// Records read since the last flush; the ledger is intake's, restored by it.
    var received: [Input] = []
    var pendingOutputs: Int { received.count }
    func restore(from store: StateStore) throws {}

    mutating func apply(_ input: Input, causes _: Provenance) { received.append(input) }

    mutating func flush() throws -> StepResult {
        guard !received.isEmpty else { return StepResult() }
        let records = received
        received = []
        let signers = records.map { Caller(institutions: $0.mayReportFor) }
        let prepared = try ledger.prepare(
            kind: .activity, records: records.map(\.record), mayReport: { i, institution in signers[i].mayReport(for: institution) })
        let submitter = Submitter(channel: "kafka", reporter: "inbound", origins: records.map(\.origin))
        // The broker or the ledger unavailable: wait and decide again (nothing of a failed round was kept).
        // Past two minutes the service stops instead, so a shutdown is never held; its inbound offsets were
        // not committed, so a restart decides the same records again.
        var backoff: UInt32 = 100
        let deadline = ContinuousClock.now + .seconds(120)
        var decision: Decision
        while true {
            if case .success(let d) = awaitBlocking({ [rounds] in await rounds.submit(kind: .activity, prepared: prepared, submitter: submitter) }) {
                decision = d
                break
            }
            guard ContinuousClock.now < deadline else { throw InboundUnavailable() }
            usleep(backoff * 1000)
            backoff = min(backoff * 2, 5000)
        }
        recordMetrics(decision, kind: .activity)
        let messageIds = records.map { (try? $0.record.get())?["messageId"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } }
        let receipts = InboundReceipt.receipts(
            for: decision, origins: records.map(\.origin), messageIds: messageIds, pseudonymizer: ledger.pseudonymizer)
        // Keyed by the institution once the record proved it may report for it; rejected records by the inbound
        // partition (hospitals find them by partition and offset).
        return StepResult(
            outputs: try zip(receipts, decision.outcomes).map { receipt, outcome in
                try .json(
                    topic: Topic.receipts, key: outcome.outcome == "rejected" ? "partition-\(receipt.origin.partition)" : outcome.institution, receipt)
            })
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
