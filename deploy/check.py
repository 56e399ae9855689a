#!/usr/bin/env python3
"""Checks that compose.yaml, the Prometheus config and the Grafana provisioning and dashboard fit together.

- every app service of compose.yaml (those with `build:`) is in APP_SERVICES, serves on its port (`<SERVICE>_PORT`,
  `NPR_HEALTH_PORT`), has a /health/ready healthcheck and waits for a healthy kafka, and is a scrape target
  `<service>:<port>` in deploy/prometheus/prometheus.yml;
- the dashboard's datasource is the provisioned one, and the dashboard provider reads the folder compose mounts;
- every metric name in a dashboard expression (and template variable) is one the services export
  (Shared/ServiceRuntime/MetricCatalogue.swift).

Needs python3 and PyYAML (Debian: python3-yaml). Exits 1 with one line per problem.
Usage: python3 deploy/check.py
"""
import json
import os
import re
import sys

# The six processes compose.yaml runs from the image, and the port each serves /metrics and /health on.
APP_SERVICES = {
    "intake": 8080,
    "publisher": 8081,
    "episode-linker": 8082,
    "indicator-calculator": 8083,
    "mortality-linker": 8084,
    "lag-exporter": 8085,
}

# Every metric a process exports is named in one place, the Swift catalogue of HELP texts; histograms are
# queried by their _bucket, _sum and _count series.
CATALOGUE = "Shared/ServiceRuntime/MetricCatalogue.swift"


def catalogue_metrics():
    with open(os.path.join(ROOT, CATALOGUE), encoding="utf-8") as f:
        names = set(re.findall(r'^\s*"([a-z_][a-z0-9_]*)":\s*"', f.read(), re.MULTILINE))
    if not names:
        problem(CATALOGUE, "no metric names found: the table no longer has the form this check reads")
    return names | {n + suffix for n in names for suffix in ("_bucket", "_sum", "_count")}


SCRAPE_INTERVAL = "5s"
DATASOURCE_URL = "http://prometheus:9090"
DASHBOARD_UID = "npr-tsb"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPOSE = "compose.yaml"
PROMETHEUS = "deploy/prometheus/prometheus.yml"
PROVISIONING = "deploy/grafana/provisioning"
DASHBOARDS = "deploy/grafana/dashboards"
DASHBOARD = DASHBOARDS + "/npr-tsb.json"

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


try:
    import yaml
except ImportError:
    sys.exit("deploy/check.py: PyYAML is missing: install python3-yaml (Debian) or `pip install pyyaml`")


def load(path, parse):
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            return parse(f)
    except OSError as e:
        problem(path, f"cannot read: {e.strerror}")
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        problem(path, f"does not parse: {e}")
    return None


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def port_variable(name):
    return name.upper().replace("-", "_") + "_PORT"


def bind_mounts(service):
    """(host path relative to the repository, container path) of the service's ./ bind mounts."""
    out = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = volume.get("source", ""), volume.get("target", "")
        else:
            parts = volume.split(":")
            if len(parts) < 2:
                continue
            source, target = parts[0], parts[1]
        if source.startswith("./") or source.startswith("../"):
            out.append((os.path.normpath(source), target.rstrip("/")))
    return out


# PromQL: the metric names of an expression. Strings, label matchers, ranges and grouping clauses are dropped;
# an identifier followed by "(" is a function or aggregation; Grafana variables ($x) and duration units are no names.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
            "group_left", "group_right"}


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    e = re.sub(r"\{[^{}]*\}", " ", e)
    e = re.sub(r"\[[^\[\]]*\]", " ", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*", e):
        token = m.group(0)
        if token.lower() in KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(token)
    return names


def variable_metric_names(query):
    """Metric names of a Grafana Prometheus template query (label_values(metric, label), query_result(expr), …)."""
    m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query)
    if m:
        return metric_names(m.group(1))
    if re.fullmatch(r"\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query) or \
            re.fullmatch(r"\s*(label_names|metrics)\(.*\)\s*", query):
        return set()
    m = re.fullmatch(r"\s*query_result\((.*)\)\s*", query)
    return metric_names(m.group(1) if m else query)


def panels(items):
    for p in items or []:
        yield p
        yield from panels(p.get("panels"))


# --- compose.yaml --------------------------------------------------------------------------------------------
compose = load(COMPOSE, yaml.safe_load) or {}
services = compose.get("services") or {}
built = {name for name, s in services.items() if isinstance(s, dict) and "build" in s}
for name in sorted(built - APP_SERVICES.keys()):
    problem(COMPOSE, f"service {name} is built from the image but not in APP_SERVICES of deploy/check.py")
for name, port in APP_SERVICES.items():
    s = services.get(name)
    if not isinstance(s, dict):
        problem(COMPOSE, f"no service {name}")
        continue
    env = environment(s)
    for variable in (port_variable(name), "NPR_HEALTH_PORT"):
        if env.get(variable) != str(port):
            problem(COMPOSE, f"{name}: {variable} is {env.get(variable)!r}, expected \"{port}\"")
    test = (s.get("healthcheck") or {}).get("test")
    test = " ".join(test) if isinstance(test, list) else str(test or "")
    if "/health/ready" not in test:
        problem(COMPOSE, f"{name}: no healthcheck on /health/ready")
    depends = s.get("depends_on") or {}
    if not (isinstance(depends, dict) and (depends.get("kafka") or {}).get("condition") == "service_healthy"):
        problem(COMPOSE, f"{name}: does not depend on kafka with condition service_healthy")
for name in ("kafka", "prometheus", "grafana"):
    if name not in services:
        problem(COMPOSE, f"no service {name}")
mounts = {name: bind_mounts(services.get(name) or {}) for name in ("prometheus", "grafana")}
for name, binds in mounts.items():
    for source, _ in binds:
        if not os.path.exists(os.path.join(ROOT, source)):
            problem(COMPOSE, f"{name} mounts {source}, which does not exist")
prometheus_mounts = dict(mounts["prometheus"])
if prometheus_mounts.get(PROMETHEUS) != "/etc/prometheus/prometheus.yml":
    problem(COMPOSE, f"prometheus does not mount {PROMETHEUS} at /etc/prometheus/prometheus.yml")
grafana_mounts = dict(mounts["grafana"])
if grafana_mounts.get(PROVISIONING) != "/etc/grafana/provisioning":
    problem(COMPOSE, f"grafana does not mount {PROVISIONING} at /etc/grafana/provisioning")
dashboards_in_container = grafana_mounts.get(DASHBOARDS)
if not dashboards_in_container:
    problem(COMPOSE, f"grafana does not mount {DASHBOARDS}")

# --- Prometheus ----------------------------------------------------------------------------------------------
prometheus = load(PROMETHEUS, yaml.safe_load) or {}
global_interval = (prometheus.get("global") or {}).get("scrape_interval", "1m")
targets = {}
for job in prometheus.get("scrape_configs") or []:
    interval = job.get("scrape_interval", global_interval)
    for static in job.get("static_configs") or []:
        for target in static.get("targets") or []:
            targets[target] = (job.get("job_name"), interval, job.get("metrics_path", "/metrics"))
for name, port in APP_SERVICES.items():
    found = targets.get(f"{name}:{port}")
    if not found:
        wrong = sorted(t for t in targets if t.split(":")[0] == name)
        problem(PROMETHEUS, f"{name}: no scrape target {name}:{port}" + (f" (has {', '.join(wrong)})" if wrong else ""))
        continue
    job, interval, path = found
    if interval != SCRAPE_INTERVAL:
        problem(PROMETHEUS, f"job {job}: scrape interval {interval}, expected {SCRAPE_INTERVAL}")
    if path != "/metrics":
        problem(PROMETHEUS, f"job {job}: metrics_path {path}, expected /metrics")
for target in sorted(targets):
    host = target.rsplit(":", 1)[0]
    if host not in services:
        problem(PROMETHEUS, f"target {target} is no compose service")

# --- Grafana provisioning ------------------------------------------------------------------------------------
datasource_uids = set()
provider_paths = set()
for kind in ("datasources", "dashboards"):
    folder = os.path.join(PROVISIONING, kind)
    try:
        files = sorted(f for f in os.listdir(os.path.join(ROOT, folder)) if f.endswith((".yml", ".yaml")))
    except OSError:
        files = []
    if not files:
        problem(folder, "no provisioning file")
    for f in files:
        doc = load(os.path.join(folder, f), yaml.safe_load) or {}
        if kind == "datasources":
            for ds in doc.get("datasources") or []:
                if ds.get("type") == "prometheus":
                    datasource_uids.add(ds.get("uid"))
                    if ds.get("url") != DATASOURCE_URL:
                        problem(f"{folder}/{f}", f"datasource {ds.get('name')}: url {ds.get('url')}, expected {DATASOURCE_URL}")
        else:
            for provider in doc.get("providers") or []:
                provider_paths.add(((provider.get("options") or {}).get("path") or "").rstrip("/"))
if not datasource_uids:
    problem(PROVISIONING, "no Prometheus datasource provisioned")
if dashboards_in_container and dashboards_in_container not in provider_paths:
    problem(PROVISIONING, f"no dashboard provider reads {dashboards_in_container}, where compose mounts {DASHBOARDS}")

# --- dashboard -----------------------------------------------------------------------------------------------
dashboard = load(DASHBOARD, json.load) or {}
if dashboard and dashboard.get("uid") != DASHBOARD_UID:
    problem(DASHBOARD, f"uid {dashboard.get('uid')!r}, expected {DASHBOARD_UID!r}")


def check_datasource(where, ds):
    if isinstance(ds, dict) and ds.get("type") == "prometheus" and ds.get("uid") not in datasource_uids:
        problem(DASHBOARD, f"{where}: datasource uid {ds.get('uid')!r} is not provisioned ({', '.join(sorted(map(str, datasource_uids)))})")


used = {}
for v in (dashboard.get("templating") or {}).get("list") or []:
    check_datasource(f"variable ${v.get('name')}", v.get("datasource"))
    if v.get("type") == "query":
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else str(q or "")
        for name in variable_metric_names(q):
            used.setdefault(name, f"variable ${v.get('name')}")
ids = set()
for p in panels(dashboard.get("panels")):
    title = p.get("title", "?")
    if p.get("type") == "row":
        continue
    if p.get("id") in ids:
        problem(DASHBOARD, f"panel {title!r}: id {p.get('id')} used twice")
    ids.add(p.get("id"))
    check_datasource(f"panel {title!r}", p.get("datasource"))
    if not p.get("targets"):
        problem(DASHBOARD, f"panel {title!r}: no queries")
    for t in p.get("targets") or []:
        check_datasource(f"panel {title!r}", t.get("datasource"))
        expr = t.get("expr") or ""
        if not expr.strip():
            problem(DASHBOARD, f"panel {title!r} query {t.get('refId')}: empty expression")
        for name in metric_names(expr):
            used.setdefault(name, f"panel {title!r}")
for name in sorted(used.keys() - catalogue_metrics()):
    problem(DASHBOARD, f"{used[name]} uses metric {name}, which no service exports ({CATALOGUE})")

problems = list(dict.fromkeys(problems))
if problems:
    print("deploy/check.py: %d problem(s):" % len(problems), file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)
print(f"deploy: {len(APP_SERVICES)} services scraped, dashboard {DASHBOARD_UID}: {len(ids)} panels, "
      f"{len(used)} metrics, all known")
