import Foundation
import NPRCore
import StreamCodec
import Testing

/// Decoding on every core must give exactly what decoding in order gives, for batches of every size.
@Suite struct BatchCodecTests {
    @Test(arguments: [0, 1, 255, 256, 2000, 20_001])
    func concurrentMapEqualsSequentialMap(count: Int) throws {
        let inputs = (0..<count).map { i in try! JSONCodec.encode(PopulationEvent(year: 2024, municipality: "0301", sex: 1 + i % 2, age: i % 100, count: i)) }
        let decoded = try BatchCodec.map(inputs) { try JSONCodec.decode(PopulationEvent.self, from: $0) }
        #expect(decoded == inputs.map { try! JSONCodec.decode(PopulationEvent.self, from: $0) })
        #expect(decoded.map(\.count) == Array(0..<count))
    }

    @Test func firstErrorIsThrown() {
        let inputs = (0..<1000).map { i in
            i == 700 ? Array("not json".utf8) : try! JSONCodec.encode(PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 1, count: i))
        }
        #expect(throws: JSONWireError.self) { try BatchCodec.map(inputs) { try JSONCodec.decode(PopulationEvent.self, from: $0) } }
    }

    /// Decoding ahead while consuming in order: every result, in order, for batches of every size.
    @Test(arguments: [0, 1, 255, 256, 2000, 20_001])
    func forEachConsumesEveryResultInOrder(count: Int) throws {
        let inputs = (0..<count).map { i in try! JSONCodec.encode(PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: i % 100, count: i)) }
        var consumed: [Int] = []
        try BatchCodec.forEach(inputs, { try JSONCodec.decode(PopulationEvent.self, from: $0) }) { consumed.append($0.count) }
        #expect(consumed == Array(0..<count))
    }

    /// The first failing item in order stops the batch: exactly the items before it were consumed, whichever
    /// thread decoded what; an error from `consume` itself stops it the same way.
    @Test(arguments: [0, 63, 64, 700, 1999])
    func forEachStopsAtTheFirstErrorInOrder(failing: Int) throws {
        let inputs = (0..<2000).map { i in
            i == failing || i == 1999
                ? Array("not json".utf8) : try! JSONCodec.encode(PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 1, count: i))
        }
        var consumed: [Int] = []
        #expect(throws: JSONWireError.self) {
            try BatchCodec.forEach(inputs, { try JSONCodec.decode(PopulationEvent.self, from: $0) }) { consumed.append($0.count) }
        }
        #expect(consumed == Array(0..<failing))

        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            let valid = inputs.indices.filter { $0 != failing && $0 != 1999 }.map { inputs[$0] }
            try BatchCodec.forEach(valid, { try JSONCodec.decode(PopulationEvent.self, from: $0) }) { _ in
                seen += 1
                if seen == 300 { throw Stop() }
            }
        }
        #expect(seen == 300)
    }
}
