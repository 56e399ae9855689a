// intake: hospitals and registers submit episodes, deaths, population counts and the unit register over HTTP
// (or the inbound topic); records are validated, pseudonymised and published with acks=all. This file is
// the composition root: configuration → ledger, store and producer → HTTP routes and the inbound stream. The
// decisions themselves are the pure IntakeLedger library's.
import Foundation
import IntakeLedger
import Kafka
import NPRCore
import ServiceRuntime

/// The municipality reference tables, published once at start on the compacted reference topic.
func publishMunicipalities(_ producer: KafkaProducer) {
    for m in MunicipalityRegister.byNumber.values.sorted(by: { $0.number < $1.number }) {
        if let o = try? OutgoingMessage.json(topic: Topic.municipalities, key: m.number, m, causes: Provenance(.init(.municipalityRegister))) {
            try? producer.send(o)
        }
    }
    try? producer.flush(timeout: .seconds(30))
}

exit(
    await ServiceHost.main(service: "intake") { host in
        let config = host.configuration
        let credentials = try Credentials(configuration: config)
        let backpressureSettings = try Backpressure.Settings(configuration: config)
        let maxInFlight = try config.integer("NPR_INTAKE_MAX_REQUESTS", default: 64, in: 1...10_000)
        let deliveryTimeoutMs = try config.integer("INTAKE_DELIVERY_TIMEOUT_MS", default: 10_000, in: 1...600_000, unit: "milliseconds")
        host.ensureTopics()
        host.serveOpenAPI(from: .module)
        let store = try StateStore(path: config.storePath, durable: true)
        let ledger = SharedLedger(Ledger(pseudonymizer: Pseudonymizer(key: credentials.pseudonymKey), restoring: try LedgerStore.load(from: store)))
        let producer = try host.makeProducer(deliveryTimeoutMs: deliveryTimeoutMs)
        let rounds = Rounds(ledger: ledger, producer: producer, store: store, logger: host.logger)
        let backpressure = try Backpressure(settings: backpressureSettings, configuration: config, logger: host.logger)
        HTTPAPI(
            credentials: credentials, ledger: ledger, rounds: rounds, backpressure: backpressure, maxInFlight: maxInFlight,
            bodyTimeoutSeconds: config.httpLimits.bodyTimeoutSeconds
        ).register(on: host.router)
        publishMunicipalities(producer)
        let inbound = InboundStage(signers: InboundSigners(tokens: credentials.tokens), ledger: ledger, rounds: rounds)
        return [try host.streamProcessor(inbound, store: store, producer: producer)]
    })
