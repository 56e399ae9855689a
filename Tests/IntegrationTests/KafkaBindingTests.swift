import Foundation
import Kafka
import Logging
import NPRCore
import SyntheticData
import Testing

let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

func producer(_ bootstrap: String) throws -> KafkaProducer {
    var c = KafkaConfig.producer(bootstrap: bootstrap)
    c["statistics.interval.ms"] = "0"
    return try KafkaProducer(config: c, name: "test-producer", logger: quiet)
}

func consumer(_ bootstrap: String, group: String) throws -> KafkaConsumer {
    var c = KafkaConfig.consumer(bootstrap: bootstrap, group: group)
    c["statistics.interval.ms"] = "0"
    return try KafkaConsumer(config: c, name: "test-consumer", logger: quiet)
}

/// Consumes with manual commits; the committed offsets play the role of a service's store.
final class CommittedOffsets: @unchecked Sendable {
    var offsets: [TopicPartition: Int64] = [:]
    var revokedBeforeReassign = 0
    var revokes = 0
}

@Suite(.serialized) struct KafkaBindingTests {
    @Test func roundTripWithCrashedConsumerLosesNothing() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let topic = "npr.activities"
        let total = 100_000
        let p = try producer(broker.bootstrap)
        for i in 0..<total {
            try p.send(OutgoingMessage(topic: topic, key: "k\(i % 997)", value: Array("\(i)".utf8)))
        }
        try p.flush()
        p.close()

        let store = CommittedOffsets()
        var processed: [Int] = []
        var processedAfterLastCommit: [Int] = []
        // First consumer: commits every batch but the last it reads, then "crashes" (closes without commit).
        do {
            let c = try consumer(broker.bootstrap, group: "roundtrip")
            try c.subscribe(
                topics: [topic],
                hooks: RebalanceHooks(
                    onAssign: { tps in
                        Dictionary(uniqueKeysWithValues: tps.map { ($0, store.offsets[$0] ?? KafkaOffset.beginning) })
                    }, onRevoke: { _ in }))
            var batches = 0
            while processed.count < total / 2 {
                let batch = try c.poll(maxMessages: 1000, timeout: .seconds(5))
                guard !batch.isEmpty else { continue }
                let values = batch.map { Int(String(decoding: $0.value!, as: UTF8.self))! }
                processed += values
                batches += 1
                if processed.count < total / 2 {
                    for m in batch { store.offsets[m.topicPartition] = max(store.offsets[m.topicPartition] ?? 0, m.offset + 1) }
                    try c.commit(store.offsets)
                } else {
                    processedAfterLastCommit = values
                }
            }
            c.close()
        }
        // Restart: resume from the stored offsets and read to the end.
        let c2 = try consumer(broker.bootstrap, group: "roundtrip")
        try c2.subscribe(
            topics: [topic],
            hooks: RebalanceHooks(
                onAssign: { tps in
                    Dictionary(uniqueKeysWithValues: tps.map { ($0, store.offsets[$0] ?? KafkaOffset.beginning) })
                }, onRevoke: { _ in }))
        var second: [Int] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while Set(processed + second).count < total, ContinuousClock.now < deadline {
            second += try c2.poll(maxMessages: 5000, timeout: .seconds(1)).map { Int(String(decoding: $0.value!, as: UTF8.self))! }
        }
        c2.close()
        #expect(Set(processed + second) == Set(0..<total))
        let all = processed + second
        let duplicates = Dictionary(all.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }.map(\.key)
        #expect(Set(duplicates) == Set(processedAfterLastCommit))
    }

    @Test func rebalanceRunsRevokeHookBeforeReassignment() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let topic = "npr.stays"
        let p = try producer(broker.bootstrap)
        for i in 0..<6000 { try p.send(OutgoingMessage(topic: topic, key: "p\(i)", value: Array("\(i)".utf8))) }
        try p.flush()
        let store = CommittedOffsets()
        let lock = NSLock()
        func hooks(_ name: String, _ seen: @escaping @Sendable ([TopicPartition]) -> Void) -> RebalanceHooks {
            RebalanceHooks(
                onAssign: { tps in
                    lock.lock()
                    defer { lock.unlock() }
                    seen(tps)
                    return Dictionary(uniqueKeysWithValues: tps.map { ($0, store.offsets[$0] ?? KafkaOffset.beginning) })
                },
                onRevoke: { _ in
                    lock.lock()
                    store.revokes += 1
                    lock.unlock()
                })
        }
        let a = try consumer(broker.bootstrap, group: "rebalance")
        try a.subscribe(topics: [topic], hooks: hooks("a") { _ in })
        var values = Set<Int>()
        func drain(_ c: KafkaConsumer) throws {
            let batch = try c.poll(maxMessages: 500, timeout: .milliseconds(200))
            for m in batch {
                values.insert(Int(String(decoding: m.value!, as: UTF8.self))!)
                store.offsets[m.topicPartition] = max(store.offsets[m.topicPartition] ?? 0, m.offset + 1)
            }
            // A commit during a rebalance may be refused; the test's store keeps the offsets, as a service's does.
            try? c.commit(Dictionary(batch.map { ($0.topicPartition, store.offsets[$0.topicPartition]!) }, uniquingKeysWith: max))
        }
        while values.count < 2000 { try drain(a) }
        // A second member joins: A must revoke (hook) before B is assigned.
        let revokesBefore = store.revokes
        let b = try consumer(broker.bootstrap, group: "rebalance")
        try b.subscribe(
            topics: [topic],
            hooks: hooks("b") { _ in
                #expect(store.revokes > revokesBefore, "B was assigned before A's revoke hook ran")
            })
        let deadline = ContinuousClock.now + .seconds(60)
        while values.count < 6000, ContinuousClock.now < deadline {
            try drain(a)
            try drain(b)
        }
        #expect(values == Set(0..<6000))
        #expect(!b.assignment.isEmpty)
        a.close()
        b.close()
        p.close()
    }

    @Test func watermarksAndLagMatchProducedAndCommitted() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let topic = "npr.cells"
        let p = try producer(broker.bootstrap)
        var perPartition: [Int32: Int64] = [:]
        for i in 0..<600 {
            let r = try await p.deliver(OutgoingMessage(topic: topic, key: "c\(i)", value: [1]))
            perPartition[r.partition, default: 0] += 1
        }
        let c = try consumer(broker.bootstrap, group: "lag-check")
        let committed: [TopicPartition: Int64] = [TopicPartition(topic, 0): 10, TopicPartition(topic, 1): 0]
        try c.commit(committed.filter { $0.value > 0 })
        c.close()
        let admin = try KafkaAdmin(bootstrap: broker.bootstrap, logger: quiet)
        let lags = try admin.lag(group: "lag-check", topics: [topic])
        #expect(lags.count == 6)
        for l in lags {
            let produced = perPartition[l.partition] ?? 0
            #expect(l.high == produced)
            let done = l.partition == 0 ? min(10, produced) : 0
            #expect(l.lag == produced - done)
        }
        p.close()
    }

    @Test func brokerDownWhileProducingLosesAndDuplicatesNothing() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let topic = "npr.deaths"
        let p = try producer(broker.bootstrap)
        for i in 0..<3000 {
            if i == 1000 { #expect(try broker.command("down 1") == "OK") }
            if i == 2000 { #expect(try broker.command("up 1") == "OK") }
            try p.send(OutgoingMessage(topic: topic, key: "d\(i % 50)", value: Array("\(i)".utf8)))
        }
        try p.flush(timeout: .seconds(120))
        let c = try consumer(broker.bootstrap, group: "fault")
        try c.subscribe(
            topics: [topic],
            hooks: RebalanceHooks(onAssign: { tps in Dictionary(uniqueKeysWithValues: tps.map { ($0, KafkaOffset.beginning) }) }, onRevoke: { _ in }))
        var values: [Int] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while values.count < 3000, ContinuousClock.now < deadline {
            values += try c.poll(maxMessages: 1000, timeout: .milliseconds(500)).map { Int(String(decoding: $0.value!, as: UTF8.self))! }
        }
        // Drain a little more to catch duplicates that would arrive after the first 3000.
        values += try c.poll(maxMessages: 1000, timeout: .milliseconds(500)).map { Int(String(decoding: $0.value!, as: UTF8.self))! }
        c.close()
        p.close()
        #expect(values.count == 3000)
        #expect(Set(values) == Set(0..<3000))
    }

    @Test func outOfRangeCommittedOffsetFailsLoudly() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let p = try producer(broker.bootstrap)
        try await p.deliver(OutgoingMessage(topic: "npr.population", key: "x", value: [1]))
        let c = try consumer(broker.bootstrap, group: "oor")
        try c.assign([TopicPartition("npr.population", 0): 500])
        let error = #expect(throws: InputOffsetLost.self) {
            for _ in 0..<50 { _ = try c.poll(maxMessages: 10, timeout: .milliseconds(200)) }
        }
        #expect(error?.topicPartition == TopicPartition("npr.population", 0))
        c.close()
        p.close()
    }
}

/// The partition a key lands in, computed by `KeyPartitioner`, is the one librdkafka's murmur2_random
/// partitioner (the services' producers) delivers it to.
@Suite struct KeyPartitionerTests {
    @Test func computedPartitionsMatchTheProducers() async throws {
        let broker = try BrokerProcess()
        defer { broker.stop() }
        var config = KafkaConfig.producer(bootstrap: broker.bootstrap)
        config["partitioner"] = "murmur2_random"
        config["statistics.interval.ms"] = "0"
        let p = try KafkaProducer(config: config, name: "partitioner-test", logger: quiet)
        defer { p.close() }
        var rng = SplitMix64(seed: 7)
        for i in 0..<200 {
            let key = "key-\(i)-" + String(repeating: "x", count: rng.int(0...9)) + "æø|\(rng.next())"
            let report = try await p.deliver(OutgoingMessage(topic: Topic.cells, key: key, value: [1]))
            #expect(report.partition == KeyPartitioner.partition(of: key, partitions: 6), "\(key)")
        }
    }
}
