import Foundation
import NPRCore
import SyntheticData
import Testing

/// The JSON Schema contracts in /work/main/contracts against the NPRCore Codable types: every example
/// of a message or event schema decodes into its Swift type and encodes back to the same JSON.
enum Contracts {
    /// `contracts/` next to `Tests/` (symlinks resolved: dev packages link this folder in).
    static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contracts")

    static func json(_ file: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file)))
    }

    static func examples(_ file: String) throws -> [Any] {
        let schema = try #require(try json(file) as? [String: Any])
        return try #require(schema["examples"] as? [Any])
    }

    /// Canonical JSON: keys sorted, so key order does not matter.
    static func canonical(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }
}

/// One schema file and the Swift type its examples must round-trip through.
struct ContractCase: Sendable, CustomStringConvertible {
    let file: String
    let roundTrip: @Sendable (Data) throws -> Data
    var description: String { file }

    init<T: Codable & Sendable>(_ file: String, _ type: T.Type) {
        self.file = file
        roundTrip = { try JSONEncoder().encode(try JSONDecoder().decode(T.self, from: $0)) }
    }

    static let all: [ContractCase] = [
        ContractCase("activity-message.v1.schema.json", ActivityMessage.self),
        ContractCase("death-record.v1.schema.json", DeathRecord.self),
        ContractCase("population-count.v1.schema.json", PopulationCount.self),
        ContractCase("unit.v1.schema.json", NPRCore.Unit.self),
        ContractCase("municipality.v1.schema.json", Municipality2024.self),
        ContractCase("activity-event.v1.schema.json", ActivityEvent.self),
        ContractCase("death-event.v1.schema.json", DeathEvent.self),
        ContractCase("population-event.v1.schema.json", PopulationEvent.self),
        ContractCase("stay-changelog.v1.schema.json", StayChangelog.self),
        ContractCase("cell-update.v1.schema.json", CellUpdate.self),
        ContractCase("published-value.v1.schema.json", PublishedValue.self),
    ]
}

@Suite struct ContractRoundTrips {
    @Test(arguments: ContractCase.all)
    func examplesRoundTripThroughTheSwiftType(_ contract: ContractCase) throws {
        let examples = try Contracts.examples(contract.file)
        #expect(!examples.isEmpty)
        for (i, example) in examples.enumerated() {
            let encoded = try contract.roundTrip(try JSONSerialization.data(withJSONObject: example))
            let reencoded = try JSONSerialization.jsonObject(with: encoded)
            #expect(try Contracts.canonical(reencoded) == Contracts.canonical(example), "\(contract.file) example \(i)")
        }
    }

    /// The wire examples are also valid by the rules a schema cannot express (check digits, birth date
    /// agreement, unit register), against the synthetic unit register the examples use.
    @Test func wireExamplesAreValidRecords() throws {
        let units = Dictionary(uniqueKeysWithValues: SyntheticGenerator.units.map { ($0.unitId, $0) })
        for example in try Contracts.examples("activity-message.v1.schema.json") {
            let m = try JSONDecoder().decode(ActivityMessage.self, from: JSONSerialization.data(withJSONObject: example))
            #expect(WireRules.problems(m, units: units).isEmpty, "\(m.messageId)")
        }
        for example in try Contracts.examples("death-record.v1.schema.json") {
            let d = try JSONDecoder().decode(DeathRecord.self, from: JSONSerialization.data(withJSONObject: example))
            #expect(WireRules.problems(d).isEmpty, "\(d.messageId)")
        }
        for example in try Contracts.examples("unit.v1.schema.json") {
            let u = try JSONDecoder().decode(NPRCore.Unit.self, from: JSONSerialization.data(withJSONObject: example))
            #expect(units[u.unitId] == u)
        }
    }

    /// contracts/topics.json declares the same topics, partitions and compaction as `Topic.catalogue`.
    @Test func topicCatalogueMatchesTopicsSwift() throws {
        let catalogue = try #require(try Contracts.json("topics.json") as? [String: Any])
        let topics = try #require(catalogue["topics"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: topics.map { ($0["name"] as? String ?? "", $0) })
        #expect(Set(byName.keys) == Set(Topic.catalogue.map(\.name)))
        for declaration in Topic.catalogue {
            let topic = try #require(byName[declaration.name])
            #expect(topic["partitions"] as? Int == declaration.partitions, "\(declaration.name)")
            #expect((topic["cleanupPolicy"] as? String == "compact") == declaration.compacted, "\(declaration.name)")
            let schema = try #require(topic["valueSchema"] as? String)
            #expect(FileManager.default.fileExists(atPath: Contracts.directory.appendingPathComponent(schema).path), "\(schema)")
        }
    }
}
