// publisher: suppression and publication of the current indicator values (npr.indicators, HTTP API,
// JSON-stat, CSV, server-sent events, dashboard).
import Foundation
import Hummingbird
import Kafka
import NPRCore
import Publishing
import ServiceRuntime

exit(
    await ServiceHost.main(service: "publisher") { host in
        let config = host.configuration
        host.ensureTopics()
        host.serveOpenAPI(from: .module)
        let store = try StateStore(path: config.storePath)
        let publication = Publication(
            broadcaster: Broadcaster(
                maxSubscribers: try config.integer("NPR_SSE_MAX_SUBSCRIBERS", default: 100, in: 1...10_000),
                bufferPerSubscriber: try config.integer("NPR_SSE_BUFFER_EVENTS", default: 10_000, in: 100...1_000_000, unit: "events"),
                keepAliveInterval: .seconds(try config.integer("NPR_SSE_KEEPALIVE_S", default: 15, in: 1...300, unit: "seconds"))),
            store: store)
        PublisherAPI(
            publication: publication, admin: try KafkaAdmin(connection: config.kafka, logger: host.logger), intakeURL: config.baseURL(of: "intake"),
            calculatorURL: config.baseURL(of: "indicator-calculator"), consumerGroup: { config.consumerGroup(of: $0) }
        ).register(on: host.router)
        host.onShutdown { publication.broadcaster.finishAll() }
        return [try host.streamProcessor(PublisherStage(publication: publication), store: store)]
    })
