import Dispatch
import Foundation
import NPRCore

/// JSON on the topics and in the stores: one encoder configuration everywhere, reused (creating coders
/// per message is measurable at tens of thousands of messages a second). Types with a wire form
/// (`JSONWireCodable`: the events, state rows and cells of the stream) are written and read by it, which
/// gives the same JSON at a fraction of the cost; everything else goes through Foundation. The choice is the
/// compiler's (overloads by constraint), not a cast at run time.
public enum JSONCodec {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
    static let decoder = JSONDecoder()

    // Types with a hand-written wire form (`JSONWireCodable`: the events, state rows and cells every service
    // handles per message): the more constrained overloads, so the compiler picks them for those types. Their
    // bytes equal Foundation's (tested), so either coder reads what the other wrote.

    public static func encode<T: JSONWireEncodable & Encodable>(_ value: T) throws -> [UInt8] { value.wireJSON }
    public static func data<T: JSONWireEncodable & Encodable>(_ value: T) throws -> Data { Data(value.wireJSON) }
    public static func decode<T: JSONWireDecodable & Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T { try T(wireJSON: bytes) }
    public static func decode<T: JSONWireDecodable & Decodable>(_ type: T.Type, from data: Data) throws -> T { try T(wireJSON: data) }

    // Everything else (HTTP answers, reference data, control records): Foundation's coders, sorted keys.

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try encoder.encode(value)) }
    public static func data<T: Encodable>(_ value: T) throws -> Data { try encoder.encode(value) }
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T { try decoder.decode(type, from: Data(bytes)) }
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try decoder.decode(type, from: data) }
}

extension Data: JSONWireBytes {
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JSONWireError) -> R) throws(JSONWireError) -> R {
        // withUnsafeBytes rethrows untyped: carry the typed error out in a Result.
        try withUnsafeBytes { b in Result { () throws(JSONWireError) -> R in try body(b) } }.get()
    }
}

/// Decoding a batch and encoding its outputs dominate a service's step; both are independent per
/// message, so they run on every core while the engine applies the results in order on one thread.
public enum BatchCodec {
    /// `transform` over `items` on all cores, results in the order of `items`; the first error is thrown.
    public static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) throws -> R) throws -> [R] {
        var results: [R] = []
        results.reserveCapacity(items.count)
        try forEach(items, transform) { results.append($0) }
        return results
    }
}

extension BatchCodec {
    /// `transform` over `items` on every core, handing each result in order to `consume` on the calling
    /// thread as soon as it is ready: decoding overlaps the engine's in-order work instead of preceding
    /// it. The calling thread takes results that are ready and transforms the next chunk itself when none
    /// is. The first error in order is thrown after the results before it were consumed (a service then
    /// stops before committing, so nothing of the batch is kept).
    public static func forEach<T: Sendable, R: Sendable>(
        _ items: [T], _ transform: @Sendable (T) throws -> R,
        consume: (R) throws -> Void
    ) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard items.count >= 256, cores > 1 else {
            for item in items { try consume(try transform(item)) }
            return
        }
        try withoutActuallyEscaping(transform) { transform in
            let work = ChunkedWork(items: items, chunkSize: 64, transform: transform)
            let helpers = DispatchGroup()
            for _ in 1..<cores {
                DispatchQueue.global().async(group: helpers) { while work.transformNextChunk() {} }
            }
            // Helpers must be done with `transform` before it stops being valid, even after an error.
            defer { helpers.wait() }
            defer { work.cancel() }
            for chunk in 0..<work.chunkCount {
                while !work.isDone(chunk) {
                    if !work.transformNextChunk() { work.wait(for: chunk) }
                }
                for i in work.range(of: chunk) { try consume(try work.results.take(i)) }
            }
        }
    }
}

/// Chunks of a batch claimed in order by any thread, with a condition to wait for one being done.
private final class ChunkedWork<T: Sendable, R: Sendable>: @unchecked Sendable {
    let items: [T]
    let chunkSize: Int
    let chunkCount: Int
    let transform: @Sendable (T) throws -> R
    let results: ResultSlots<R>
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var nextChunk = 0
    private var done: [Bool]

    init(items: [T], chunkSize: Int, transform: @escaping @Sendable (T) throws -> R) {
        self.items = items
        self.chunkSize = chunkSize
        self.transform = transform
        chunkCount = (items.count + chunkSize - 1) / chunkSize
        results = ResultSlots(count: items.count)
        done = Array(repeating: false, count: chunkCount)
    }

    func range(of chunk: Int) -> Range<Int> { (chunk * chunkSize)..<min(items.count, (chunk + 1) * chunkSize) }

    /// Claims and transforms the next unclaimed chunk; false when none is left.
    func transformNextChunk() -> Bool {
        condition.lock()
        let chunk = nextChunk
        nextChunk += 1
        condition.unlock()
        guard chunk < chunkCount else { return false }
        for i in range(of: chunk) { results.set(i, Result { try transform(items[i]) }) }
        condition.lock()
        done[chunk] = true
        condition.broadcast()
        condition.unlock()
        return true
    }

    func isDone(_ chunk: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return done[chunk]
    }

    func wait(for chunk: Int) {
        condition.lock()
        while !done[chunk] { condition.wait() }
        condition.unlock()
    }

    /// No chunk is claimed after this (the consumer stopped at an error).
    func cancel() {
        condition.lock()
        nextChunk = chunkCount
        condition.unlock()
    }
}

/// Slots written by disjoint indices from several threads, read after they all finished. Raw storage:
/// an Array must not be mutated concurrently even at disjoint indices (its mutating accessors take the
/// whole buffer for the duration of the call).
private final class ResultSlots<R: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Result<R, Error>?>
    private let count: Int
    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }
    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }
    func set(_ i: Int, _ r: Result<R, Error>) { slots[i] = r }
    /// The value at `i`, leaving the slot empty (results are large; the consumer keeps its own copy).
    func take(_ i: Int) throws -> R {
        defer { slots[i] = nil }
        return try slots[i]!.get()
    }
}
