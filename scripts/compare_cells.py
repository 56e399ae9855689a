#!/usr/bin/env python3
"""Compare the batch peer's cells with the stream's published values.

Usage: python3 scripts/compare_cells.py PEER_CSV STREAM_JSON [--indicators tsb-avbrudd,tsb-nokkeltall]

PEER_CSV is scripts/batch_peer.py's output; STREAM_JSON the publisher's `GET /v1/indicators` array (a JSON
array of PublishedValue; NDJSON is accepted too). For the compared indicators:
  * every stream value with status `ok` or `undefined` must have the peer's numerator and denominator;
  * every suppressed stream value's cell must exist in the peer (its parts are hidden);
  * every peer cell must exist in the stream.
Prints `compared N cells: K equal, D differ` and the first 20 differences; exits 1 on any difference.
"""
import argparse
import csv
import json
import sys

KEY = ("indicator", "measure", "period", "level", "unit", "sex")


def load_stream(path):
    text = open(path).read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        return json.loads(text)
    if stripped.startswith("{") and "\n" not in stripped.strip():
        obj = json.loads(text)
        return obj.get("values") or obj.get("items") or [obj]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def as_int(text):
    return None if text in ("", None) else int(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("peer_csv")
    ap.add_argument("stream_json")
    ap.add_argument("--indicators", default="tsb-avbrudd,tsb-nokkeltall")
    ap.add_argument("--show", type=int, default=20, help="differences to print")
    args = ap.parse_args()
    indicators = set(args.indicators.split(","))

    peer = {}
    with open(args.peer_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["indicator"] in indicators:
                peer[tuple(row[k] for k in KEY)] = (as_int(row["numerator"]), as_int(row["denominator"]))

    stream = {}
    for v in load_stream(args.stream_json):
        if v.get("indicator") in indicators:
            stream[tuple(str(v[k]) for k in KEY)] = v

    differences = []
    equal = 0
    compared = 0
    statuses = {}
    for key in sorted(stream):
        v = stream[key]
        status = v.get("status")
        statuses[status] = statuses.get(status, 0) + 1
        compared += 1
        mine = peer.get(key)
        if mine is None:
            differences.append((key, f"stream {status} {v.get('numerator')}/{v.get('denominator')}, missing in peer"))
            continue
        if status in ("ok", "undefined"):
            theirs = (v.get("numerator"), v.get("denominator"))
            if theirs == mine:
                equal += 1
            else:
                differences.append((key, f"stream {status} {theirs[0]}/{theirs[1]}, peer {mine[0]}/{mine[1]}"))
        elif status in ("suppressed-primary", "suppressed-secondary"):
            equal += 1   # exists on both sides; the parts are hidden
        else:
            differences.append((key, f"stream has unknown status {status!r}"))
    for key in sorted(set(peer) - set(stream)):
        compared += 1
        mine = peer[key]
        differences.append((key, f"peer {mine[0]}/{mine[1]}, missing in stream"))

    print(f"compared {compared} cells: {equal} equal, {len(differences)} differ"
          f"  (stream {len(stream)} by status {dict(sorted(statuses.items()))}; peer {len(peer)})")
    for key, what in differences[:args.show]:
        print("  " + "|".join(key) + ": " + what)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
