import Dispatch
import Foundation
import NPRCore

/// JSON on the topics and in the stores: one encoder configuration everywhere, reused (creating coders
/// per message is measurable at tens of thousands of messages a second). Types with a wire form
/// (`JSONWireCodable`: the events, state rows and cells of the stream) are written and read by it, which
/// gives the same JSON at a fraction of the cost; everything else goes through Foundation.
public enum JSONCodec {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
    static let decoder = JSONDecoder()

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let wire = value as? any JSONWireEncodable { return wire.wireJSON }
        return Array(try encoder.encode(value))
    }
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        if let wire = value as? any JSONWireEncodable { return Data(wire.wireJSON) }
        return try encoder.encode(value)
    }
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let wire = T.self as? any JSONWireDecodable.Type { return try wire.init(wireJSON: bytes) as! T }
        return try decoder.decode(type, from: Data(bytes))
    }
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let wire = T.self as? any JSONWireDecodable.Type { return try wire.init(wireJSON: data) as! T }
        return try decoder.decode(type, from: data)
    }
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
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard items.count >= 256, cores > 1 else { return try items.map(transform) }
        let results = ResultSlots<R>(count: items.count)
        let chunk = (items.count + cores - 1) / cores
        DispatchQueue.concurrentPerform(iterations: cores) { c in
            for i in (c * chunk)..<min(items.count, (c + 1) * chunk) {
                results.set(i, Result { try transform(items[i]) })
            }
        }
        return try results.values()
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
    func values() throws -> [R] { try (0..<count).map { try slots[$0]!.get() } }
}
