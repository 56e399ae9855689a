import Foundation
import GRDB
import Kafka

/// A service's own durable store (SQLite through GRDB): keyed state rows and the input offsets they
/// reflect, always written together in one transaction, so a restart resumes exactly where the state is.
public final class StateStore: @unchecked Sendable {
    public struct Row: Sendable {
        public var namespace: String
        public var key: String
        /// nil deletes the row.
        public var value: Data?
        public init(namespace: String, key: String, value: Data?) { self.namespace = namespace; self.key = key; self.value = value }
    }

    let db: DatabaseQueue

    public init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            // WAL + NORMAL: a committed transaction survives a killed process.
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=NORMAL")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS state (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID;
                """)
        }
    }

    /// Writes state rows and the next input offsets atomically.
    public func commit(rows: [Row], offsets: [TopicPartition: Int64]) throws {
        try db.write { db in
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO state (ns, key, value) VALUES (?, ?, ?)")
            let delete = try db.cachedStatement(sql: "DELETE FROM state WHERE ns = ? AND key = ?")
            for r in rows {
                if let v = r.value { try upsert.execute(arguments: [r.namespace, r.key, v]) }
                else { try delete.execute(arguments: [r.namespace, r.key]) }
            }
            let off = try db.cachedStatement(sql: "INSERT OR REPLACE INTO offsets (topic, partition, next) VALUES (?, ?, ?)")
            for (tp, next) in offsets { try off.execute(arguments: [tp.topic, Int(tp.partition), next]) }
        }
    }

    public func rows(namespace: String) throws -> [(key: String, value: Data)] {
        try db.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT key, value FROM state WHERE ns = ?", arguments: [namespace]).map { ($0["key"], $0["value"]) }
        }
    }

    public func row(namespace: String, key: String) throws -> Data? {
        try db.read { db in try Data.fetchOne(db, sql: "SELECT value FROM state WHERE ns = ? AND key = ?", arguments: [namespace, key]) }
    }

    public func offsets() throws -> [TopicPartition: Int64] {
        try db.read { db in
            var out: [TopicPartition: Int64] = [:]
            for r in try SQLRow.fetchAll(db, sql: "SELECT topic, partition, next FROM offsets") {
                out[TopicPartition(r["topic"], Int32(r["partition"] as Int))] = r["next"]
            }
            return out
        }
    }
}

typealias SQLRow = GRDB.Row
