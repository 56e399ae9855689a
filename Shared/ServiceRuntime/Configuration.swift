import Foundation
import Kafka
import NPRCore

/// A configuration problem found at start-up: the service prints it and exits non-zero.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "configuration error: \(variable): \(problem)" }
}

/// Settings every service reads from the environment (documented in README.md, validated at start).
///
/// | variable | default | meaning |
/// | `KAFKA_BOOTSTRAP_SERVERS` | contents of `$NPR_STATE_DIR/kafka-bootstrap` | brokers |
/// | `NPR_STATE_DIR` | `.run` | state directory (stores, dev pseudonym key) |
/// | `NPR_MODE` | `development` | `development` or `production` |
/// | `NPR_AS_OF` | today (UTC) | evaluation date `YYYY-MM-DD` |
/// | `NPR_LOG_LEVEL` | `info` | trace, debug, info, notice, warning, error, critical |
/// | `<SERVICE>_PORT` | per service | HTTP port on `NPR_HTTP_HOST` (default 127.0.0.1) |
/// | `KAFKA_<PROPERTY>` | | any librdkafka property, dots as underscores (`KAFKA_SECURITY_PROTOCOL`); `…_FILE`: read from that file |
/// | `NPR_INSTANCE` | host name | this instance's name: `client.id` is `<service>-<instance>` |
/// | `NPR_GROUP_PREFIX` | `npr-tsb.` | consumer groups are `<prefix><service>` |
/// | `NPR_CLUSTER_NAME` | `npr-tsb` | `cluster_name` label of the lag metrics |
public struct ServiceConfiguration: Sendable {
    public enum Mode: String, Sendable { case development, production }
    public var serviceName: String
    public var bootstrapServers: String
    public var stateDirectory: String
    public var mode: Mode
    public var asOfOverride: String?
    public var logLevel: String
    public var httpHost: String
    public var httpPort: Int
    public var environment: [String: String]
    /// The cluster with this deployment's client settings (`KAFKA_*`) and this instance's `client.id`.
    public var kafka: KafkaConnection
    public var instance: String
    public var groupPrefix: String
    public var clusterName: String

    public static let defaultPorts = [
        "intake": 8080, "publisher": 8081, "episode-linker": 8082,
        "indicator-calculator": 8083, "mortality-linker": 8084, "lag-exporter": 8085,
    ]

    public static func portVariable(_ service: String) -> String {
        service.uppercased().replacingOccurrences(of: "-", with: "_") + "_PORT"
    }

    /// Where another service of the stack answers HTTP: `NPR_<SERVICE>_URL` (e.g. `NPR_INTAKE_URL`), else the
    /// loopback address on that service's port (its `<SERVICE>_PORT`, else its default), as `make up` runs them.
    public func baseURL(of service: String) -> String {
        let name = service.uppercased().replacingOccurrences(of: "-", with: "_")
        if let url = environment["NPR_\(name)_URL"] { return url }
        return "http://127.0.0.1:\(environment[Self.portVariable(service)] ?? String(Self.defaultPorts[service] ?? 0))"
    }

    public init(service: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        serviceName = service
        environment = env
        stateDirectory = env["NPR_STATE_DIR"] ?? ".run"
        guard let mode = Mode(rawValue: env["NPR_MODE"] ?? "development") else {
            throw ConfigurationError(variable: "NPR_MODE", problem: "must be development or production")
        }
        self.mode = mode
        if let servers = env["KAFKA_BOOTSTRAP_SERVERS"], !servers.isEmpty {
            bootstrapServers = servers
        } else if let servers = try? String(contentsOfFile: stateDirectory + "/kafka-bootstrap", encoding: .utf8),
            !servers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            bootstrapServers = servers.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw ConfigurationError(
                variable: "KAFKA_BOOTSTRAP_SERVERS", problem: "not set and \(stateDirectory)/kafka-bootstrap is missing (start the broker with `make up`)")
        }
        instance = env["NPR_INSTANCE"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        groupPrefix = env["NPR_GROUP_PREFIX"] ?? "npr-tsb."
        clusterName = env["NPR_CLUSTER_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "npr-tsb"
        kafka = try Self.kafkaConnection(env, bootstrap: bootstrapServers, clientId: service + "-" + instance)
        asOfOverride = env["NPR_AS_OF"].flatMap { $0.isEmpty ? nil : $0 }
        if let a = asOfOverride, LocalDate(a) == nil {
            throw ConfigurationError(variable: "NPR_AS_OF", problem: "must be a date YYYY-MM-DD, got \(a)")
        }
        logLevel = env["NPR_LOG_LEVEL"] ?? "info"
        httpHost = env["NPR_HTTP_HOST"] ?? "127.0.0.1"
        // Development mode has a well-known admin token and a generated key: never reachable from outside.
        guard mode == .production || ["127.0.0.1", "localhost", "::1"].contains(httpHost) else {
            throw ConfigurationError(variable: "NPR_HTTP_HOST", problem: "development mode serves loopback only; set NPR_MODE=production to bind \(httpHost)")
        }
        httpLimits = HTTPLimits(idleTimeoutSeconds: 30, maxConnections: 256, bodyTimeoutSeconds: 60)
        let portVar = Self.portVariable(service)
        if let p = env[portVar] {
            guard let port = Int(p), (0...65535).contains(port) else {
                throw ConfigurationError(variable: portVar, problem: "must be a port number, got \(p)")
            }
            httpPort = port
        } else {
            httpPort = Self.defaultPorts[service] ?? 0
        }
        httpLimits = HTTPLimits(
            idleTimeoutSeconds: try integer("NPR_HTTP_IDLE_TIMEOUT_S", default: 90, in: 1...3_600, unit: "seconds"),
            maxConnections: try integer("NPR_HTTP_MAX_CONNECTIONS", default: 256, in: 1...65_536),
            bodyTimeoutSeconds: try integer("NPR_HTTP_BODY_TIMEOUT_S", default: 60, in: 1...3_600, unit: "seconds"))
    }

    /// The consumer group of `service` (by default this one's).
    public func consumerGroup(of service: String? = nil) -> String { groupPrefix + (service ?? serviceName) }

    /// Every `KAFKA_<NAME>` variable but the bootstrap servers as librdkafka property `<name>` (lower case,
    /// `_` → `.`); `KAFKA_<NAME>_FILE` reads the value from a file (secrets mounted by the orchestrator).
    static func kafkaConnection(_ env: [String: String], bootstrap: String, clientId: String) throws -> KafkaConnection {
        var properties: [String: String] = [:]
        var variables: [String: String] = [:]
        for (variable, value) in env where variable.hasPrefix("KAFKA_") && variable != "KAFKA_BOOTSTRAP_SERVERS" {
            var name = variable.dropFirst("KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            var value = value
            if name.hasSuffix(".file") {
                name.removeLast(".file".count)
                guard let contents = try? String(contentsOfFile: value, encoding: .utf8) else {
                    throw ConfigurationError(variable: variable, problem: "cannot read \(value)")
                }
                value = contents.trimmingCharacters(in: .newlines)
            }
            guard name != "client.id" else {
                throw ConfigurationError(variable: variable, problem: "client.id is <service>-<NPR_INSTANCE>; set NPR_INSTANCE instead")
            }
            properties[name] = value
            variables[name] = variable
        }
        properties["client.id"] = clientId
        do {
            return try KafkaConnection(bootstrap: bootstrap, properties: properties)
        } catch {
            throw ConfigurationError(variable: variables[error.property] ?? "KAFKA_*", problem: "\(error.property): \(error.problem)")
        }
    }

    /// An integer setting: `fallback` when unset, an error naming the variable when outside `range`.
    public func integer(_ variable: String, default fallback: Int, in range: ClosedRange<Int>, unit: String = "") throws -> Int {
        guard let raw = environment[variable], !raw.isEmpty else { return fallback }
        guard let v = Int(raw), range.contains(v) else {
            throw ConfigurationError(
                variable: variable, problem: "must be \(range.lowerBound)–\(range.upperBound)\(unit.isEmpty ? "" : " " + unit), got \(raw)")
        }
        return v
    }

    public func require(_ variable: String) throws -> String {
        guard let v = environment[variable], !v.isEmpty else {
            throw ConfigurationError(variable: variable, problem: "required in \(mode.rawValue) mode")
        }
        return v
    }

    /// Limits of every service's HTTP server (documented in README.md).
    public struct HTTPLimits: Sendable {
        /// A connection with nothing read or written for this long is closed (`NPR_HTTP_IDLE_TIMEOUT_S`, 90). A
        /// request whose response is being written is never idle; one held for admission before its body is
        /// read is, so this must outlast intake's admission wait.
        public var idleTimeoutSeconds: Int
        /// Connections open at once; more wait in the listen backlog (`NPR_HTTP_MAX_CONNECTIONS`, 256).
        public var maxConnections: Int
        /// A request body must arrive within this (`NPR_HTTP_BODY_TIMEOUT_S`, 60), or 408.
        public var bodyTimeoutSeconds: Int
    }
    public var httpLimits: HTTPLimits

    public var storePath: String { stateDirectory + "/" + serviceName + ".sqlite" }
    /// Held by the one instance that owns the service's state (`InstanceLock`).
    public var instanceLockPath: String { stateDirectory + "/" + serviceName + ".lock" }
}
