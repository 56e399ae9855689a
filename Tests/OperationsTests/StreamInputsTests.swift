import NPRCore
import Testing

@testable import Kafka
@testable import ServiceRuntime

/// A stage declares its inputs, one decoder per topic; the runtime holds them to the topic catalogue at start
/// and decodes each record with its topic's decoder.
@Suite struct StreamInputsTests {
    static func inputs(_ service: String, _ topics: [String]) -> StreamInputs<String> {
        StreamInputs(service: service, Dictionary(uniqueKeysWithValues: topics.map { topic in (topic, { @Sendable (m: ConsumedMessage) in m.topic }) }))
    }

    @Test func declaredInputsMustBeTheServicesInputsInTheCatalogue() throws {
        for (service, topics) in Topic.inputs {
            // npr.control is read by the runtime itself, for the stages that republish.
            let own = topics.filter { $0 != Topic.control }, runtime = topics.filter { $0 == Topic.control }
            #expect(try Self.inputs(service, own).subscription(with: runtime) == topics.sorted())
            #expect(throws: StartupError.self) { try Self.inputs(service, own.dropLast().map { $0 }).subscription(with: runtime) }
            #expect(throws: StartupError.self) { try Self.inputs(service, own + [Topic.deadLetter]).subscription(with: runtime) }
        }
    }

    @Test func eachRecordIsDecodedByItsTopicsDecoderAndAnUndeclaredTopicIsRefused() throws {
        let linker = Self.inputs("episode-linker", [Topic.units, Topic.activities])
        func record(_ topic: String) -> ConsumedMessage {
            ConsumedMessage(topic: topic, partition: 0, offset: 0, key: nil, value: nil, headers: [], timestampMs: nil)
        }
        #expect(try linker.decode(record(Topic.activities)) == Topic.activities)
        #expect(throws: UndeclaredInput.self) { try linker.decode(record(Topic.cells)) }
    }

    @Test func aRepublisherOwnsWhatTheCatalogueGivesIt() {
        #expect(Republication(topic: Topic.cells, service: "mortality-linker").owns == ["tsb-overdodelighet"])
        #expect(Republication(topic: Topic.cells, service: "indicator-calculator").owns.count == 3)
        #expect(Republication(topic: Topic.cells, service: "publisher").owns.isEmpty)
    }
}

/// The coder of a store namespace is chosen where it is declared, from its value type: the per-message state
/// rows in their wire form, reference data through Foundation.
@Suite struct StateNamespaceCoderTests {
    @Test func theSharedPerMessageNamespacesUseTheWireForm() throws {
        #expect(StateNamespace.episodeSlots.usesWireForm)
        #expect(StateNamespace.stayHeads.usesWireForm)
        #expect(StateNamespace.population.usesWireForm)
        #expect(!StateNamespace.units.usesWireForm)
    }

    @Test func aRowReadsBackAsItWasWritten() throws {
        let head = PatientStaysHead(sequence: 7, stays: [])
        let row = try StateNamespace.stayHeads.row("p1", head)
        #expect(try row.value.map { try PatientStaysHead(wireJSON: $0) } == head)
        #expect(try StateNamespace.stayHeads.row("p1", nil).value == nil)
    }
}
