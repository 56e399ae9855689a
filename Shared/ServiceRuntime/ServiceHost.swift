import Foundation
import Hummingbird
import HummingbirdCore
import Kafka
import Logging
import Metrics
import NPRCore
import Prometheus
import ServiceLifecycle
@_exported import StreamCodec
import Synchronization

public typealias HTTPRouter = Router<BasicRequestContext>

/// Everything a service's `main` needs: configuration, logger, metrics, the HTTP router with
/// /health/live, /health/ready and /metrics, and graceful shutdown on SIGTERM/SIGINT.
public final class ServiceHost: @unchecked Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let router: HTTPRouter
    public let readiness = Readiness()
    let registry: PrometheusCollectorRegistry
    /// Metric families rendered at each scrape beside the registry's (e.g. the lag exporter's).
    private let metricSections = Mutex<[@Sendable () -> String]>([])
    /// This service's OpenAPI document, served at /openapi.json and held equal to the routes at start.
    /// nil when the service has none; a failure when its resource is missing (`run` reports it).
    private let openAPI = Mutex<Result<Data, StartupError>?>(nil)
    private let shutdownActions = Mutex<[@Sendable () -> Void]>([])
    /// Held from taking over until the process ends.
    private var ownership: InstanceLock?
    private let active: Metrics.Gauge

    /// Reads and validates configuration and bootstraps logging and metrics. Call once per process; a
    /// `ConfigurationError` is for the executable to report (`exitStatus(reporting:service:)`) and exit on.
    public static func start(service: String) throws -> ServiceHost {
        ServiceHost(configuration: try ServiceConfiguration(service: service))
    }

    /// A service's whole life, for its executable's one line (`exit(await ServiceHost.main(...))`): start
    /// (configuration, logging, metrics), `compose` the service on the host (its state, routes and stream
    /// stages: the composition root), run them until SIGTERM/SIGINT. Returns the status to exit with.
    ///
    /// One instance at a time owns the service's state (`InstanceLock`): another instance started on the same
    /// state directory waits as a standby (health and metrics served, every other request answered 503 with
    /// `Retry-After`) and composes the service when the owner ends.
    public static func main(service: String, compose: (ServiceHost) async throws -> [any Service]) async -> Int32 {
        let host: ServiceHost
        do { host = try start(service: service) } catch { return exitStatus(reporting: error, service: service) }
        do {
            guard let lock = try await host.waitForOwnership() else { return 0 }
            host.ownership = lock
        } catch { return exitStatus(reporting: error, service: service) }
        let services: [any Service]
        do { services = try await compose(host) } catch { return exitStatus(reporting: error, service: service) }
        return await host.run(services: services)
    }

    /// Runs `action` when graceful shutdown begins (e.g. to end long-lived responses the server would wait for).
    public func onShutdown(_ action: @escaping @Sendable () -> Void) {
        shutdownActions.withLock { $0.append(action) }
    }

    /// The status a service's process exits with after `error` ended it, its message written to standard
    /// error: 2 for configuration and start-up errors, `UnrecoverableInputLoss.exitCode` for lost source
    /// input (an operator must rebuild), 1 otherwise. Libraries report; only the executables exit.
    public static func exitStatus(reporting error: any Error, service: String) -> Int32 {
        let (status, message): (Int32, String) =
            switch error {
            case let loss as UnrecoverableInputLoss: (UnrecoverableInputLoss.exitCode, "\(loss)")
            case is ConfigurationError, is StartupError: (2, "\(service): \(error)")
            default: (1, "\(service): failed: \(error)")
            }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return status
    }

    init(configuration: ServiceConfiguration) {
        self.configuration = configuration
        MallocTuning.apply()
        LoggingSetup.bootstrap(service: configuration.serviceName, level: configuration.logLevel)
        registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        logger = Logger(label: configuration.serviceName)
        active = Metrics.Gauge(label: "npr_instance_active", dimensions: [("service", configuration.serviceName)])
        router = HTTPRouter()
        router.add(middleware: ProblemDetailsMiddleware())
        let readiness = self.readiness
        addOperationalRoutes(to: router) { readiness.isReady ? nil : "not ready" }
    }

    /// /health/live, /health/ready (503 with `notReady`'s reason while it gives one) and /metrics.
    private func addOperationalRoutes(to router: HTTPRouter, notReady: @escaping @Sendable () -> String?) {
        router.get("/health/live") { _, _ in "ok\n" }
        router.get("/health/ready") { _, _ -> Response in
            if let reason = notReady() {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: reason + "\n")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        router.get("/metrics") { [self] _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            let text =
                MetricCatalogue.describing(String(decoding: buffer, as: UTF8.self))
                + self.metricSections.withLock { $0 }.map { $0() }.joined()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// Takes the service's instance lock; while another process holds it, serves as a standby until it is
    /// released. nil when a shutdown signal came first.
    func waitForOwnership() async throws -> InstanceLock? {
        let path = configuration.instanceLockPath
        if let lock = try InstanceLock.acquire(path: path) {
            active.record(1)
            return lock
        }
        active.record(0)
        let service = configuration.serviceName
        logger.notice(
            "standby: another instance owns this service's state; taking over when it ends",
            metadata: ["lock": "\(path)", "ownerPid": "\(InstanceLock.holder(path: path).map(String.init) ?? "unknown")"])
        let standby = HTTPRouter()
        standby.add(middleware: StandbyMiddleware(service: service, lockPath: path))
        standby.add(middleware: ProblemDetailsMiddleware())
        addOperationalRoutes(to: standby) { "standby" }
        let taken = Snapshot<InstanceLock?>(nil)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application(router: standby)),
                    .init(service: OwnershipWaiter(path: path, taken: taken), successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        guard let lock = taken.current else { return nil }
        active.record(1)
        logger.notice("took over: this instance now owns the service's state", metadata: ["lock": "\(path)"])
        return lock
    }

    /// Adds metric families in Prometheus text format, rendered at each scrape.
    public func exportMetrics(_ section: @escaping @Sendable () -> String) {
        metricSections.withLock { $0.append(section) }
    }

    /// Serves `openapi.json` from `bundle` (the service's resources); `run` refuses to start when it is
    /// missing or its paths and methods differ from the routes.
    public func serveOpenAPI(from bundle: Bundle) {
        guard let url = bundle.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            openAPI.withLock { $0 = .failure(StartupError(description: "openapi.json missing from its resources")) }
            return
        }
        openAPI.withLock { $0 = .success(data) }
        router.get("/openapi.json") { _, _ -> Response in
            json(data)
        }
    }

    /// The routes as `METHOD /path` (`{name}` for a parameter), as OpenAPI writes them.
    public var routeList: Set<String> { Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" }) }

    /// Route differences between the router and an OpenAPI document (empty: they agree).
    public static func openAPIDrift(routes: Set<String>, document: Data) throws -> [String] {
        guard let doc = try JSONSerialization.jsonObject(with: document) as? [String: Any],
            let paths = doc["paths"] as? [String: [String: Any]]
        else { return ["the document has no paths"] }
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
        return routes.subtracting(documented).sorted().map { "\($0): served but not in openapi.json" }
            + documented.subtracting(routes).sorted().map { "\($0): in openapi.json but not served" }
    }

    /// The evaluation date: `NPR_AS_OF`, or today in Norway (NPR dates are Norwegian local dates).
    public func evaluationDate() -> LocalDate {
        if let a = configuration.asOfOverride, let d = LocalDate(a) { return d }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Oslo") ?? TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day], from: Date())
        return LocalDate(year: c.year!, month: c.month!, day: c.day!) ?? LocalDate(dayNumber: Int(Date().timeIntervalSince1970 / 86400))
    }

    /// The stream runtime for `stage` on this host: its store, a producer of its own, its readiness and logger.
    public func streamProcessor<Stage: StreamStage>(_ stage: Stage, store: StateStore, producer: KafkaProducer? = nil) throws -> StreamProcessor<Stage> {
        try StreamProcessor(
            stage: stage, store: store, configuration: configuration, producer: try producer ?? makeProducer(), readiness: readiness, logger: logger)
    }

    public func makeProducer(deliveryTimeoutMs: Int = 30000) throws -> KafkaProducer {
        var config = KafkaConfig.producer(configuration.kafka, deliveryTimeoutMs: deliveryTimeoutMs)
        config["partitioner"] = "murmur2_random"
        return try KafkaProducer(config: config, name: configuration.serviceName, logger: logger)
    }

    /// Creates the catalogue's topics where the broker supports the admin API (no-op when they exist).
    public func ensureTopics() {
        do {
            let admin = try KafkaAdmin(connection: configuration.kafka, logger: logger)
            let specs = Topic.specs(brokers: try admin.brokerCount())
            try admin.ensureTopics(specs)
            // Settings are not described at start (a cluster without DescribeConfigs would hold it up);
            // `npr-ops topics --check` compares them too.
            for drift in TopicCheck.drift(expected: specs, actual: try admin.describeTopics(), configs: nil) {
                logger.warning("topic differs from contracts/topics.json", metadata: ["drift": "\(drift)"])
            }
        } catch {
            logger.warning("could not ensure topics", metadata: ["error": "\(error)"])
        }
    }

    /// Runs the HTTP server and `services` until SIGTERM/SIGINT, then shuts them down gracefully, and
    /// returns the status the executable exits with: 0 after a graceful stop, else `exitStatus(reporting:)`'s.
    public func run(services: [any Service]) async -> Int32 {
        do {
            try await serve(services: services) { [self] in for action in shutdownActions.withLock({ $0 }) { action() } }
            return 0
        } catch {
            return Self.exitStatus(reporting: error, service: configuration.serviceName)
        }
    }

    private func serve(services: [any Service], onShutdown: @escaping @Sendable () -> Void) async throws {
        if let document = try openAPI.withLock({ $0 })?.get() {
            let drift = (try? Self.openAPIDrift(routes: routeList, document: document)) ?? ["openapi.json is not JSON"]
            guard drift.isEmpty else {
                throw StartupError(description: "openapi.json differs from the routes:\n  \(drift.joined(separator: "\n  "))")
            }
        }
        let app = application(router: router)
        let group = ServiceGroup(
            configuration: .init(
                services: [app, ShutdownHook(action: onShutdown)] + services.map { $0 },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("starting", metadata: ["port": "\(configuration.httpPort)", "mode": "\(configuration.mode.rawValue)"])
        do {
            try await group.run()
            logger.info("stopped")
        } catch let stop as UnrecoverableInputLoss {
            throw stop
        } catch {
            logger.critical("service failed", metadata: ["error": "\(error)"])
            throw error
        }
    }
}

extension ServiceHost {
    /// The HTTP server on the service's address, serving `router`.
    func application(router: HTTPRouter) -> some Service {
        let limits = configuration.httpLimits
        return Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .seconds(Int64(limits.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: configuration.serviceName,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            logger: logger)
    }
}

/// Tries the instance lock every 200 ms until it is taken (then returns, which ends the standby's group)
/// or graceful shutdown begins.
struct OwnershipWaiter: Service {
    let path: String
    let taken: Snapshot<InstanceLock?>
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if let lock = try InstanceLock.acquire(path: path) {
                        taken.set(lock)
                        return
                    }
                    try await Task.sleep(for: .milliseconds(200))
                } catch { return }
            }
        }
    }
}

/// A standby answers only health and metrics; everything else is 503 with `Retry-After`, so clients and
/// load balancers go to the instance that owns the state.
struct StandbyMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: String
    let lockPath: String
    static var operational: Set<String> { ["/health/live", "/health/ready", "/metrics"] }
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.operational.contains(request.uri.path) { return try await next(request, context) }
        let owner = InstanceLock.holder(path: lockPath).map { " (process \($0))" } ?? ""
        return problem(
            .serviceUnavailable, "Standby",
            "This instance of \(service) is a standby: another instance\(owner) owns its state. It takes over when that one ends; send requests to the active instance.",
            retryAfterSeconds: 2)
    }
}

/// A service cannot start as built or configured (its OpenAPI document missing or not matching its routes).
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs an action when graceful shutdown begins.
struct ShutdownHook: Service {
    let action: @Sendable () -> Void
    func run() async throws {
        try? await gracefulShutdown()
        action()
    }
}

extension Topic {
    /// The catalogue as topics to create on a cluster of `brokers` brokers (`Replication`).
    public static func specs(brokers: Int) -> [TopicSpec] {
        catalogue.map {
            TopicSpec(
                name: $0.name, partitions: $0.partitions, replicationFactor: Replication(brokers: brokers).factor,
                configs: $0.configs(brokers: brokers))
        }
    }
}
