#!/usr/bin/env bash
# make run: start the stack, stream the synthetic year through intake, wait until caught up,
# print headline indicators and the dashboard address, keep serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-3000}
YEAR=${NPR_DEMO_YEAR:-2024}
# The synthetic data is one statistics year: evaluate open stays at its end unless told otherwise.
export NPR_AS_OF=${NPR_AS_OF:-$YEAR-12-31}
BIN=$(swift build --show-bin-path)
PUB="http://127.0.0.1:${PUBLISHER_PORT:-8081}"
scripts/stack.sh down >/dev/null 2>&1 || true
scripts/stack.sh up
trap 'scripts/stack.sh down' EXIT INT TERM
"$BIN/npr-ops" load --patients "$PATIENTS" --year "$YEAR"
echo "waiting until every service has caught up…"
deadline=$((SECONDS + 600))
until curl -sf "$PUB/v1/status" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["caughtUp"] else 1)'; do
  [ $SECONDS -lt $deadline ] || { echo "not caught up after 600 s"; break; }
  sleep 1
done
curl -sf "$PUB/v1/indicators?level=national&sex=all" | python3 scripts/headline.py "$YEAR"
echo
echo "dashboard: $PUB/   (API: $PUB/v1/indicators, $PUB/v1/status) — Ctrl-C stops the stack"
while true; do sleep 3600; done
