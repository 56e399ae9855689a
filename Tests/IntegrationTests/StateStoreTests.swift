import Foundation
import Kafka
import ServiceRuntime
import SyntheticData
import Testing

/// The service store: rows go to a journal and are merged into the keyed table; whatever the merge points
/// and reopenings, every namespace reads back as the last write per key (deletes included), with the offsets
/// committed beside them.
@Suite struct StateStoreTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func journalAndMergesReadBackTheLatestRowPerKey(seed: UInt64) throws {
        let path = temporaryDirectory() + "/store.sqlite"
        var rng = SplitMix64(seed: seed)
        var model: [String: [String: Data]] = [:]
        var store = try StateStore(path: path, journalLimit: 50)
        var offset: Int64 = 0
        for commit in 0..<60 {
            var rows: [StateStore.Row] = []
            for _ in 0..<rng.int(0...30) {
                let ns = ["slot", "head"][rng.int(0...1)], key = "k\(rng.int(0...40))"
                let value: Data? = rng.int(0...4) == 0 ? nil : Data("v\(commit)-\(rng.int(0...1000))".utf8)
                rows.append(StateStore.Row(namespace: ns, key: key, value: value))
                model[ns, default: [:]][key] = value
            }
            offset += Int64(rows.count)
            try store.commit(rows: rows, offsets: [TopicPartition("t", 0): offset])
            if rng.int(0...9) == 0 { store = try StateStore(path: path, journalLimit: 50) }  // a restart merges the journal
            for ns in ["slot", "head"] {
                let read = Dictionary(uniqueKeysWithValues: try store.rows(namespace: ns).map { ($0.key, $0.value) })
                #expect(read == (model[ns] ?? [:]), "after commit \(commit)")
                if let (key, value) = model[ns]?.first { #expect(try store.row(namespace: ns, key: key) == value) }
                // A prefix range reads the same rows as filtering the whole namespace, each once.
                for prefix in ["", "k", "k1", "k3", "k40", "x"] {
                    var visited: [String: Data] = [:]
                    try store.forEachRow(namespace: ns, keyPrefix: prefix) { key, value in
                        #expect(visited.updateValue(value, forKey: key) == nil, "\(key) visited twice")
                    }
                    #expect(visited == (model[ns] ?? [:]).filter { $0.key.hasPrefix(prefix) }, "prefix \(prefix) after commit \(commit)")
                }
            }
            #expect(try store.offsets()[TopicPartition("t", 0)] == offset)
        }
    }
}
