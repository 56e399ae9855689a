#!/usr/bin/env bash
# Development stack: the embedded broker, the five services and the lag exporter in the background.
#   scripts/stack.sh up      start (state under .run/, logs under .run/logs/)
#   scripts/stack.sh down    stop everything and remove the state
#   scripts/stack.sh wait    wait until every service answers /health/ready
# Like a compose restart policy, a supervisor restarts a service that dies and rewrites its pid file.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${NPR_STATE_DIR:-.run}
BIN=${NPR_BIN:-$(swift build -c "${NPR_BUILD_CONFIG:-debug}" --show-bin-path)}
SERVICES="intake episode-linker indicator-calculator mortality-linker publisher lag-exporter"
# Exported so the publisher finds intake and the calculator (their quality reports) on the same ports.
export NPR_STATE_DIR=$RUN INTAKE_PORT=${INTAKE_PORT:-8080} PUBLISHER_PORT=${PUBLISHER_PORT:-8081}
export INDICATOR_CALCULATOR_PORT=${INDICATOR_CALCULATOR_PORT:-8083}

port_of() {
  case $1 in
    intake) echo "$INTAKE_PORT" ;; publisher) echo "$PUBLISHER_PORT" ;;
    episode-linker) echo "${EPISODE_LINKER_PORT:-8082}" ;; indicator-calculator) echo "$INDICATOR_CALCULATOR_PORT" ;;
    mortality-linker) echo "${MORTALITY_LINKER_PORT:-8084}" ;; lag-exporter) echo "${LAG_EXPORTER_PORT:-8085}" ;;
  esac
}

wait_for() { # wait_for SECONDS COMMAND...: poll a condition until it holds or time runs out
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

supervise() { # supervise NAME: run a service, restart it within 2 s when it dies, until .run/stopping exists
  local name=$1
  while [ ! -e "$RUN/stopping" ]; do
    # The lag exporter is a subcommand of npr-ops; the services are executables of their own. Started
    # directly (not in a subshell), so that $! is the process `down` stops.
    local command=("$BIN/$name")
    [ "$name" = lag-exporter ] && command=("$BIN/npr-ops" lag-exporter)
    "${command[@]}" >>"$RUN/logs/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    local code=0
    wait $! || code=$?
    [ -e "$RUN/stopping" ] && break
    if [ "$code" = 78 ]; then # stopped on purpose (input lost): a restart cannot help, see the log
      echo "{\"msg\":\"supervisor: $name stopped with exit code 78 (needs an operator); not restarting\"}" >>"$RUN/logs/$name.log"
      break
    fi
    echo "{\"msg\":\"supervisor: $name exited, restarting\"}" >>"$RUN/logs/$name.log"
    sleep 1
  done
}

up() {
  mkdir -p "$RUN/logs"
  rm -f "$RUN/stopping"
  if [ -f "$RUN/kafka-dev-broker.pid" ] && kill -0 "$(cat "$RUN/kafka-dev-broker.pid")" 2>/dev/null; then
    echo "stack already running (make down first)"; exit 1
  fi
  rm -f "$RUN/kafka-bootstrap"
  if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    nohup "$BIN/kafka-dev-broker" --bootstrap-file "$RUN/kafka-bootstrap" </dev/null >>"$RUN/logs/kafka-dev-broker.log" 2>&1 &
    echo $! >"$RUN/kafka-dev-broker.pid"
    wait_for 30 test -s "$RUN/kafka-bootstrap" || { echo "broker did not start"; exit 1; }
  fi
  for s in $SERVICES; do
    nohup bash -c "$(declare -f supervise); RUN=$RUN BIN=$BIN; supervise $s" </dev/null >/dev/null 2>&1 &
    echo $! >"$RUN/$s.supervisor.pid"
  done
  wait_ready
  echo "stack up: intake http://127.0.0.1:$INTAKE_PORT  publisher http://127.0.0.1:$PUBLISHER_PORT  lag metrics http://127.0.0.1:$(port_of lag-exporter)/metrics  broker $(cat "$RUN/kafka-bootstrap" 2>/dev/null || echo "$KAFKA_BOOTSTRAP_SERVERS")"
}

wait_ready() {
  for s in $SERVICES; do
    wait_for 120 curl -sf "http://127.0.0.1:$(port_of "$s")/health/ready" || { echo "$s not ready; see $RUN/logs/$s.log"; exit 1; }
  done
}

down() {
  [ -d "$RUN" ] || return 0
  touch "$RUN/stopping"
  for s in $SERVICES; do
    [ -f "$RUN/$s.supervisor.pid" ] && kill "$(cat "$RUN/$s.supervisor.pid")" 2>/dev/null || true
    [ -f "$RUN/$s.pid" ] && kill -TERM "$(cat "$RUN/$s.pid")" 2>/dev/null || true
  done
  for s in $SERVICES; do
    [ -f "$RUN/$s.pid" ] && { wait_for 15 bash -c "! kill -0 $(cat "$RUN/$s.pid")" || kill -9 "$(cat "$RUN/$s.pid")" 2>/dev/null || true; }
  done
  [ -f "$RUN/kafka-dev-broker.pid" ] && kill -TERM "$(cat "$RUN/kafka-dev-broker.pid")" 2>/dev/null || true
  rm -rf "$RUN"
  echo "stack down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  wait) wait_ready ;;
  *) echo "usage: $0 up|down|wait"; exit 2 ;;
esac
