#!/usr/bin/env python3
"""How long one journal merge of the services' state store takes (README, "Store").

Runs the merge statement of Shared/ServiceRuntime/StateStore.swift (mergeJournal) in SQLite with the store's
pragmas on N journal rows of episode-sized values (500 bytes, 70 % distinct keys): first into an empty keyed
table, then a second journal of N rows into the table the first one left.

usage: scripts/store_merge_cost.py [N]   (default 1 000 000)
"""
import os
import random
import sqlite3
import sys
import tempfile
import time

MERGE = """BEGIN;
INSERT OR REPLACE INTO state (ns, key, value)
  SELECT ns, key, value FROM journal WHERE seq IN (SELECT max(seq) FROM journal GROUP BY ns, key) AND value IS NOT NULL
  ORDER BY ns, key;
DELETE FROM state WHERE (ns, key) IN
  (SELECT ns, key FROM journal WHERE seq IN (SELECT max(seq) FROM journal GROUP BY ns, key) AND value IS NULL);
DELETE FROM journal;
COMMIT;"""


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    keys = int(n * 0.7)
    value = os.urandom(250).hex().encode()
    with tempfile.TemporaryDirectory() as directory:
        db = sqlite3.connect(os.path.join(directory, "store.sqlite"), isolation_level=None)
        for pragma in ["journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY"]:
            db.execute("PRAGMA " + pragma)
        db.executescript(
            """CREATE TABLE state (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
            CREATE TABLE journal (seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB);""")
        rng = random.Random(1)
        for label in ["into an empty table", "into the table the first merge left"]:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO journal (ns, key, value) VALUES ('slot', ?, ?)",
                (("%016x|ep-%d" % (k * 2654435761 % (1 << 64), k), value)
                 for k in (rng.randrange(keys) for _ in range(n))))
            db.execute("COMMIT")
            started = time.time()
            db.executescript(MERGE)
            print(f"merge of {n:,} journal rows {label}: {time.time() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
