import Foundation
import GRDB
import Kafka
import Logging
import Metrics
import NPRCore
import Synchronization

/// A service's own durable store (SQLite through GRDB): keyed state rows and the input offsets they
/// reflect, always written together in one transaction, so a restart resumes exactly where the state is.
///
/// Rows are appended to a journal (a rowid table, so a commit writes a few pages at its end whatever the
/// keys) and merged into the keyed `state` table in key order on opening and when the journal holds as many
/// rows as the keyed table (at least `journalLimit`): a merge rewrites about the whole table, so merging at a
/// fixed size ratio keeps its cost per row written constant however large the state grows. Keys are pseudonyms, message ids and cell keys, which arrive in random order: written
/// straight into a keyed B-tree, every row of a commit would dirty its own page.
public final class StateStore: @unchecked Sendable {
    public struct Row: Sendable {
        public var namespace: String
        public var key: String
        /// nil deletes the row.
        public var value: Data?
        public init(namespace: String, key: String, value: Data?) {
            self.namespace = namespace
            self.key = key
            self.value = value
        }
    }

    /// A pool: in WAL mode, readers (the publisher's history queries) never wait for the stream's commits.
    let db: DatabasePool
    let journalLimit: Int
    let path: String

    /// Bytes on disk: the database and its write-ahead log.
    public var sizeBytes: Int64 {
        ["", "-wal"].reduce(0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    /// Rows in the journal, and in the keyed table after the last merge.
    private let sizes = Mutex((journal: 0, keyed: 0))
    /// A merge holds the commit that triggers it (and the service's stream) for its whole length: operators see
    /// each one timed and logged.
    private let mergeTimer: Metrics.Timer
    private let logger: Logger

    /// `durable`: every commit is synced to disk before it returns (synchronous=FULL), so it survives a power
    /// loss, not only a killed process (NORMAL). Intake's ledger needs it: a 200 answer promises that a resent
    /// record is a duplicate. The services' stores do not: a lost last commit is replayed from their input.
    public init(path: String, journalLimit: Int = 1_000_000, durable: Bool = false) throws {
        self.path = path
        let service = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        mergeTimer = Metrics.Timer(label: "npr_state_merge_seconds", dimensions: [("service", service)])
        logger = Logger(label: service)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
            // 64 MiB of page cache (default 2 MiB) for the merges into the keyed table.
            try db.execute(sql: "PRAGMA cache_size=-65536")
            // The journal merge sorts up to a million rows: in memory, not in temporary files.
            try db.execute(sql: "PRAGMA temp_store=MEMORY")
        }
        db = try DatabasePool(path: path, configuration: config)
        self.journalLimit = journalLimit
        try db.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS state (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB);
                    CREATE TABLE IF NOT EXISTS offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID;
                    """)
        }
        try mergeJournal()
    }

    /// Writes state rows and the next input offsets atomically.
    public func commit(rows: [Row], offsets: [TopicPartition: Int64]) throws {
        try db.write { db in
            let append = try db.cachedStatement(sql: "INSERT INTO journal (ns, key, value) VALUES (?, ?, ?)")
            for r in rows { try append.execute(arguments: [r.namespace, r.key, r.value]) }
            let off = try db.cachedStatement(sql: "INSERT OR REPLACE INTO offsets (topic, partition, next) VALUES (?, ?, ?)")
            for (tp, next) in offsets { try off.execute(arguments: [tp.topic, Int(tp.partition), next]) }
        }
        let due = sizes.withLock { s in
            s.journal += rows.count
            return s.journal >= max(journalLimit, s.keyed)
        }
        if due { try mergeJournal() }
    }

    /// Moves the journal into the keyed table: the latest row per key, in key order, in one transaction.
    func mergeJournal() throws {
        let started = ContinuousClock.now
        var journalRows = 0
        try db.write { db in
            journalRows = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO state (ns, key, value)
                      SELECT ns, key, value FROM journal WHERE seq IN (SELECT max(seq) FROM journal GROUP BY ns, key) AND value IS NOT NULL
                      ORDER BY ns, key;
                    DELETE FROM state WHERE (ns, key) IN
                      (SELECT ns, key FROM journal WHERE seq IN (SELECT max(seq) FROM journal GROUP BY ns, key) AND value IS NULL);
                    DELETE FROM journal;
                    """)
        }
        let keyed = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM state") ?? 0 }
        sizes.withLock { $0 = (0, keyed) }
        let elapsed = ContinuousClock.now - started
        if journalRows > 0 {
            mergeTimer.recordNanoseconds(elapsed.nanoseconds)
            logger.notice(
                "state journal merged into the keyed table",
                metadata: ["journalRows": "\(journalRows)", "keyedRows": "\(keyed)", "seconds": "\(String(format: "%.1f", elapsed.seconds))"])
        }
    }

    /// Every row of a namespace: the keyed table with the journal applied in order.
    public func rows(namespace: String) throws -> [(key: String, value: Data)] {
        try db.read { db in
            var latest: [String: Data?] = [:]
            var order: [String] = []
            let keyed = try SQLRow.fetchCursor(db, sql: "SELECT key, value FROM state WHERE ns = ?", arguments: [namespace])
            while let r = try keyed.next() {
                let key: String = r["key"]
                latest[key] = r["value"] as Data
                order.append(key)
            }
            let journal = try SQLRow.fetchCursor(db, sql: "SELECT key, value FROM journal WHERE ns = ? ORDER BY seq", arguments: [namespace])
            while let r = try journal.next() {
                let key: String = r["key"]
                if latest[key] == nil { order.append(key) }
                latest[key] = .some(r["value"] as Data?)
            }
            return order.compactMap { k in latest[k].flatMap { $0 }.map { (k, $0) } }
        }
    }

    /// Visits every row of a namespace whose key starts with `prefix` (the keyed table with the journal
    /// applied), without holding them all: keyed rows stream in key order, then the journal's new keys follow.
    public func forEachRow(namespace: String, keyPrefix prefix: String, _ body: (String, Data) throws -> Void) throws {
        // Keys in [prefix, prefix with its last character incremented): a range the primary key serves.
        var range = "key >= ?"
        var arguments: StatementArguments = [namespace, prefix]
        if let last = prefix.unicodeScalars.last, let next = Unicode.Scalar(last.value + 1) {
            range += " AND key < ?"
            arguments += [String(prefix.unicodeScalars.dropLast()) + String(next)]
        }
        try db.read { db in
            var journal: [String: Data?] = [:]
            let recent = try SQLRow.fetchCursor(db, sql: "SELECT key, value FROM journal WHERE ns = ? AND \(range) ORDER BY seq", arguments: arguments)
            while let r = try recent.next() { journal[r["key"] as String] = .some(r["value"] as Data?) }
            let keyed = try SQLRow.fetchCursor(db, sql: "SELECT key, value FROM state WHERE ns = ? AND \(range) ORDER BY key", arguments: arguments)
            while let r = try keyed.next() {
                let key: String = r["key"]
                if let newer = journal.removeValue(forKey: key) {
                    if let value = newer { try body(key, value) }
                } else {
                    try body(key, r["value"] as Data)
                }
            }
            for (key, value) in journal.sorted(by: { $0.key < $1.key }) {
                if let value { try body(key, value) }
            }
        }
    }

    public func row(namespace: String, key: String) throws -> Data? {
        try db.read { db in
            if let r = try SQLRow.fetchOne(
                db, sql: "SELECT value FROM journal WHERE ns = ? AND key = ? ORDER BY seq DESC LIMIT 1",
                arguments: [namespace, key])
            {
                return r["value"] as Data?
            }
            return try Data.fetchOne(db, sql: "SELECT value FROM state WHERE ns = ? AND key = ?", arguments: [namespace, key])
        }
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
