#!/usr/bin/env python3
"""Generates the self-contained API documents from the sources in contracts/:

    Services/intake/openapi.json      OpenAPI 3.1, from contracts/openapi/intake.openapi.json
    Services/publisher/openapi.json   OpenAPI 3.1, from contracts/openapi/publisher.openapi.json
    contracts/asyncapi.json           AsyncAPI 3.0, from contracts/topics.json

Bundling: every `$ref` to a schema file of contracts/ (`../receipt.v1.schema.json`,
`definitions.v1.schema.json#/$defs/episode`) becomes `#/components/schemas/<Name>` (`ReceiptV1`,
`DefinitionsV1/$defs/episode`), the file's schema inlined there without `$id` and `$schema`; a file's own
`#/…` refs become `#/components/schemas/<ThatFile>/…`. Output is deterministic: sorted keys, 2-space
indent, UTF-8, trailing newline. Needs nothing beyond the standard library.

    build.py            write the generated files
    build.py --check    exit 1, naming each stale file and how it differs, when any is not up to date"""
from __future__ import annotations

import copy
import difflib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OPENAPI = {  # service -> (source, generated document the service serves at /openapi.json)
    "intake": (HERE / "openapi" / "intake.openapi.json", ROOT / "Services" / "intake" / "openapi.json"),
    "publisher": (HERE / "openapi" / "publisher.openapi.json", ROOT / "Services" / "publisher" / "openapi.json"),
}
ASYNCAPI = HERE / "asyncapi.json"
TOPICS = HERE / "topics.json"
SCHEMA_FILE = re.compile(r"^([a-z]+(?:-[a-z]+)*)\.v([0-9]+)\.schema\.json$")
# Values that are data, not schema or document structure: never searched for refs.
DATA_KEYWORDS = {"example", "examples", "const", "enum", "default"}
KAFKA_BINDING = "0.5.0"
# Consumer groups are <NPR_GROUP_PREFIX><service> (ServiceRuntime Configuration.swift, default prefix).
GROUP_PREFIX = "npr-tsb."
SERVICES = {"intake", "episode-linker", "indicator-calculator", "mortality-linker", "publisher"}

# What topics.json does not say about a topic's records, from the code that writes them.
# Inbound records are signed by the hospital with its intake token (Services/intake/InboundSigning.swift).
SIGNED_TOPICS = {"npr.activities.inbound": "npr-signature"}
# Provenance travels as a header (NPRCore Provenance.swift) on the records that change indicator values.
CAUSES_HEADER = "npr-causes"
CAUSES_TOPICS = {"npr.activities", "npr.deaths", "npr.population", "npr.reference.units", "npr.reference.municipalities",
                 "npr.stays", "npr.cells"}
# Removals written as tombstones (null value) on compacted topics (Services/publisher/Publication.swift).
TOMBSTONE_TOPICS = {"npr.indicators": "The value with this key is no longer published (no contributions left); "
                                      "compaction eventually removes the key."}
# Key of a resync marker (ServiceRuntime Resync.swift `ResyncDone.message`).
MARKER_KEY = {"type": "string", "pattern": "^__resync__\\|", "description": "__resync__|<source service>"}


class BuildError(Exception):
    pass


def component_name(file_name: str) -> str:
    """`activity-message.v1.schema.json` -> `ActivityMessageV1`."""
    m = SCHEMA_FILE.match(file_name)
    if not m:
        raise BuildError(f"{file_name}: not a <name>.v<N>.schema.json file")
    return "".join(part.capitalize() for part in m.group(1).split("-")) + "V" + m.group(2)


class Bundler:
    """Inlines the contract schema files a document refers to under components/schemas."""

    def __init__(self):
        self.schemas: dict[str, dict] = {}

    def bundle(self, doc: dict, source: Path, schemas_at: tuple[str, ...] = ("components", "schemas")) -> dict:
        doc = self._walk(copy.deepcopy(doc), source, None)
        target = doc
        for key in schemas_at:
            target = target.setdefault(key, {})
        for name in sorted(self.schemas):
            if name in target and target[name] != self.schemas[name]:
                raise BuildError(f"{source.name}: components/schemas/{name} is written by hand and also a bundled file")
            target[name] = self.schemas[name]
        leftovers = sorted({ref for ref in all_refs(doc) if not ref.startswith("#")})
        if leftovers:
            raise BuildError(f"{source.name}: refs not bundled: {leftovers}")
        return doc

    def _walk(self, node, base: Path, own: str | None):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    node[key] = self._rewrite(value, base, own)
                elif key == "$id" and own is not None:
                    raise BuildError(f"{base.name}: nested $id is not supported by the bundler")
                elif key not in DATA_KEYWORDS:
                    self._walk(value, base, own)
        elif isinstance(node, list):
            for item in node:
                self._walk(item, base, own)
        return node

    def _rewrite(self, ref: str, base: Path, own: str | None) -> str:
        path, _, fragment = ref.partition("#")
        if fragment and not fragment.startswith("/"):
            raise BuildError(f"{base.name}: $ref {ref!r}: only JSON-pointer fragments are supported")
        if not path:
            # Within the document itself, or within an inlined file (then relative to that file's root).
            return ref if own is None else f"#/components/schemas/{own}{fragment}"
        return f"#/components/schemas/{self._include((base.parent / path).resolve())}{fragment}"

    def _include(self, file: Path) -> str:
        if file.parent != HERE or not file.is_file():
            raise BuildError(f"$ref to {file}: not a schema file of contracts/")
        name = component_name(file.name)
        if name not in self.schemas:
            schema = json.loads(file.read_text(encoding="utf-8"))
            schema = {k: v for k, v in schema.items() if k not in ("$id", "$schema")}
            self.schemas[name] = schema   # before the walk: files may refer to each other
            self._walk(schema, file, name)
        return name


def all_refs(node):
    """Every $ref in a schema or document (examples are data, not schema: not searched)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key != "examples":
                yield from all_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_refs(item)


# The label catalogue the publisher serves (Shared/Publishing/Resources/labels.json): parameter descriptions
# name each code's label from it, so the documents and the published labels cannot disagree.
LABELS = ROOT / "Shared" / "Publishing" / "Resources" / "labels.json"
LABELLED_PARAMETERS = {"indicator": ("indicators", "label"), "level": ("levels", None), "sex": ("sexes", None)}


def labelled(doc: dict) -> dict:
    """Appends `code: bokmål label (English label)` for every code of the labelled query parameters."""
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    parameters = doc.get("components", {}).get("parameters", {})
    for name, (table, field) in LABELLED_PARAMETERS.items():
        if name not in parameters:
            continue
        entries = []
        for code, entry in labels[table].items():
            text = entry[field] if field else entry
            entries.append(f"{code}: {text['nb']} ({text['en']})")
        parameters[name]["description"] = parameters[name]["description"].rstrip() + " Codes: " + "; ".join(entries) + "."
    return doc


def openapi_bundle(service: str) -> dict:
    source, _ = OPENAPI[service]
    return Bundler().bundle(labelled(json.loads(source.read_text(encoding="utf-8"))), source)


# ---- AsyncAPI ---------------------------------------------------------------------------------------

def channel_id(topic: str) -> str:
    """`npr.activities.inbound` -> `activitiesInbound`."""
    parts = re.split(r"[.\-_]", topic.removeprefix("npr."))
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def actor_id(actor: str) -> str:
    """`episode-linker` -> `episodeLinker`; `operators (npr-ops)` -> `operators`."""
    words = re.split(r"[\s\-_]+", re.sub(r"\s*\(.*?\)", "", actor).strip())
    return words[0].lower() + "".join(w.capitalize() for w in words[1:])


def asyncapi_document() -> dict:
    catalogue = json.loads(TOPICS.read_text(encoding="utf-8"))
    replication = catalogue.get("replication", {})
    topics = catalogue["topics"]
    uses = {}
    for t in topics:
        uses[t["valueSchema"]] = uses.get(t["valueSchema"], 0) + 1

    channels, operations, messages = {}, {}, {}
    for t in topics:
        cid = channel_id(t["name"])
        key_schema = {"type": "string", "description": t["key"]}
        schema_name = component_name(t["valueSchema"])
        value_name = schema_name if uses[t["valueSchema"]] == 1 else cid[0].upper() + cid[1:] + schema_name
        value_message = {
            "name": value_name,
            "title": json.loads((HERE / t["valueSchema"]).read_text(encoding="utf-8")).get("title", schema_name),
            "summary": f"A record of {t['name']}, keyed by {t['key']}.",
            "contentType": "application/json",
            "payload": {"$ref": t["valueSchema"]},
            "bindings": {"kafka": {"key": key_schema, "bindingVersion": KAFKA_BINDING}},
        }
        if t["name"] in SIGNED_TOPICS:
            header = SIGNED_TOPICS[t["name"]]
            value_message["headers"] = {
                "type": "object",
                "required": [header],
                "properties": {header: {
                    "type": "string", "pattern": "^[0-9a-f]{16}:[0-9a-f]{64}$",
                    "description": "<key id>:<hex HMAC-SHA256(token, record value bytes)>, key id = the first 16 hex digits of "
                                   "SHA-256(token), token = the hospital's intake token. A record without a valid signature, "
                                   "or for an institution the token does not cover, is rejected (forbidden-institution)."}},
            }
        if t["name"] in CAUSES_TOPICS:
            value_message["headers"] = {
                "type": "object",
                "properties": {CAUSES_HEADER: {
                    "type": "string", "pattern": "^[a-z-]+(@[0-9]{9})?=[1-9][0-9]*(,[a-z-]+(@[0-9]{9})?=[1-9][0-9]*)*$",
                    "examples": ["correction@974589095=2,death=1"],
                    "description": "What caused this record: counts of input messages by kind (new-episode, correction, annulment, death, "
                                   "death-annulment, population, unit-register, municipality-register, evaluation-date, rebuild), activity "
                                   "kinds by reporting institution; each stage adds up the causes of the inputs that touched the "
                                   "record since its previous flush. A republished cell (resync) says rebuild. Absent when there is nothing to say."}},
            }
        channel_messages = {value_name: value_message}
        if t.get("markerSchema"):
            header = re.search(r"header (\S+)", t.get("markers", ""))
            marker_name = component_name(t["markerSchema"])
            marker = {
                "name": marker_name,
                "title": json.loads((HERE / t["markerSchema"]).read_text(encoding="utf-8")).get("title", marker_name),
                "summary": t.get("markers", "A resync marker."),
                "contentType": "application/json",
                "payload": {"$ref": t["markerSchema"]},
                "bindings": {"kafka": {"key": dict(MARKER_KEY), "bindingVersion": KAFKA_BINDING}},
            }
            if header:
                marker["headers"] = {"type": "object", "required": [header.group(1)],
                                     "properties": {header.group(1): {"type": "string", "description": "The requestId of the ResyncRequest answered."}}}
            channel_messages[marker_name] = marker
        if t["name"] in TOMBSTONE_TOPICS:
            tombstone_name = value_name + "Removed"
            channel_messages[tombstone_name] = {
                "name": tombstone_name,
                "title": "Tombstone",
                "summary": TOMBSTONE_TOPICS[t["name"]],
                "payload": {"type": "null"},
                "bindings": {"kafka": {"key": dict(key_schema), "bindingVersion": KAFKA_BINDING}},
            }
        for name, message in channel_messages.items():
            if name in messages and messages[name] != message:
                raise BuildError(f"message {name} differs between topics")
            messages[name] = message

        topic_configuration = {"cleanup.policy": [t["cleanupPolicy"]], "retention.ms": t["retentionMs"]}
        if "minInsyncReplicas" in replication:
            topic_configuration["min.insync.replicas"] = replication["minInsyncReplicas"]
        channel_binding = {"topic": t["name"], "partitions": t["partitions"], "topicConfiguration": topic_configuration,
                           "bindingVersion": KAFKA_BINDING}
        if "factor" in replication:
            channel_binding["replicas"] = replication["factor"]
        channels[cid] = {
            "address": t["name"],
            "title": t["name"],
            "description": f"Key: {t['key']}. Retention: {t['retention']}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in channel_messages},
            "bindings": {"kafka": channel_binding},
        }

        refs = [{"$ref": f"#/channels/{cid}/messages/{name}"} for name in channel_messages]
        pascal = cid[0].upper() + cid[1:]
        for producer in t["producers"]:
            external = producer not in SERVICES
            op = {"action": "send", "channel": {"$ref": f"#/channels/{cid}"}, "messages": refs,
                  "title": f"{producer} writes {t['name']}",
                  "summary": (f"Outside the pipeline: {producer} write {t['name']}." if external
                              else f"{producer} writes {t['name']}.")}
            add_operation(operations, f"{actor_id(producer)}Sends{pascal}", op)
        consumers = [(c, False) for c in t.get("consumers", [])] + [(c, True) for c in t.get("externalConsumers", [])]
        for consumer, external in consumers:
            op = {"action": "receive", "channel": {"$ref": f"#/channels/{cid}"}, "messages": refs,
                  "title": f"{consumer} reads {t['name']}"}
            if external:
                op["summary"] = f"Outside the pipeline: {consumer} read {t['name']}."
            else:
                op["summary"] = f"{consumer} reads {t['name']} in consumer group {GROUP_PREFIX}{consumer}."
                op["bindings"] = {"kafka": {
                    "groupId": {"type": "string", "default": GROUP_PREFIX + consumer,
                                "description": f"<NPR_GROUP_PREFIX>{consumer}: {GROUP_PREFIX}{consumer} unless NPR_GROUP_PREFIX is set."},
                    "bindingVersion": KAFKA_BINDING}}
            add_operation(operations, f"{actor_id(consumer)}Receives{pascal}", op)

    doc = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "NPR TSB stream",
            "version": "1.0.0",
            "description": (
                "Every Kafka topic of the NPR TSB pipeline: the records hospitals may produce (npr.activities.inbound) "
                "and the receipts they read, the pseudonymised event log, the aggregated cells and the published "
                "indicator values. Generated by contracts/build.py from contracts/topics.json and the JSON Schemas of "
                "contracts/ (bundled under components/schemas). Keys are chosen so that everything one computation "
                "needs about a person lands in one partition. " + replication.get("note", "")).strip(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "development": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "title": "Embedded broker",
                "description": "make up / make run: librdkafka's mock cluster run as its own process (kafka-dev-broker), "
                               "speaking the Kafka protocol over TCP on loopback and keeping data in memory (at most 5 MiB "
                               "or 100 000 batches per partition). Its bootstrap string is written to .run/kafka-bootstrap.",
                "variables": {"bootstrap": {"description": "The contents of .run/kafka-bootstrap.",
                                            "examples": ["127.0.0.1:39093"]}},
            },
            "production": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "title": "Apache Kafka",
                "description": "Apache Kafka (compose.yaml: KRaft, kafka:9092). Services take their brokers from "
                               "KAFKA_BOOTSTRAP_SERVERS; a secured cluster (e.g. SASL_SSL with SCRAM-SHA-512) is configured "
                               "with KAFKA_<librdkafka property> variables. Producers use acks=all.",
                "variables": {"bootstrap": {"default": "kafka:9092", "description": "KAFKA_BOOTSTRAP_SERVERS.",
                                            "examples": ["broker-1.example.org:9093,broker-2.example.org:9093"]}},
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    return Bundler().bundle(doc, TOPICS)


def add_operation(operations: dict, op_id: str, op: dict):
    if op_id in operations:
        raise BuildError(f"operation id {op_id} twice")
    operations[op_id] = op


# ---- output -----------------------------------------------------------------------------------------

def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {target: render(openapi_bundle(service)) for service, (_, target) in OPENAPI.items()}
    files[ASYNCAPI] = render(asyncapi_document())
    return files


def stale(files: dict[Path, str] | None = None) -> list[str]:
    """One line per generated file that is missing or differs from what build.py writes."""
    problems = []
    for path, text in (files or generate()).items():
        where = path.relative_to(ROOT)
        if not path.exists():
            problems.append(f"{where} is missing (run python3 contracts/build.py)")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = [l for l in difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm="", n=0)
                    if not l.startswith(("---", "+++", "@@"))]
            added = sum(1 for l in diff if l.startswith("+"))
            removed = sum(1 for l in diff if l.startswith("-"))
            first = next((l for l in diff), "")[:160]
            problems.append(f"{where} is stale: {removed} lines would go, {added} come (first: {first!r}); "
                            "run python3 contracts/build.py")
    return problems


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(__doc__)
        return 2
    try:
        files = generate()
    except (BuildError, OSError, json.JSONDecodeError, KeyError) as e:
        print(f"build.py: {type(e).__name__}: {e}")
        return 1
    if argv == ["--check"]:
        problems = stale(files)
        for p in problems:
            print("STALE", p)
        print(f"{len(files)} generated files: {'STALE' if problems else 'up to date'}")
        return 1 if problems else 0
    for path, text in files.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
