import Kafka
import NPRCore
import Synchronization

/// The topics a stage reads, each with how one of its records becomes the stage's single typed input: decoded
/// at the edge, on any core. The declared topics must be the service's inputs in the topic catalogue
/// (`Topic.inputs(of:)`); the runtime checks that at start.
public struct StreamInputs<Input: Sendable>: Sendable {
    public typealias Decoder = @Sendable (ConsumedMessage) throws -> Input
    public let service: String
    let decoders: [String: Decoder]

    public init(service: String, _ decoders: [String: Decoder]) {
        self.service = service
        self.decoders = decoders
    }

    func decode(_ m: ConsumedMessage) throws -> Input {
        guard let decoder = decoders[m.topic] else { throw UndeclaredInput(topic: m.topic) }
        return try decoder(m)
    }

    /// The declared topics and `runtimeTopics` (read by the runtime itself, e.g. npr.control) as the catalogue
    /// gives them to the service; a StartupError when they differ.
    func subscription(with runtimeTopics: [String]) throws -> [String] {
        let declared = Set(decoders.keys).union(runtimeTopics), catalogue = Set(Topic.inputs(of: service))
        guard declared == catalogue else {
            throw StartupError(description: "\(service) reads \(declared.sorted()) but the topic catalogue gives it \(catalogue.sorted())")
        }
        return declared.sorted()
    }
}

struct UndeclaredInput: Error, CustomStringConvertible {
    let topic: String
    var description: String { "a record of \(topic), which this service does not declare as an input" }
}

/// The topic a producer can publish again for a consumer that lost input, and what it owns there (its
/// indicators on npr.cells), as the topic catalogue lists it.
public struct Republication: Sendable {
    public let topic: String
    public let owns: [String]

    public init(topic: String, service: String) {
        self.topic = topic
        owns = Topic.republishers[topic]?.first { $0.service == service }?.owns ?? []
    }
}

/// A service's stateful stage as the runtime drives it (the runtime's engine protocol): a value, touched only
/// by the stream thread, batch by batch. The runtime owns Kafka, the store, offsets, coalescing and flow
/// control; a stage decodes its declared inputs, applies them to its pure domain engine, and says what changed.
///
/// `apply` only changes in-memory state; what changed is taken by `flush`, which the runtime calls once per
/// commit interval. The engines keep what changed as sets of keys, so a key changed many times in an
/// interval is written once (Kafka Streams' record cache: coalesce in memory, emit on commit).
public protocol StreamStage: Sendable {
    /// One input message as the domain sees it.
    associatedtype Input: Sendable
    var inputs: StreamInputs<Input> { get }
    /// Rebuilds in-memory state from the store before anything is consumed.
    mutating func restore(from store: StateStore) throws
    /// Applies one decoded input, with the causes its producer named, to the in-memory state (pure domain
    /// work), in input order.
    mutating func apply(_ input: Input, causes: Provenance) throws
    /// Periodic work without new input (e.g. the evaluation date advancing). Called about once a second.
    mutating func tick() throws
    /// The outputs and state rows changed since the previous flush, at most one per key.
    mutating func flush() throws -> StepResult
    /// Called after a flush's outputs are acknowledged and its state and offsets are durable (e.g. to
    /// notify live subscribers).
    mutating func didCommit()
    /// About how many records the next flush would write (the keys changed so far): lets the runtime hold
    /// a flush back while it would write more records than it has inputs.
    var pendingOutputs: Int { get }

    /// A producer whose output is absolute per key names the topic it can publish again…
    var republication: Republication? { get }
    /// …and gives the current absolute value of every key it publishes there.
    func republish() throws -> [OutgoingMessage]

    /// A consumer that rebuilds lost input from its producers' republished outputs names those topics; the
    /// runtime calls `resyncBegan` when it skips a partition to its end and asks for it, and `resyncDone`
    /// for each producer's marker in it.
    var resyncableTopics: Set<String> { get }
    mutating func resyncBegan(_ partition: TopicPartition, requestId: String)
    mutating func resyncDone(_ partition: TopicPartition, _ done: ResyncDone)
}

extension StreamStage {
    public mutating func tick() throws {}
    public mutating func didCommit() {}
    public var pendingOutputs: Int { 0 }
    public var republication: Republication? { nil }
    public func republish() throws -> [OutgoingMessage] { [] }
    public var resyncableTopics: Set<String> { [] }
    public mutating func resyncBegan(_ partition: TopicPartition, requestId: String) {}
    public mutating func resyncDone(_ partition: TopicPartition, _ done: ResyncDone) {}
}

/// A value read by HTTP handlers while the stream thread replaces it at each flush.
public final class Snapshot<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    public init(_ initial: Value) { value = Mutex(initial) }
    public var current: Value { value.withLock { $0 } }
    public func set(_ new: Value) { value.withLock { $0 = new } }
}
