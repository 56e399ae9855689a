import Foundation
import Kafka
import NPRCore
import ServiceRuntime
import Testing

struct KafkaSettingsTests {
    let base = ["KAFKA_BOOTSTRAP_SERVERS": "broker:9092", "NPR_INSTANCE": "a1"]

    @Test func everyKafkaVariableBecomesALibrdkafkaProperty() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-password-\(UUID().uuidString)")
        try "s3cret\n".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let c = try ServiceConfiguration(
            service: "episode-linker",
            environment: base.merging([
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "npr",
                "KAFKA_SASL_PASSWORD_FILE": secret.path, "KAFKA_SSL_CA_LOCATION": "/etc/ssl/ca.pem",
            ]) { $1 })
        #expect(
            c.kafka.properties == [
                "bootstrap.servers": "broker:9092", "client.id": "episode-linker-a1", "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "npr", "sasl.password": "s3cret", "ssl.ca.location": "/etc/ssl/ca.pem",
            ])
        #expect(c.consumerGroup() == "npr-tsb.episode-linker")
        #expect(c.consumerGroup(of: "publisher") == "npr-tsb.publisher")
        #expect(c.clusterName == "npr-tsb")
    }

    @Test func groupPrefixAndClusterNameComeFromTheEnvironment() throws {
        let c = try ServiceConfiguration(service: "publisher", environment: base.merging(["NPR_GROUP_PREFIX": "test.", "NPR_CLUSTER_NAME": "prod"]) { $1 })
        #expect(c.consumerGroup() == "test.publisher")
        #expect(c.clusterName == "prod")
    }

    @Test func unknownReservedOrUnreadableSettingsAreConfigurationErrorsNamingTheVariable() {
        func problem(_ extra: [String: String]) -> String? {
            do {
                _ = try ServiceConfiguration(service: "intake", environment: base.merging(extra) { $1 })
                return nil
            } catch let e as ConfigurationError {
                return e.variable + ": " + e.problem
            } catch { return "\(error)" }
        }
        #expect(problem(["KAFKA_NO_SUCH_THING": "1"])?.hasPrefix("KAFKA_NO_SUCH_THING") == true)
        #expect(problem(["KAFKA_ENABLE_AUTO_COMMIT": "true"])?.contains("set by the services") == true)
        #expect(problem(["KAFKA_ACKS": "1"])?.hasPrefix("KAFKA_ACKS") == true)
        #expect(problem(["KAFKA_CLIENT_ID": "x"])?.contains("NPR_INSTANCE") == true)
        #expect(problem(["KAFKA_SASL_PASSWORD_FILE": "/nonexistent/secret"])?.hasPrefix("KAFKA_SASL_PASSWORD_FILE") == true)
        #expect(problem([:]) == nil)
    }
}

struct TopicCheckTests {
    let specs = Topic.specs(brokers: 3)
    var asDeclared: [String: TopicShape] {
        Dictionary(uniqueKeysWithValues: specs.map { ($0.name, TopicShape(partitions: $0.partitions, replicationFactor: $0.replicationFactor)) })
    }

    @Test func aClusterMadeFromTheCatalogueHasNoDrift() {
        let configs = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.configs.merging(["segment.bytes": "1073741824"]) { a, _ in a }) })
        #expect(TopicCheck.drift(expected: specs, actual: asDeclared, configs: configs).isEmpty)
        #expect(TopicCheck.drift(expected: specs, actual: asDeclared, configs: nil).isEmpty)
    }

    @Test func everyKindOfDifferenceIsReported() {
        var topics = asDeclared
        var configs = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.configs) })
        topics[Topic.cells]?.partitions = 3
        topics[Topic.units] = nil
        topics[Topic.stays]?.replicationFactor = 1
        configs[Topic.indicators]?["cleanup.policy"] = "delete"
        configs[Topic.deaths]?["min.insync.replicas"] = nil
        let drift = TopicCheck.drift(expected: specs, actual: topics, configs: configs)
        #expect(drift.count == 5)
        #expect(drift.contains("\(Topic.cells): 3 partitions, declared 6"))
        #expect(drift.contains("\(Topic.units): missing"))
        #expect(drift.contains { $0.hasPrefix("\(Topic.stays): replication factor 1") })
        #expect(drift.contains("\(Topic.indicators): cleanup.policy is delete, declared compact"))
        #expect(drift.contains("\(Topic.deaths): min.insync.replicas is unset, declared 2"))
    }
}

struct MetricsExpositionTests {
    @Test func everyFamilyGetsItsHelpLineOnce() {
        let text = """
            # TYPE npr_consumed_messages_total counter
            npr_consumed_messages_total{service="x"} 5
            # HELP intake_records_total Already described.
            # TYPE intake_records_total counter
            intake_records_total 1

            """
        let described = MetricCatalogue.describing(text)
        #expect(
            described.contains(
                "# HELP npr_consumed_messages_total \(MetricCatalogue.help["npr_consumed_messages_total"]!)\n# TYPE npr_consumed_messages_total counter"))
        #expect(described.components(separatedBy: "# HELP intake_records_total").count == 2)
        #expect(described.hasSuffix("intake_records_total 1\n"))
    }

    @Test func theCatalogueHasValidNamesAndTexts() {
        for (name, text) in MetricCatalogue.help {
            #expect(name.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil, "\(name)")
            #expect(!text.isEmpty && !text.contains("\n"), "\(name)")
        }
    }

    @Test func theLagReportUsesKafkaLagExporterNamesAndLabels() {
        let p = LagMonitor.Partition(
            topic: "npr.cells", partition: 2, committedOffset: 40, logStartOffset: 0, endOffset: 100, lagMessages: 60,
            lagSeconds: 1.5, status: .warn, reason: "", memberHost: "/10.0.0.1", consumerId: "m-1", clientId: "publisher-a")
        let g = LagMonitor.Group(service: "publisher", group: "npr-tsb.publisher", status: .warn, partitions: [p])
        let text = LagMonitor.Report(clusterName: "npr-tsb", sampledAt: "", samples: 2, windowSeconds: 1, groups: [g]).exposition
        #expect(
            text.contains(
                #"kafka_consumergroup_group_lag{cluster_name="npr-tsb",group="npr-tsb.publisher",topic="npr.cells",partition="2",member_host="/10.0.0.1",consumer_id="m-1",client_id="publisher-a"} 60"#
            ))
        #expect(
            text.contains(
                #"kafka_consumergroup_group_lag_seconds{cluster_name="npr-tsb",group="npr-tsb.publisher",topic="npr.cells",partition="2",member_host="/10.0.0.1",consumer_id="m-1",client_id="publisher-a"} 1.5"#
            ))
        #expect(text.contains(#"kafka_consumergroup_group_max_lag{cluster_name="npr-tsb",group="npr-tsb.publisher",is_simple_consumer="false"} 60"#))
        #expect(text.contains(#"kafka_consumergroup_group_sum_lag{cluster_name="npr-tsb",group="npr-tsb.publisher",is_simple_consumer="false"} 60"#))
        #expect(text.contains(#"kafka_consumergroup_group_max_lag_seconds{cluster_name="npr-tsb",group="npr-tsb.publisher",is_simple_consumer="false"} 1.5"#))
        #expect(text.contains(#"kafka_partition_latest_offset{cluster_name="npr-tsb",topic="npr.cells",partition="2"} 100"#))
        #expect(text.contains(#"kafka_partition_earliest_offset{cluster_name="npr-tsb",topic="npr.cells",partition="2"} 0"#))
        #expect(text.contains(#"npr_consumergroup_status{cluster_name="npr-tsb",group="npr-tsb.publisher"} 1"#))
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let name = line.split(separator: " ")[2]
            #expect(text.contains("# HELP \(name) "), "\(name)")
        }
    }
}

struct OpenAPIRouteTests {
    @Test func routesAndDocumentMustAgree() throws {
        let doc = Data(#"{"openapi":"3.1.0","paths":{"/v1/a":{"get":{},"post":{},"parameters":[]},"/v1/b/{id}":{"put":{}}}}"#.utf8)
        #expect(try ServiceHost.openAPIDrift(routes: ["GET /v1/a", "POST /v1/a", "PUT /v1/b/{id}"], document: doc).isEmpty)
        let drift = try ServiceHost.openAPIDrift(routes: ["GET /v1/a", "GET /v1/c"], document: doc)
        #expect(
            drift == [
                "GET /v1/c: served but not in openapi.json", "POST /v1/a: in openapi.json but not served",
                "PUT /v1/b/{id}: in openapi.json but not served",
            ])
    }
}
