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
        let inputs = (0..<1000).map { i in i == 700 ? Array("not json".utf8) : try! JSONCodec.encode(PopulationEvent(year: 2024, municipality: "0301", sex: 1, age: 1, count: i)) }
        #expect(throws: JSONWireError.self) { try BatchCodec.map(inputs) { try JSONCodec.decode(PopulationEvent.self, from: $0) } }
    }
}
