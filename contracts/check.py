#!/usr/bin/env python3
"""Checks the contracts: every schema is a valid draft 2020-12 schema whose $id matches its versioned
file name, every $ref resolves, every example validates (and a few known-bad records do not), and
topics.json names existing schema files and agrees with Shared/NPRCore/Topics.swift.
Exits non-zero on any failure. Needs the `jsonschema` package.

    check.py                                   check the contracts
    check.py --records SCHEMA FILE.ndjson      also validate records (one JSON document a line)"""
import json
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).resolve().parent
BASE_ID = "https://schemas.npr-tsb.example/contracts/"
FILE_NAME = re.compile(r"^[a-z]+(-[a-z]+)*\.v[0-9]+\.schema\.json$")
SERVICES = {"intake", "episode-linker", "indicator-calculator", "mortality-linker", "publisher"}
SHARED_DEFINITIONS = "definitions.v1.schema.json"   # $defs only, no message of its own

# Records each schema must reject: proof that the schemas constrain what they claim to.
VALID_ACTIVITY = {"messageId": "m1", "status": "N", "revision": 1, "institutionId": "991049487", "episodeId": "E1",
                  "unitId": "TSB-110", "sector": "TSB", "patient": {"personId": "14838712240", "sex": 1, "municipality": "3403"},
                  "careLevel": 3, "start": "2024-02-05T09:30", "end": "2024-02-05T10:30"}
COUNTEREXAMPLES = [
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "status": "X"}, "unknown status"),
    ("activity-message.v1.schema.json", {k: v for k, v in VALID_ACTIVITY.items() if k != "end"}, "end missing"),
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "end": None}, "open outpatient episode"),
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "patient": {"sex": 1, "municipality": "3403"}}, "neither personId nor birthDate"),
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "conditions": ["F10.2"]}, "condition with a dot"),
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "start": "2024-02-05 09:30"}, "date-time without T"),
    ("activity-message.v1.schema.json", {**VALID_ACTIVITY, "contactType": 4}, "contactType outside the list"),
    ("death-record.v1.schema.json", {"messageId": "d1", "status": "M", "personId": "14838712240", "deathDate": "2024-01-01",
                                     "sex": 1, "municipality": None}, "deaths have no correction status"),
    ("population-count.v1.schema.json", {"year": 2024, "municipality": "0301", "sex": 1, "age": 131, "count": 3}, "age over 130"),
    ("unit.v1.schema.json", {"unitId": "TSB-1", "name": "x", "institutionId": "1", "institutionName": "x", "hfId": "991049487",
                             "hfName": "x", "rhf": "sor-ost", "ownership": "public", "detox": False, "validFrom": "2002-01-01"},
     "institutionId not nine digits"),
    ("dead-letter.v1.schema.json", {"service": "intake", "channel": "http", "kind": "activity", "reporter": "991049487",
                                    "errors": [{"field": "f", "code": "c", "message": "m"}], "record": json.dumps(VALID_ACTIVITY)},
     "clear person id in a dead letter"),
    ("dead-letter.v1.schema.json", {"service": "intake", "channel": "http", "kind": "activity", "messageIdHash": "m1",
                                    "errors": [{"field": "f", "code": "c", "message": "m"}]},
     "clear message id in a dead letter"),
    ("inbound-receipt.v1.schema.json", {"origin": {"topic": "npr.activities.inbound", "partition": 0, "offset": 1}, "messageId": "m1",
                                        "messageIdHash": "m1", "outcome": "accepted", "errors": [], "warnings": []},
     "clear message id in a receipt"),
    ("published-value.v1.schema.json", {"indicator": "tsb-avbrudd", "measure": "hovedmaltall", "period": "2024", "level": "national",
                                        "unit": "NO", "unitName": None, "sex": "all", "numerator": 3, "denominator": 4, "value": 0.75,
                                        "ciLower": None, "ciUpper": None, "status": "suppressed-primary", "revision": 1,
                                        "asOf": "2024-09-02", "updatedAt": "2024-09-02T10:15:00Z"}, "suppressed value shown"),
    ("activity-event.v1.schema.json", {"kind": "version", "patientKey": "p", "episodeKey": {"institutionId": "991049487", "episodeId": "E1"},
                                       "revision": 1}, "version without episode"),
]


def main(argv: list[str]) -> int:
    failures: list[str] = []
    schemas: dict[str, dict] = {}
    for path in sorted(HERE.glob("*.schema.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            failures.append(f"{path.name}: not JSON: {e}")
            continue
        if not FILE_NAME.match(path.name):
            failures.append(f"{path.name}: file name is not <name>.v<version>.schema.json")
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            failures.append(f"{path.name}: $schema is not draft 2020-12")
        if schema.get("$id") != BASE_ID + path.name:
            failures.append(f"{path.name}: $id {schema.get('$id')!r} does not match the file name")
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as e:  # SchemaError
            failures.append(f"{path.name}: invalid schema: {e}")
        schemas[path.name] = schema

    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT202012)) for s in schemas.values() if "$id" in s)

    unresolved = set()
    for name, schema in schemas.items():
        for ref in refs(schema):
            try:
                registry.resolver(base_uri=schema.get("$id", "")).lookup(ref)
            except Exception as e:
                failures.append(f"{name}: $ref {ref!r} does not resolve ({type(e).__name__})")
                unresolved.add(name)
    # A schema that refers to a broken one cannot be used either.
    usable = {name: s for name, s in schemas.items() if not unresolved & ({name} | set(referenced_files(s)))}

    for name, schema in schemas.items():
        examples = schema.get("examples")
        if name != SHARED_DEFINITIONS and not examples:
            failures.append(f"{name}: no examples")
        if name not in usable:
            continue
        validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for i, example in enumerate(examples or []):
            for error in validator.iter_errors(example):
                failures.append(f"{name}: example {i}: {error.json_path}: {error.message}")

    for name, record, reason in COUNTEREXAMPLES:
        if name not in usable:
            failures.append(f"counterexample for missing or broken schema {name}")
            continue
        validator = Draft202012Validator(schemas[name], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        if validator.is_valid(record):
            failures.append(f"{name}: accepts a record it must reject ({reason})")

    failures += check_topics(set(schemas))

    if argv[:1] == ["--records"]:
        if len(argv) != 3 or argv[1] not in usable:
            failures.append("usage: check.py --records SCHEMA FILE.ndjson (SCHEMA a usable schema file here)")
        else:
            failures += check_records(schemas[argv[1]], registry, Path(argv[2]))

    for f in failures:
        print("FAIL", f)
    print(f"{len(schemas)} schemas, {sum(len(s.get('examples', [])) for s in schemas.values())} examples, "
          f"{len(COUNTEREXAMPLES)} counterexamples: {'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


def check_records(schema: dict, registry: Registry, path: Path) -> list[str]:
    validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    failures, count = [], 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            count += 1
            for error in validator.iter_errors(json.loads(line)):
                failures.append(f"{path.name}:{number}: {error.json_path}: {error.message}")
    print(f"{path.name}: {count} records checked against {schema.get('title')}")
    return failures[:50]


def refs(node):
    """Every $ref in a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key != "examples":
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def referenced_files(schema):
    """The schema files a schema refers to."""
    return {ref.split("#")[0] for ref in refs(schema) if ref.split("#")[0]}


def check_topics(schema_files: set[str]) -> list[str]:
    failures = []
    try:
        catalogue = json.loads((HERE / "topics.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return [f"topics.json: {e}"]
    topics = catalogue.get("topics", [])
    names = [t.get("name") for t in topics]
    if len(set(names)) != len(names):
        failures.append("topics.json: duplicate topic names")
    for t in topics:
        where = f"topics.json: {t.get('name')}"
        for field in ("name", "key", "valueSchema", "partitions", "cleanupPolicy", "retention", "producers", "consumers"):
            if field not in t:
                failures.append(f"{where}: missing {field}")
        if t.get("valueSchema") not in schema_files or t.get("valueSchema") == SHARED_DEFINITIONS:
            failures.append(f"{where}: valueSchema {t.get('valueSchema')!r} is not a schema file here")
        if not isinstance(t.get("partitions"), int) or t["partitions"] < 1:
            failures.append(f"{where}: partitions must be a positive integer")
        if t.get("cleanupPolicy") not in ("delete", "compact"):
            failures.append(f"{where}: cleanupPolicy must be delete or compact")
        if not t.get("producers"):
            failures.append(f"{where}: no producer")
        unknown = set(t.get("consumers", [])) - SERVICES
        if unknown:
            failures.append(f"{where}: consumers {sorted(unknown)} are not services")

    # The same catalogue is declared in Swift (the topics the services create): they must agree.
    swift = HERE.parent / "Shared" / "NPRCore" / "Topics.swift"
    if swift.exists():
        text = swift.read_text(encoding="utf-8")
        constants = dict(re.findall(r'static let (\w+) = "([^"]+)"', text))
        declared = {constants.get(name, name): (int(partitions), compacted == "true", int(retention)) for name, partitions, compacted, retention in
                    re.findall(r'TopicDeclaration\(name: (\w+), partitions: (\d+), compacted: (true|false), retentionMs: (-?\d+)\)', text)}
        ours = {t.get("name"): (t.get("partitions"), t.get("cleanupPolicy") == "compact", t.get("retentionMs")) for t in topics}
        if len(declared) != len(constants):
            failures.append("Topics.swift: a TopicDeclaration does not have the form this check reads")
        if set(constants.values()) != set(ours):
            failures.append(f"topics.json names differ from Topics.swift: {sorted(set(constants.values()) ^ set(ours))}")
        for name, spec in declared.items():
            if name in ours and ours[name] != spec:
                failures.append(f"topics.json: {name} has (partitions, compacted, retentionMs) {ours[name]}, Topics.swift {spec}")
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
