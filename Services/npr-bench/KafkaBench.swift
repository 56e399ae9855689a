import Foundation
import Kafka
import Logging

/// Produce and consume throughput of 1 KB JSON messages with the settings the services use, through the
/// binding and through kcat (the roofline), against a kafka-dev-broker process.
enum KafkaBench {
    static let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A ~1 KB JSON record shaped like the pipeline's events (field names repeat, values vary), so lz4
    /// compresses it about as much as real traffic.
    static func record(_ i: Int) -> [UInt8] {
        var x = UInt64(i) &* 0x9E3779B97F4A7C15
        func next() -> UInt64 {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            return x
        }
        var s = "{\"messageId\":\"bench-\(i)\",\"institutionId\":\"974589095\",\"episodes\":["
        while s.utf8.count < 960 {
            s +=
                "{\"episodeId\":\"E\(next() % 1_000_000)\",\"unitId\":\"TSB-\(next() % 60)\",\"start\":\"2024-\(10 + next() % 3)-\(10 + next() % 18)T\(10 + next() % 12):00\",\"careLevel\":\(1 + next() % 3)},"
        }
        return Array((s.dropLast() + "]}").utf8)
    }

    static func run(count: Int, binDir: URL) throws {
        let broker = Process()
        broker.executableURL = binDir.appendingPathComponent("kafka-dev-broker")
        let input = Pipe(), output = Pipe()
        broker.standardInput = input
        broker.standardOutput = output
        broker.standardError = FileHandle.nullDevice
        try broker.run()
        defer {
            broker.terminate()
            broker.waitUntilExit()
        }
        var text = ""
        while !text.contains("READY\n") { text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) }
        let bootstrap = text.split(separator: "\n").first { $0.hasPrefix("BOOTSTRAP ") }!.dropFirst(10)
        // Many partitions keep each under the mock's 5 MiB per-partition cap.
        for t in ["bench.binding", "bench.kcat"] { input.fileHandleForWriting.write(Data("topic \(t) 24\n".utf8)) }
        while text.components(separatedBy: "OK").count < 3 { text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) }

        let records = (0..<count).map(record)
        let megabytes = Double(records.reduce(0) { $0 + $1.count }) / 1_048_576

        // Binding: produce with the services' settings (acks=all, idempotence, lz4, linger 5 ms).
        var pconf = KafkaConfig.producer(bootstrap: String(bootstrap))
        pconf["statistics.interval.ms"] = "0"
        let producer = try KafkaProducer(config: pconf, name: "bench", logger: logger)
        var t0 = ContinuousClock.now
        for (i, r) in records.enumerated() { try producer.send(OutgoingMessage(topic: "bench.binding", key: "k\(i % 5000)", value: r)) }
        try producer.flush(timeout: .seconds(600))
        let bindingProduce = (ContinuousClock.now - t0).seconds
        producer.close()

        // kcat: the same records and settings, from a file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).ndjson")
        var blob = Data()
        for (i, r) in records.enumerated() { blob.append(contentsOf: Array("k\(i % 5000)\t".utf8) + r + [0x0A]) }
        try blob.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let settings = ["-X", "acks=all", "-X", "enable.idempotence=true", "-X", "compression.type=lz4", "-X", "linger.ms=5"]
        t0 = ContinuousClock.now
        try kcat(["-P", "-b", String(bootstrap), "-t", "bench.kcat", "-K", "\t", "-l"] + settings + [file.path])
        let kcatProduce = (ContinuousClock.now - t0).seconds

        // Read to the end offsets (the mock drops a partition's oldest batches past 5 MiB, so count what is there).
        let admin = try KafkaAdmin(bootstrap: String(bootstrap), logger: logger)
        let available = try (0..<24).reduce(0) { total, p in
            let w = try admin.watermarks(TopicPartition("bench.binding", Int32(p)))
            return total + Int(w.high - w.low)
        }
        guard available == count else {
            throw KafkaError(code: -1, message: "the broker kept \(available) of \(count) messages: use fewer (--messages)")
        }
        // Consume everything from the beginning: binding (batch poll, as the services) and kcat, each timed
        // from connecting to the last message, as kcat's run is.
        var cconf = KafkaConfig.consumer(bootstrap: String(bootstrap), group: "bench-\(UUID().uuidString)")
        cconf["statistics.interval.ms"] = "0"
        cconf["fetch.wait.max.ms"] = "10"
        t0 = ContinuousClock.now
        let consumer = try KafkaConsumer(config: cconf, name: "bench", logger: logger)
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<24).map { (TopicPartition("bench.binding", Int32($0)), KafkaOffset.beginning) }))
        var consumed = 0
        while consumed < count { consumed += try consumer.poll(maxMessages: 5000, timeout: .milliseconds(100)).count }
        let bindingConsume = (ContinuousClock.now - t0).seconds
        consumer.close()
        t0 = ContinuousClock.now
        try kcat(["-C", "-b", String(bootstrap), "-t", "bench.kcat", "-o", "beginning", "-e", "-q", "-X", "fetch.wait.max.ms=10"])
        let kcatConsume = (ContinuousClock.now - t0).seconds

        func line(_ what: String, _ binding: Double, _ kcat: Double) {
            print(
                String(
                    format: "kafka %-8@ binding %9.0f msg/s %6.1f MB/s | kcat %9.0f msg/s %6.1f MB/s | binding/kcat %5.1f %%",
                    what as NSString, Double(count) / binding, megabytes / binding, Double(count) / kcat, megabytes / kcat, 100 * kcat / binding))
        }
        print("kafka: \(count) messages of ~1 KB (\(String(format: "%.0f", megabytes)) MB), acks=all, idempotence, lz4, linger 5 ms, kafka-dev-broker")
        line("produce", bindingProduce, kcatProduce)
        line("consume", bindingConsume, kcatConsume)
    }

    static func kcat(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw KafkaError(code: -1, message: "kcat exited with \(p.terminationStatus)") }
    }
}
