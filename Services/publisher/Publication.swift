import Foundation
import Kafka
import NPRCore
import Publishing
import ServiceRuntime
import Synchronization

/// One entry of the publication log: a changed value or a removed key, numbered for SSE resume.
struct PublicationEvent: Codable, Sendable {
    var id: Int
    var key: String
    /// nil: the value was withdrawn (no contributions left).
    var value: PublishedValue?
}

extension PublicationEvent {
    /// Rows ordered by id as text.
    static func rowKey(_ id: Int) -> String { String(format: "%012d", id) }
}

extension StateNamespace where Value == PublisherEngine.Slot {
    /// Each value's cell, published content and revision, by value key.
    static var publisherSlots: Self { Self("slot") }
}
extension StateNamespace where Value == PublishedRevision {
    /// Every revision ever published, by `Vintage.rowKey` (read by prefix for vintages and histories).
    static var history: Self { Self("history") }
}
extension StateNamespace where Value == PublicationEvent {
    /// The publication log kept for resuming event streams, by `PublicationEvent.rowKey`.
    static var publicationEvents: Self { Self("event") }
}

/// What a live subscriber receives: a publication event, or a beat that keeps an idle stream open through
/// proxies that close silent connections.
enum StreamItem: Sendable { case event(PublicationEvent), keepAlive }

/// Live fan-out of publication events to SSE subscribers.
final class Broadcaster: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<StreamItem>.Continuation]>([:])
    /// Streams open at once (`NPR_SSE_MAX_SUBSCRIBERS`); more are refused with 503.
    let maxSubscribers: Int
    /// Events held for one slow subscriber; one that falls further behind is ended, and resumes from the
    /// publication log with Last-Event-ID (nothing is dropped silently).
    let bufferPerSubscriber: Int

    /// How often every stream hears a keep-alive comment (`NPR_SSE_KEEPALIVE_S`).
    let keepAliveInterval: Duration

    init(maxSubscribers: Int = 100, bufferPerSubscriber: Int = 10_000, keepAliveInterval: Duration = .seconds(15)) {
        self.maxSubscribers = maxSubscribers
        self.bufferPerSubscriber = bufferPerSubscriber
        self.keepAliveInterval = keepAliveInterval
        Task { [weak self] in
            while let interval = self?.keepAliveInterval {
                try? await Task.sleep(for: interval)
                self?.deliver([.keepAlive])
            }
        }
    }

    /// A live stream of events, or nil when `maxSubscribers` streams are open.
    func subscribe() -> AsyncStream<StreamItem>? {
        let id = UUID()
        let (stream, continuation) = AsyncStream<StreamItem>.makeStream(bufferingPolicy: .bufferingOldest(bufferPerSubscriber))
        let added = subscribers.withLock { s -> Bool in
            guard s.count < maxSubscribers else { return false }
            s[id] = continuation
            return true
        }
        guard added else {
            continuation.finish()
            return nil
        }
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    /// Ends every stream (shutdown), so the HTTP server can drain.
    func finishAll() {
        let subs = subscribers.withLock { s in
            defer { s.removeAll() }
            return Array(s.values)
        }
        for s in subs { s.finish() }
    }

    func send(_ events: [PublicationEvent]) { deliver(events.map(StreamItem.event)) }

    private func deliver(_ items: [StreamItem]) {
        let subs = subscribers.withLock { Array($0.values) }
        for s in subs {
            for item in items {
                if case .dropped = s.yield(item) {
                    s.finish()
                    break
                }
            }
        }
    }
}

/// What the publisher has published, shared by the stream thread (which changes it at each flush) and the
/// HTTP readers: the engine's values, the numbered publication log kept for SSE resume, the live subscribers
/// and the store that holds the revision history.
final class Publication: Sendable {
    let engine = Mutex(PublisherEngine())
    let log = Mutex<[PublicationEvent]>([])
    let broadcaster: Broadcaster
    /// The store the runtime commits to; history queries read it (concurrently with commits).
    let store: StateStore
    /// How many log entries are kept for resuming streams.
    let retainedEvents = 200_000

    init(broadcaster: Broadcaster, store: StateStore) {
        self.broadcaster = broadcaster
        self.store = store
    }

    func values(_ q: [String: String]) -> [PublishedValue] {
        engine.withLock {
            $0.values(
                indicator: q["indicator"], measure: q["measure"], period: q["period"],
                level: q["level"], unit: q["unit"], sex: q["sex"])
        }
    }

    /// As `values`, with each value's unit and parent (for JSON-stat).
    func cells(_ q: [String: String]) -> [PublishedCell] {
        engine.withLock {
            $0.cells(
                indicator: q["indicator"], measure: q["measure"], period: q["period"],
                level: q["level"], unit: q["unit"], sex: q["sex"])
        }
    }

    /// Every history entry whose key passes the filters (the leading ones narrow the range read).
    func forEachRevision(_ q: [String: String], _ body: (PublishedRevision) throws -> Void) throws {
        let prefix = Vintage.rowKeyPrefix(
            indicator: q["indicator"], measure: q["measure"], period: q["period"], level: q["level"],
            unit: q["unit"], sex: q["sex"])
        let filters = ["indicator", "measure", "period", "level", "unit", "sex"].map { q[$0] }
        try store.forEachRow(namespace: StateNamespace.history.name, keyPrefix: prefix) { _, data in
            let entry = try JSONCodec.decode(PublishedRevision.self, from: data)
            let components = entry.key.split(separator: "|", omittingEmptySubsequences: false)
            guard components.count == filters.count,
                zip(filters, components).allSatisfy({ $0 == nil || $0! == $1 })
            else { return }
            try body(entry)
        }
    }

    /// The values as they were published at `moment` (milliseconds since 1970).
    func values(_ q: [String: String], publishedAt moment: Int64) throws -> [PublishedValue] {
        var selection = Vintage.Selection(atMs: moment)
        try forEachRevision(q) { selection.consider($0) }
        return selection.values
    }

    /// At most `limit` events after `id`, oldest first (ids ascend, so the start is found by binary search).
    func events(after id: Int, limit: Int) -> [PublicationEvent] {
        log.withLock { l in
            var low = 0, high = l.count
            while low < high {
                let mid = (low + high) / 2
                if l[mid].id <= id { low = mid + 1 } else { high = mid }
            }
            return Array(l[low..<min(l.count, low + limit)])
        }
    }

    /// Id of the newest publication event: a client that read the values may resume the stream from it.
    /// Read it before the values: a snapshot may then hold changes the stream repeats (harmless), never miss one.
    var lastEventId: Int { log.withLock { $0.last?.id ?? 0 } }
}

/// The publisher as the stream runtime drives it: cells in, suppressed published values out (npr.indicators),
/// with a numbered publication log kept in the store for SSE resume.
struct PublisherStage: StreamStage {
    let publication: Publication

    let inputs = StreamInputs<Input>(service: "publisher", [Topic.cells: { Input(update: try $0.decode(CellUpdate.self), partition: $0.partition) }])
    struct Input: Sendable {
        var update: CellUpdate
        var partition: Int32
    }

    mutating func restore(from store: StateStore) throws {
        let restored = PublisherEngine(slots: Array(try StateNamespace.publisherSlots.load(from: store).values))
        publication.engine.withLock { $0 = restored }
        let events = Array(try StateNamespace.publicationEvents.load(from: store).values)
        publication.log.withLock { $0 = events.sorted { $0.id < $1.id } }
    }

    mutating func apply(_ input: Input, causes: Provenance) {
        publication.engine.withLock { $0.apply(input.update, causes: causes) }
        if resyncs[input.partition] != nil { resyncs[input.partition]!.refreshed.insert(input.update.key) }
    }

    /// Partitions of npr.cells being rebuilt from the producers' republished cells (stream thread only).
    struct Resync {
        var requestId: String
        var refreshed: Set<CellKey> = []
        var waitingFor: Set<String>
    }
    var resyncs: [Int32: Resync] = [:]

    /// Suppression runs once per flush over the cells changed since the last one; each changed value is
    /// published once.
    mutating func flush() throws -> StepResult {
        let moment = Date()
        let now = ISO8601DateFormatter().string(from: moment)
        let momentMs = Int64((moment.timeIntervalSince1970 * 1000).rounded(.down))
        // Publish under the lock; encode the changed slots outside it, so readers never wait on that.
        let (published, causes, changedSlots) = publication.engine.withLock { e in
            let published = e.publish(now: now)
            return (published, e.publishedCauses, e.takeStateChanges())
        }
        var rows = try BatchCodec.map(changedSlots) { try StateNamespace.publisherSlots.row($0.key, $0.slot) }
        var outputs: [OutgoingMessage] = []
        var events: [PublicationEvent] = []
        var nextId = publication.log.withLock { ($0.last?.id ?? 0) + 1 }
        for v in published.changed {
            outputs.append(try .json(topic: Topic.indicators, key: v.key, v))
            events.append(PublicationEvent(id: nextId, key: v.key, value: v))
            nextId += 1
        }
        for k in published.removed {
            outputs.append(OutgoingMessage(topic: Topic.indicators, key: k, value: nil))
            events.append(PublicationEvent(id: nextId, key: k, value: nil))
            nextId += 1
        }
        rows += try events.map { try StateNamespace.publicationEvents.row(PublicationEvent.rowKey($0.id), $0) }
        // The revision history, kept whole (the event log above is trimmed): vintages and per-value history.
        let momentText = Vintage.isoText(milliseconds: momentMs)
        rows += try BatchCodec.map(events) {
            try StateNamespace.history.row(
                Vintage.rowKey($0.key, eventId: $0.id),
                PublishedRevision(
                    key: $0.key, eventId: $0.id, publishedAtMs: momentMs, publishedAt: momentText,
                    value: $0.value, causes: causes[$0.key] ?? Provenance()))
        }
        let retained = publication.retainedEvents
        let dropped: [PublicationEvent] = publication.log.withLock { l in
            l += events
            let excess = l.count - retained
            guard excess > 0 else { return [] }
            defer { l.removeFirst(excess) }
            return Array(l.prefix(excess))
        }
        rows += try dropped.map { try StateNamespace.publicationEvents.row(PublicationEvent.rowKey($0.id), nil) }
        // Subscribers hear of events only once they are durable; the runtime commits right after.
        pendingBroadcast = events
        return StepResult(outputs: outputs, rows: rows)
    }

    var pendingBroadcast: [PublicationEvent] = []

    mutating func didCommit() {
        let events = pendingBroadcast
        pendingBroadcast = []
        if !events.isEmpty { publication.broadcaster.send(events) }
    }
}

extension PublicationEvent: JSONWireCodable {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("id", id)
            $0.field("key", key)
            $0.field("value", value)
        }
    }
    init(from json: inout JSONReader) throws(JSONWireError) {
        var id: Int?, key: String?, value: PublishedValue?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "id": id = try json.decode()
            case "key": key = try json.decode()
            case "value": value = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        try self.init(id: json.required(id, "id"), key: json.required(key, "key"), value: value)
    }
}

/// npr.cells input lost (the broker dropped cells never read): the runtime skipped to the end of the partition
/// and asked the calculator and the mortality-linker for every current cell. Each producer's marker says it
/// has sent all it owns in the partition; the cells of its indicators there that did not come again were
/// removed upstream in the lost stretch, and are removed here too.
extension PublisherStage {
    var resyncableTopics: Set<String> { [Topic.cells] }

    mutating func resyncBegan(_ partition: TopicPartition, requestId: String) {
        resyncs[partition.partition] = Resync(requestId: requestId, waitingFor: Set((Topic.republishers[Topic.cells] ?? []).map(\.service)))
    }

    mutating func resyncDone(_ partition: TopicPartition, _ done: ResyncDone) {
        guard var r = resyncs[partition.partition], r.requestId == done.requestId else { return }
        let owned = Set(done.owns)
        let partitions = Topic.partitions(of: Topic.cells)
        publication.engine.withLock { e in
            let stale = e.cellKeys.filter {
                owned.contains($0.indicator.rawValue) && !r.refreshed.contains($0)
                    && KeyPartitioner.partition(of: $0.string, partitions: partitions) == partition.partition
            }
            for key in stale { e.apply(CellUpdate(key: key, cell: nil)) }
        }
        r.waitingFor.remove(done.source)
        resyncs[partition.partition] = r.waitingFor.isEmpty ? nil : r
    }
}
