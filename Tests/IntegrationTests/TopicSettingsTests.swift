import Foundation
import Kafka
import NPRCore
import ServiceRuntime
import Testing

/// Topics are created with the catalogue's settings (contracts/topics.json), replication fitted to the cluster.
@Suite struct TopicSettingsTests {
    @Test(arguments: [(1, 1, 1), (2, 2, 1), (3, 3, 2), (7, 3, 2)])
    func replicationFitsTheCluster(brokers: Int, factor: Int, minInsync: Int) {
        let r = Replication(brokers: brokers)
        #expect(r.factor == factor && r.minInsyncReplicas == minInsync)
    }

    @Test func everyTopicCarriesItsCatalogueSettings() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Build.root.appendingPathComponent("contracts/topics.json"))) as! [String: Any]
        let declared = Dictionary(uniqueKeysWithValues: (json["topics"] as! [[String: Any]]).map { ($0["name"] as! String, $0) })
        let specs = Topic.specs(brokers: 3)
        #expect(specs.count == declared.count)
        for spec in specs {
            let d = try #require(declared[spec.name])
            #expect(spec.partitions == d["partitions"] as? Int)
            #expect(spec.replicationFactor == 3)
            #expect(spec.configs["cleanup.policy"] == d["cleanupPolicy"] as? String)
            #expect(spec.configs["retention.ms"] == (d["retentionMs"] as? Int).map(String.init))
            #expect(spec.configs["min.insync.replicas"] == "2")
        }
    }
}
