import CRdKafka
import Logging

/// librdkafka's in-memory mock cluster (rdkafka_mock.h): speaks the Kafka protocol over TCP on
/// loopback. Data lives in memory only, at most 5 MiB or 100 000 batches per partition.
public final class MockCluster: @unchecked Sendable {
    let client: NativeClient
    let cluster: OpaquePointer

    public init(brokers: Int, logger: Logger) throws {
        var config = KafkaConfig()
        config["log_level"] = "4"
        client = try NativeClient(RD_KAFKA_PRODUCER, config: config, context: ClientContext(name: "mock", logger: logger))
        guard let mc = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            client.destroy()
            throw KafkaError(code: -1, message: "mock cluster could not start")
        }
        cluster = mc
    }

    public var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "create topic \(name)") }
    }

    public func setBrokerDown(_ id: Int32) throws {
        let err = rd_kafka_mock_broker_set_down(cluster, id)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "broker \(id) down") }
    }

    public func setBrokerUp(_ id: Int32) throws {
        let err = rd_kafka_mock_broker_set_up(cluster, id)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "broker \(id) up") }
    }

    public func setLatency(broker id: Int32, milliseconds: Int) throws {
        let err = rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "broker \(id) rtt") }
    }

    /// The next `count` requests of Kafka API `apiKey` fail with error `code`.
    public func pushRequestErrors(apiKey: Int16, code: Int32, count: Int) {
        let errs = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(code), count: count)
        errs.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, $0.baseAddress) }
    }

    public func clearRequestErrors(apiKey: Int16) { rd_kafka_mock_clear_request_errors(cluster, apiKey) }

    public func close() {
        rd_kafka_mock_cluster_destroy(cluster)
        client.destroy()
    }
}
