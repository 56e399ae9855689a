import Crypto
import Foundation
import Kafka
import NPRCore
import ServiceRuntime
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Paths of the built executables (`swift build` runs before the tests in `make test`).
enum Build {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bin = root.appendingPathComponent(".build/debug")
    static func executable(_ name: String) -> URL { bin.appendingPathComponent(name) }
}

/// Polls `condition` until it holds or `timeout` passes (no fixed sleeps as synchronisation).
func waitUntil(_ timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

struct BrokerEnded: Error, CustomStringConvertible {
    let status: Int32
    let stderr: String
    var description: String { "kafka-dev-broker ended (status \(status)): \(stderr)" }
}

/// The embedded broker as its own process; fault injection through its stdin.
final class BrokerProcess: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    private(set) var bootstrap = ""
    private var buffer = Data()
    /// The broker's standard error, quoted when it ends unexpectedly.
    let errorLog = temporaryDirectory() + "/kafka-dev-broker.err"

    init() throws {
        process.executableURL = Build.executable("kafka-dev-broker")
        process.standardInput = input
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLog))
        try process.run()
        while true {
            let line = try readLine()
            if line.hasPrefix("BOOTSTRAP ") { bootstrap = String(line.dropFirst(10)) }
            if line == "READY" { break }
        }
    }

    func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                // An interrupted read also returns nothing: only a broker that has ended is an error.
                guard process.isRunning else {
                    let stderr = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
                    throw BrokerEnded(status: process.terminationStatus, stderr: String(stderr.suffix(2000)))
                }
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            buffer.append(chunk)
        }
    }

    /// Sends a fault-injection command and returns the broker's answer.
    @discardableResult
    func command(_ c: String) throws -> String {
        input.fileHandleForWriting.write(Data((c + "\n").utf8))
        return try readLine()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// One service process with its own state directory and port.
final class ServiceProcess: @unchecked Sendable {
    let name: String
    let port: Int
    var process: Process
    let environment: [String: String]

    init(_ name: String, port: Int, environment: [String: String]) throws {
        self.name = name
        self.port = port
        self.environment = environment
        process = Process()
        try start()
    }

    /// Processes that are a subcommand of a tool rather than an executable of their own.
    static let commands = ["lag-exporter": ("npr-ops", ["lag-exporter"])]

    func start() throws {
        process = Process()
        let (executable, arguments) = Self.commands[name] ?? (name, [])
        process.executableURL = Build.executable(executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env[ServiceConfiguration.portVariable(name)] = String(port)
        process.environment = env
        // One log per service, appended across restarts.
        let path = environment["NPR_STATE_DIR"]! + "/\(name).log"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// `name` alone against `broker`, with a state directory and a port of its own, once it is ready.
    static func alone(_ name: String, broker: BrokerProcess, environment extra: [String: String] = [:]) async throws -> ServiceProcess {
        let service = try ServiceProcess(
            name, port: freePorts(1)[0],
            environment: ["KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "NPR_STATE_DIR": temporaryDirectory()].merging(extra) { $1 })
        try await waitUntil(.seconds(60), "\(name) ready") { try await HTTP.request("GET", service.base + "/health/ready").status == 200 }
        return service
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var state: String { environment["NPR_STATE_DIR"]! }

    func kill9() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Minimal HTTP client for the tests.
enum HTTP {
    struct Reply {
        let status: Int
        let body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    static func request(
        _ method: String, _ url: String, body: Data? = nil, token: String? = nil,
        contentType: String = "application/json"
    ) async throws -> Reply {
        var r = URLRequest(url: URL(string: url)!)
        r.httpMethod = method
        r.httpBody = body
        // An ordinary client's budget: intake may hold a request up to NPR_ADMISSION_WAIT_MS (60 s) before answering.
        r.timeoutInterval = 120
        if body != nil { r.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: r)
        return Reply(status: (response as! HTTPURLResponse).statusCode, body: data)
    }
}

/// Free TCP ports for the services of one test.
func freePorts(_ n: Int) -> [Int] {
    (0..<n).map { _ in
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

func temporaryDirectory() -> String {
    let d = NSTemporaryDirectory() + "npr-it-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// The broker and all five services, each with its own port and one state directory, ready.
struct Pipeline {
    static let names = ["intake", "episode-linker", "indicator-calculator", "mortality-linker", "publisher"]
    let broker: BrokerProcess
    let services: [ServiceProcess]
    let state: String

    static func start(environment extra: [String: String] = [:]) async throws -> Pipeline {
        let broker = try BrokerProcess()
        let state = temporaryDirectory()
        let ports = freePorts(names.count)
        // Intake's and the calculator's ports for the publisher, which reads their quality reports.
        let env = [
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "NPR_STATE_DIR": state, "INTAKE_PORT": String(ports[0]),
            "INDICATOR_CALCULATOR_PORT": String(ports[2]),
        ]
        .merging(extra) { $1 }
        let services = try names.enumerated().map { try ServiceProcess($0.element, port: ports[$0.offset], environment: env) }
        for s in services {
            try await waitUntil(.seconds(60), "\(s.name) ready") { try await HTTP.request("GET", "http://127.0.0.1:\(s.port)/health/ready").status == 200 }
        }
        return Pipeline(broker: broker, services: services, state: state)
    }

    subscript(name: String) -> ServiceProcess { services.first { $0.name == name }! }
    var intake: String { "http://127.0.0.1:\(self["intake"].port)" }
    var publisher: String { "http://127.0.0.1:\(self["publisher"].port)" }

    func stop() {
        services.forEach { $0.stop() }
        broker.stop()
    }
}

/// Everything on `topics` up to their current ends (every partition), in partition and offset order.
func readTopics(_ bootstrap: String, _ topics: [String]) async throws -> [ConsumedMessage] {
    let admin = try KafkaAdmin(bootstrap: bootstrap, logger: quiet)
    var ends: [TopicPartition: Int64] = [:]
    for t in Topic.catalogue where topics.contains(t.name) {
        for p in 0..<Int32(t.partitions) {
            let tp = TopicPartition(t.name, p)
            let high = try admin.watermarks(tp).high
            if high > 0 { ends[tp] = high }
        }
    }
    guard !ends.isEmpty else { return [] }
    let reader = try consumer(bootstrap, group: "reader-" + UUID().uuidString)
    defer { reader.close() }
    try reader.assign(ends.mapValues { _ in KafkaOffset.beginning })
    var messages: [ConsumedMessage] = []
    var next: [TopicPartition: Int64] = [:]
    try await waitUntil(.seconds(60), "\(topics) read to the end") {
        for m in try reader.poll(maxMessages: 5000, timeout: .milliseconds(200)) {
            next[m.topicPartition] = m.offset + 1
            messages.append(m)
        }
        return ends.allSatisfy { (next[$0.key] ?? 0) >= $0.value }
    }
    return messages.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
}

/// A counter's value in a service's Prometheus text (0 when absent).
func metric(_ base: String, _ series: String) async throws -> Double {
    let text = String(decoding: try await HTTP.request("GET", base + "/metrics").body, as: UTF8.self)
    return text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
}

/// Validates NDJSON records against a schema of `contracts/` with `contracts/check.py` (jsonschema).
func validate(_ ndjsonFile: String, against schema: String) throws -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", Build.root.appendingPathComponent("contracts/check.py").path, "--records", schema, ndjsonFile]
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Whether `bytes` hold any of `ids` (11-digit person ids), read as text: each window of 11 digits is looked
/// up, so a scan is linear in the text however many ids there are.
func containsAny(of ids: Set<String>, in bytes: some Sequence<UInt8>) -> Bool {
    var window: [UInt8] = []
    window.reserveCapacity(11)
    for b in bytes {
        guard b >= 0x30 && b <= 0x39 else {
            window.removeAll(keepingCapacity: true)
            continue
        }
        if window.count == 11 { window.removeFirst() }
        window.append(b)
        if window.count == 11, ids.contains(String(decoding: window, as: UTF8.self)) { return true }
    }
    return false
}

/// The inbound signature header as a hospital computes it from the README: key id (16 hex digits of
/// SHA-256 of the token) and HMAC-SHA256 of the value with the token — independent of intake's code.
func signature(_ value: [UInt8], token: String) -> [(String, [UInt8])] {
    let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
    let keyId = hex(Array(SHA256.hash(data: Data(token.utf8)))).prefix(16)
    let mac = hex(Array(HMAC<SHA256>.authenticationCode(for: value, using: SymmetricKey(data: Data(token.utf8)))))
    return [("npr-signature", Array("\(keyId):\(mac)".utf8))]
}

/// Runs `npr-ops` with `args` and the extra `environment`: its exit status and standard output.
func runOps(_ args: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    try runProcess(Build.executable("npr-ops"), args, environment: environment)
}

/// Runs `executable` to its end: its exit status and standard output (standard error discarded).
func runProcess(_ executable: URL, _ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `npr-ops lag --json` against `bootstrap`: its exit status, and the status and partitions of each group.
/// No progress counts as a stall after `stallAfter` seconds (60 by default; tests do not wait that long).
func lagReport(_ bootstrap: String, stallAfter: Double = 1) throws -> (exit: Int32, groups: [String: String], partitions: [String: [[String: Any]]]) {
    let (status, output) = try runOps(
        ["lag", "--json", "--samples", "3", "--interval", "0.5", "--stall-after", String(stallAfter)],
        environment: ["KAFKA_BOOTSTRAP_SERVERS": bootstrap])
    let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    let groups = try #require(report["groups"] as? [[String: Any]])
    return (
        status,
        Dictionary(uniqueKeysWithValues: groups.map { ($0["group"] as! String, $0["status"] as! String) }),
        Dictionary(uniqueKeysWithValues: groups.map { ($0["group"] as! String, $0["partitions"] as! [[String: Any]]) })
    )
}
