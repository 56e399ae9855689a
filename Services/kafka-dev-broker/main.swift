// kafka-dev-broker: librdkafka's mock cluster as its own process, for `make run`, `make up` and tests.
//
//   kafka-dev-broker [--brokers N] [--bootstrap-file PATH]
//
// Prints `BOOTSTRAP <servers>` then `READY` on stdout once the catalogue's topics exist. Reads fault
// injection commands from stdin, one per line, answering `OK` or `ERR <reason>`:
//   down <broker>  |  up <broker>  |  rtt <broker> <ms>  |  error <apiKey> <code> <count>  |
//   clear <apiKey> |  topic <name> <partitions>  |  quit
// Exits cleanly on SIGTERM/SIGINT or `quit`.
import ArgumentParser
import Foundation
import Kafka
import Logging
import NPRCore

struct BrokerOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-dev-broker",
        abstract: "librdkafka's mock cluster as a process, with the catalogue's topics (data in memory only).",
        discussion: """
            Prints `BOOTSTRAP <servers>` then `READY`. Fault injection from standard input, one command a line \
            (answer `OK` or `ERR <reason>`): down <broker> | up <broker> | rtt <broker> <ms> | \
            error <apiKey> <code> <count> | clear <apiKey> | topic <name> <partitions> | quit
            """)
    @Option(help: "Brokers in the cluster (1–9).") var brokers = 3
    @Option(help: "Write the bootstrap servers to this file (removed on exit).") var bootstrapFile: String?

    func validate() throws {
        guard (1...9).contains(brokers) else { throw ValidationError("--brokers must be 1–9") }
    }
}

let options = BrokerOptions.parseOrExit()
LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
let logger = Logger(label: "kafka-dev-broker")

/// Unbuffered line output, so a parent reading the pipe sees each answer at once.
func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let cluster: MockCluster
do {
    cluster = try MockCluster(brokers: options.brokers, logger: logger)
    for t in Topic.catalogue {
        try cluster.createTopic(t.name, partitions: t.partitions, replicationFactor: Replication(brokers: options.brokers).factor)
    }
} catch {
    FileHandle.standardError.write("kafka-dev-broker: \(error)\n".data(using: .utf8)!)
    exit(1)
}
let servers = cluster.bootstrapServers
let bootstrapFile = options.bootstrapFile
if let bootstrapFile { try? servers.write(toFile: bootstrapFile, atomically: true, encoding: .utf8) }
emit("BOOTSTRAP \(servers)")
emit("READY")

@Sendable func shutdown() -> Never {
    cluster.close()
    if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
    exit(0)
}

signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let signalSources = [SIGTERM, SIGINT].map { sig -> DispatchSourceSignal in
    let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    s.setEventHandler { shutdown() }
    s.resume()
    return s
}

func execute(_ line: String) -> String {
    let p = line.split(separator: " ").map(String.init)
    guard let cmd = p.first else { return "ERR empty" }
    do {
        switch (cmd, p.count) {
        case ("down", 2): try cluster.setBrokerDown(Int32(p[1]) ?? -1)
        case ("up", 2): try cluster.setBrokerUp(Int32(p[1]) ?? -1)
        case ("rtt", 3): try cluster.setLatency(broker: Int32(p[1]) ?? -1, milliseconds: Int(p[2]) ?? 0)
        case ("error", 4): cluster.pushRequestErrors(apiKey: Int16(p[1]) ?? -1, code: Int32(p[2]) ?? 0, count: Int(p[3]) ?? 1)
        case ("clear", 2): cluster.clearRequestErrors(apiKey: Int16(p[1]) ?? -1)
        case ("topic", 3): try cluster.createTopic(p[1], partitions: Int(p[2]) ?? 1)
        case ("quit", 1): shutdown()
        default: return "ERR unknown command"
        }
        return "OK"
    } catch {
        return "ERR \(error)"
    }
}

while let line = readLine() {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty { continue }
    emit(execute(trimmed))
}
// Standard input closed (e.g. started in the background): serve until a signal arrives.
withExtendedLifetime(signalSources) { dispatchMain() }
