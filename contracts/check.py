#!/usr/bin/env python3
"""Checks the contracts: every schema is a valid draft 2020-12 schema whose $id matches its versioned
file name, every $ref resolves, every example validates (and a few known-bad records do not), and
topics.json names existing schema files and agrees with Shared/NPRCore/Topics.swift.
Then the API documents (not with --records): the files build.py generates are up to date; the OpenAPI
sources (contracts/openapi/, refs resolved from their file URL) and bundles (Services/*/openapi.json) pass
openapi-spec-validator and their examples
validate; contracts/asyncapi.json validates against the official AsyncAPI 3.0.0 JSON Schema; every
internal $ref of the generated documents resolves.
Exits non-zero on any failure. Needs the `jsonschema` package, and for the API documents
`openapi-spec-validator` and `xstate-statemachine` (which ships the official AsyncAPI schema file):
    pip install jsonschema openapi-spec-validator==0.9.0 xstate-statemachine==0.11.0

    check.py                                   check the contracts and the API documents
    check.py --records SCHEMA FILE.ndjson      check the schemas and validate records (one JSON document a line)"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import quote, unquote

try:
    from jsonschema import Draft7Validator, Draft202012Validator
    from jsonschema.exceptions import best_match
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as e:
    print(f"FAIL missing Python package ({e.name}): pip install jsonschema   (Debian: apt-get install python3-jsonschema)")
    sys.exit(1)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402  (the generator of the API documents; standard library only)
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
    ("quality-report.v1.schema.json", [{"institutionId": "974589095", "institutionName": None, "messages": 40, "firstReports": None,
                                        "delayDaysMedian": 3, "delayDaysP90": 9, "delayStatus": "suppressed-primary",
                                        "closedInpatientEpisodes": 0, "withoutEndType": 0, "shareWithoutEndType": None,
                                        "endTypeStatus": "undefined", "lastMessageAt": None}], "suppressed delay shown"),
    ("quality-report.v1.schema.json", [{"institutionId": "974589095", "institutionName": None, "messages": 3, "firstReports": 0,
                                        "delayDaysMedian": None, "delayDaysP90": None, "delayStatus": "undefined",
                                        "closedInpatientEpisodes": 0, "withoutEndType": 0, "shareWithoutEndType": None,
                                        "endTypeStatus": "undefined", "lastMessageAt": None}], "message count of 1-4 shown"),
    ("quality-report.v1.schema.json", [{"institutionId": "974589095", "institutionName": None, "messages": 40, "firstReports": 0,
                                        "delayDaysMedian": None, "delayDaysP90": None, "delayStatus": "undefined",
                                        "closedInpatientEpisodes": 0, "withoutEndType": 0, "shareWithoutEndType": None,
                                        "endTypeStatus": "undefined", "lastMessageAt": None, "closedInpatientStays": 12, "staysWithoutEndType": 2,
                                        "shareStaysWithoutEndType": 0.17, "stayEndTypeStatus": "suppressed-primary"}], "suppressed stay figures shown"),
    ("quality-report.v1.schema.json", [{"institutionId": "974589095", "institutionName": None, "messages": 40, "firstReports": 0,
                                        "delayDaysMedian": None, "delayDaysP90": None, "delayStatus": "undefined",
                                        "closedInpatientEpisodes": 0, "withoutEndType": 0, "shareWithoutEndType": None,
                                        "endTypeStatus": "undefined", "lastMessageAt": None, "closedInpatientStays": 12}], "stay figures without their status"),
    ("activity-event.v1.schema.json", {"kind": "version", "patientKey": "p", "episodeKey": {"institutionId": "991049487", "episodeId": "E1"},
                                       "revision": 1}, "version without episode"),
    ("problem.v1.schema.json", {"type": "about:blank", "title": "Bad Request", "status": "400", "detail": "d"}, "status as a string"),
    ("problem.v1.schema.json", {"type": "about:blank", "title": "Bad Request", "status": 400}, "problem without detail"),
]

# The API documents' validators (pip packages, exact versions as `make deps` installs them).
OPENAPI_VALIDATOR = ("openapi-spec-validator", "0.9.0")
# The official AsyncAPI 3.0.0 JSON Schema (asyncapi/spec-json-schemas schemas/3.0.0.json, draft-07, bundled with
# its bindings) is not published on PyPI by the AsyncAPI Initiative; xstate-statemachine ships an unchanged
# copy. It is used only if its content is the official one: SHA-256 of its canonical JSON (sorted keys, no
# whitespace) of schemas/3.0.0.json in asyncapi/spec-json-schemas at commit 7dd3990 (the file last changed in
# 469c2b2, 2026-05-21, "add missing # prefix in JSON references").
ASYNCAPI_SCHEMA = ("xstate-statemachine", "0.11.0", "xstate_statemachine/eda/_asyncapi_schema.json")
ASYNCAPI_SCHEMA_ID = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
ASYNCAPI_SCHEMA_SHA256 = "ab3a11d9da97e0619e02eb0a2e9f1d259ed45570b0eeccc8df38a0f02dc912ba"


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

    summary = []
    if argv[:1] == ["--records"]:
        if len(argv) != 3 or argv[1] not in usable:
            failures.append("usage: check.py --records SCHEMA FILE.ndjson (SCHEMA a usable schema file here)")
        else:
            failures += check_records(schemas[argv[1]], registry, Path(argv[2]))
    else:
        api_failures, summary = check_api_documents()
        failures += api_failures

    for f in failures:
        print("FAIL", f)
    for line in summary:
        print(line)
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


refs = build.all_refs


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


# ---- API documents ----------------------------------------------------------------------------------

def check_api_documents() -> tuple[list[str], list[str]]:
    """Failures and summary lines for the OpenAPI and AsyncAPI documents."""
    failures, summary = [], []
    try:
        files = build.generate()
    except Exception as e:  # BuildError, a source that is not JSON, a missing file
        return [f"build.py cannot generate the API documents: {type(e).__name__}: {e}"], summary
    failures += [f"build: {p}" for p in build.stale(files)]
    documents = {path: json.loads(text) for path, text in files.items()}

    for path, doc in documents.items():
        for ref in unresolved_refs(doc):
            failures.append(f"{path.relative_to(ROOT)}: $ref {ref!r} does not resolve within the document")

    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
        from jsonschema_path import SchemaPath
    except ImportError:
        failures.append(f"missing Python package {OPENAPI_VALIDATOR[0]}: pip install {OPENAPI_VALIDATOR[0]}=={OPENAPI_VALIDATOR[1]}")
        OpenAPIV31SpecValidator = None
    for service, (source, target) in build.OPENAPI.items():
        bundle = documents[target]
        spec_failures = []
        if OpenAPIV31SpecValidator:
            spec_failures += validate_openapi(OpenAPIV31SpecValidator, SchemaPath, json.loads(source.read_text(encoding="utf-8")), source)
            spec_failures += validate_openapi(OpenAPIV31SpecValidator, SchemaPath, bundle, target)
        count, example_failures = check_openapi_examples(bundle, f"urn:npr-tsb:openapi:{service}")
        failures += spec_failures + [f"{target.relative_to(ROOT)}: {f}" for f in example_failures]
        operations = sum(1 for item in bundle.get("paths", {}).values() for m in item if m in HTTP_METHODS)
        # That the operations are the service's routes is checked where the routes are: the service refuses to
        # start otherwise (ServiceHost.openAPIDrift), which every integration test exercises.
        summary.append(f"openapi {service}: {operations} operations, "
                       f"{count} examples {'valid' if not example_failures else 'INVALID'}, openapi-spec-validator "
                       + ("not run" if not OpenAPIV31SpecValidator else "INVALID" if spec_failures else "valid")
                       + " (source and bundle)")

    asyncapi = documents[build.ASYNCAPI]
    official, problem = official_asyncapi_schema()
    if problem:
        failures.append(problem)
    else:
        validator = Draft7Validator(official, registry=Registry(retrieve=no_retrieval), format_checker=Draft7Validator.FORMAT_CHECKER)
        errors = list(validator.iter_errors(asyncapi))
        if errors:
            best = best_match(errors)
            failures.append(f"asyncapi.json is not valid AsyncAPI 3.0.0 ({len(errors)} errors), e.g. at {best.json_path}: {best.message[:300]}")
    summary.append(f"asyncapi: {len(asyncapi.get('channels', {}))} channels, {len(asyncapi.get('operations', {}))} operations, "
                   "official AsyncAPI 3.0.0 JSON Schema " + ("not run" if problem else "INVALID" if errors else "valid"))
    return failures, summary


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def validate_openapi(validator_class, schema_path, doc: dict, path: Path) -> list[str]:
    """openapi-spec-validator's findings; relative $refs resolve from the file's URL."""
    where = path.relative_to(ROOT)
    try:
        errors = list(validator_class(schema_path.from_dict(doc, base_uri=path.as_uri())).iter_errors())
    except Exception as e:  # an unresolvable $ref is raised, not reported
        return [f"{where}: openapi-spec-validator: {type(e).__name__}: {str(e)[:300]}"]
    return [f"{where}: openapi-spec-validator: {str(e).splitlines()[0][:300]}" for e in errors[:20]]


def check_openapi_examples(doc: dict, uri: str) -> tuple[int, list[str]]:
    """Validates every example of a bundled OpenAPI document against its schema: media types, parameters and
    headers (`example`, `examples.*.value`) and the `examples` of components/schemas."""
    registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))
    cases = []  # (pointer of the example, pointer of the schema, value)

    def walk(node, pointer):
        if isinstance(node, dict):
            if isinstance(node.get("schema"), dict):
                if "example" in node:
                    cases.append((pointer + "/example", pointer + "/schema", node["example"]))
                for name, example in (node.get("examples") or {}).items():
                    if isinstance(example, dict) and "$ref" in example:
                        example = resolve_pointer(doc, example["$ref"])
                    if isinstance(example, dict) and "value" in example:
                        cases.append((f"{pointer}/examples/{escape(name)}", pointer + "/schema", example["value"]))
            for key, value in node.items():
                if key not in ("example", "examples", "schema"):
                    walk(value, f"{pointer}/{escape(key)}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{pointer}/{i}")

    walk(doc.get("paths", {}), "/paths")
    for section in ("parameters", "headers", "requestBodies", "responses"):
        walk(doc.get("components", {}).get(section, {}), f"/components/{section}")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        for i, example in enumerate(schema.get("examples", []) if isinstance(schema, dict) else []):
            cases.append((f"/components/schemas/{escape(name)}/examples/{i}", f"/components/schemas/{escape(name)}", example))

    failures = []
    for at, schema_pointer, value in cases:
        validator = Draft202012Validator({"$ref": uri + "#" + quote(schema_pointer, safe="/~")}, registry=registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        try:
            for error in validator.iter_errors(value):
                failures.append(f"example {at}: {error.json_path}: {error.message[:200]}")
        except Exception as e:  # a schema whose refs do not resolve
            failures.append(f"example {at}: cannot validate: {type(e).__name__}: {str(e)[:200]}")
    return len(cases), failures


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def resolve_pointer(doc, ref: str):
    """The value a document-internal `#/…` ref points at (KeyError/IndexError/ValueError when none)."""
    if not ref.startswith("#"):
        raise ValueError("not a document-internal ref")
    node = doc
    for segment in unquote(ref[1:]).split("/")[1:]:
        segment = segment.replace("~1", "/").replace("~0", "~")
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    return node


def unresolved_refs(doc: dict) -> list[str]:
    bad = []
    for ref in sorted(set(refs(doc))):
        try:
            resolve_pointer(doc, ref)
        except (KeyError, IndexError, ValueError, TypeError):
            bad.append(ref)
    return bad


def no_retrieval(uri: str):
    raise LookupError(f"{uri} is not in the official schema (nothing is fetched from the network)")


def official_asyncapi_schema() -> tuple[dict | None, str | None]:
    """The official AsyncAPI 3.0.0 JSON Schema from its PyPI package, or why it is not available."""
    from importlib import metadata
    package, version, file = ASYNCAPI_SCHEMA
    install = f"pip install {package}=={version}"
    try:
        path = Path(metadata.distribution(package).locate_file(file))
    except metadata.PackageNotFoundError:
        return None, f"missing Python package {package} (ships the official AsyncAPI 3.0.0 JSON Schema): {install}"
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return None, f"{package} has no readable {file} ({type(e).__name__}): {install}"
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if schema.get("$id") != ASYNCAPI_SCHEMA_ID or hashlib.sha256(canonical).hexdigest() != ASYNCAPI_SCHEMA_SHA256:
        return None, f"{path} is not the official AsyncAPI 3.0.0 JSON Schema (content differs): {install}"
    return schema, None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
