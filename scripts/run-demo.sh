#!/usr/bin/env bash
# make run: one national year (≈ 34 000 patients, ≈ 620 000 activity messages, population and deaths)
# generated, streamed through intake's HTTP API with progress lines, the headline table per region once
# every service has caught up, then the stack keeps serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build -c release --show-bin-path)
DATA=.run-demo
"$BIN/npr-bench" national --years 1 --out "$DATA" --no-reference
exec python3 scripts/national_bench.py "$DATA" --demo --bin "$BIN"
