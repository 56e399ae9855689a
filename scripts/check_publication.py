#!/usr/bin/env python3
"""Reads the publisher's statistical views with independent readers and compares every value with
/v1/indicators:

- JSON-stat, read by pyjstat: each published value's value, numerator, denominator and interval must be in the
  dataset at its measure, period, region (<level>:<unit>), sex and contents, and nothing else may be;
- CSV in both dialects, read by Python's csv module: rfc4180 (comma, decimal point) and excel-nb (UTF-8
  byte-order mark, semicolon, decimal comma), each row equal to a published value, each with a
  Content-Disposition file name.

    check_publication.py http://127.0.0.1:8081 [--lang en]

Prints one line per view and exits 1 on the first difference (naming it). Needs pyjstat (make deps)."""
import argparse
import csv
import io
import json
import math
import sys
import urllib.request

from pyjstat import pyjstat

CONTENTS = ["value", "numerator", "denominator", "ciLower", "ciUpper"]


def get(url: str):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


NUMBERS = ["numerator", "denominator", "value", "ciLower", "ciUpper"]
TEXTS = ["indicator", "measure", "period", "level", "unit", "unitName", "sex", "status", "asOf", "updatedAt"]


def check_csv(publisher: str, published: list, dialect: str, lang: str) -> str | None:
    """None when the CSV in `dialect` holds exactly the published values, else what differs."""
    with urllib.request.urlopen(f"{publisher}/v1/indicators.csv?dialect={dialect}&lang={lang}", timeout=60) as r:
        raw, disposition = r.read(), r.headers.get("Content-Disposition", "")
    if not (disposition.startswith("attachment; filename=\"") and disposition.endswith(".csv\"")):
        return f"Content-Disposition {disposition!r}"
    bom = raw.startswith(b"\xef\xbb\xbf")
    if bom != (dialect == "excel-nb"):
        return f"byte-order mark {'present' if bom else 'missing'}"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";" if dialect == "excel-nb" else ","))
    by_key = {"|".join(v[k] for k in ("indicator", "measure", "period", "level", "unit", "sex")): v for v in published}
    if len(rows) != len(published):
        return f"{len(rows)} rows for {len(published)} values"
    for row in rows:
        # Formula-like text is written with a leading ' (CSV injection); none of the generated names is.
        v = by_key.get("|".join(row[k] for k in ("indicator", "measure", "period", "level", "unit", "sex")))
        if v is None:
            return f"row without a published value: {row}"
        for k in TEXTS:
            if row[k] != ("" if v[k] is None else str(v[k])):
                return f"{k} {row[k]!r} != {v[k]!r}"
        for k in NUMBERS:
            text = row[k].replace(",", ".") if dialect == "excel-nb" else row[k]
            if dialect == "excel-nb" and ("e" in text.lower() or "." in row[k]):
                return f"{k} {row[k]!r} is not in decimal-comma positional notation"
            if (text == "") != (v[k] is None) or (text and float(text) != float(v[k])):
                return f"{k} {row[k]!r} != {v[k]!r} in {v}"
        if not row["measureLabel"] or not row["periodLabel"] or not row["regionLabel"]:
            return f"labels missing: {row}"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("publisher")
    ap.add_argument("--lang", default="nb")
    args = ap.parse_args()
    published = get(f"{args.publisher}/v1/indicators")
    indicators = sorted({v["indicator"] for v in published})
    if not indicators:
        print("no published values")
        return 1
    for indicator in indicators:
        dataset = pyjstat.Dataset.read(f"{args.publisher}/v1/indicators/{indicator}/jsonstat?lang={args.lang}")
        frame = dataset.write("dataframe", naming="id")
        cube = {}
        for row in frame.itertuples(index=False):
            r = row._asdict()
            cube[(r["measure"], r["period"], r["region"], r["sex"], r["contents"])] = r["value"]
        expected = {}
        for v in (v for v in published if v["indicator"] == indicator):
            for c in CONTENTS:
                expected[(v["measure"], v["period"], f'{v["level"]}:{v["unit"]}', v["sex"], c)] = v[c]
        missing = [k for k in expected if k not in cube]
        if missing:
            print(f"{indicator}: not in the dataset: {missing[:3]}")
            return 1
        differing = []
        for k, want in expected.items():
            got = cube[k]
            got = None if got is None or (isinstance(got, float) and math.isnan(got)) else got
            if (want is None) != (got is None) or (want is not None and float(got) != float(want)):
                differing.append((k, want, got))
        # Crossings no value occupies are empty.
        extra = [k for k, got in cube.items() if k not in expected and not (got is None or (isinstance(got, float) and math.isnan(got)))]
        if differing or extra:
            print(f"{indicator}: {len(differing)} values differ, e.g. {differing[:3]}; {len(extra)} values without a published value, e.g. {extra[:3]}")
            return 1
        label = dataset.get("label", "")
        print(f"JSON-stat {indicator}: {len(expected) // len(CONTENTS)} values x {len(CONTENTS)} contents equal ({label})")
    for dialect in ("rfc4180", "excel-nb"):
        problem = check_csv(args.publisher, published, dialect, args.lang)
        if problem:
            print(f"CSV {dialect}: {problem}")
            return 1
        print(f"CSV {dialect}: {len(published)} rows equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
