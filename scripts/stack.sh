#!/usr/bin/env bash
# Development stack: the embedded broker, the five services and the lag exporter in the background.
#   scripts/stack.sh up      start (state under .run/, logs under .run/logs/)
#   scripts/stack.sh down    stop everything and remove the state
#   scripts/stack.sh wait    wait until every service answers /health/ready
# Like a compose restart policy, a supervisor restarts a service that dies and rewrites its pid file.
# NPR_INSTANCES=N (default 1) starts N instances of each service. They share the service's state in $RUN:
# instance 0 is started first and owns it, the others are standbys that take over when the owner ends
# (README, Operations). Instance i serves on the service's port + 100·i and logs to logs/<service>.<i>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${NPR_STATE_DIR:-.run}
BIN=${NPR_BIN:-$(swift build -c "${NPR_BUILD_CONFIG:-debug}" --show-bin-path)}
SERVICES="intake episode-linker indicator-calculator mortality-linker publisher lag-exporter"
# Exported so the publisher finds intake and the calculator (their quality reports) on the same ports.
export NPR_STATE_DIR=$RUN INTAKE_PORT=${INTAKE_PORT:-8080} PUBLISHER_PORT=${PUBLISHER_PORT:-8081}
export INDICATOR_CALCULATOR_PORT=${INDICATOR_CALCULATOR_PORT:-8083}
INSTANCES=${NPR_INSTANCES:-1}

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

instance_name() { # instance_name NAME I: how files of instance I are named (instance 0: the service's name)
  if [ "$2" = 0 ]; then echo "$1"; else echo "$1.$2"; fi
}

supervise() { # supervise NAME I PORT: run instance I of a service on PORT, restart it within 2 s when it dies, until .run/stopping exists
  local name=$1 instance=$2 port=$3 file
  file=$(instance_name "$name" "$instance")
  local variable
  variable=$(echo "$name" | tr a-z- A-Z_)_PORT
  while [ ! -e "$RUN/stopping" ]; do
    # The lag exporter is a subcommand of npr-ops; the services are executables of their own. Started
    # directly (not in a subshell), so that $! is the process `down` stops.
    local command=("$BIN/$name")
    [ "$name" = lag-exporter ] && command=("$BIN/npr-ops" lag-exporter)
    env "$variable=$port" NPR_INSTANCE="${HOSTNAME:-host}-$instance" "${command[@]}" >>"$RUN/logs/$file.log" 2>&1 &
    echo $! >"$RUN/$file.pid"
    local code=0
    wait $! || code=$?
    [ -e "$RUN/stopping" ] && break
    if [ "$code" = 78 ]; then # stopped on purpose (input lost): a restart cannot help, see the log
      echo "{\"msg\":\"supervisor: $file stopped with exit code 78 (needs an operator); not restarting\"}" >>"$RUN/logs/$file.log"
      break
    fi
    echo "{\"msg\":\"supervisor: $file exited, restarting\"}" >>"$RUN/logs/$file.log"
    sleep 1
  done
}

start_instance() { # start_instance NAME I
  local file port
  file=$(instance_name "$1" "$2")
  port=$(($(port_of "$1") + 100 * $2))
  nohup bash -c "$(declare -f supervise instance_name); RUN=$RUN BIN=$BIN; supervise $1 $2 $port" </dev/null >/dev/null 2>&1 &
  echo $! >"$RUN/$file.supervisor.pid"
}

instances_of() { # the instances a service runs as: the lag exporter is stateless and runs once
  if [ "$1" = lag-exporter ]; then echo 0; else seq 0 $((INSTANCES - 1)); fi
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
  for s in $SERVICES; do start_instance "$s" 0; done
  wait_ready
  # The standbys once the owners run (they take over in any order later).
  for s in $SERVICES; do
    for i in $(instances_of "$s"); do
      [ "$i" = 0 ] && continue
      start_instance "$s" "$i"
      wait_for 120 curl -sf "http://127.0.0.1:$(($(port_of "$s") + 100 * i))/health/live" || { echo "$s.$i not live; see $RUN/logs/$s.$i.log"; exit 1; }
    done
  done
  echo "stack up: intake http://127.0.0.1:$INTAKE_PORT  publisher http://127.0.0.1:$PUBLISHER_PORT  lag metrics http://127.0.0.1:$(port_of lag-exporter)/metrics  broker $(cat "$RUN/kafka-bootstrap" 2>/dev/null || echo "$KAFKA_BOOTSTRAP_SERVERS")"
  [ "$INSTANCES" = 1 ] || echo "instances: $INSTANCES of each service; instance i on its port + 100·i (standbys answer 503 until they take over)"
}

wait_ready() { # every service has an instance that owns its state and runs
  for s in $SERVICES; do
    wait_for 120 any_ready "$s" || { echo "$s not ready; see $RUN/logs/$s*.log"; exit 1; }
  done
}

any_ready() {
  for i in $(instances_of "$1"); do
    curl -sf "http://127.0.0.1:$(($(port_of "$1") + 100 * i))/health/ready" && return 0
  done
  return 1
}

down() {
  [ -d "$RUN" ] || return 0
  touch "$RUN/stopping"
  local supervisors pids
  supervisors=$(ls "$RUN"/*.supervisor.pid 2>/dev/null || true)
  pids=$(ls "$RUN"/*.pid 2>/dev/null | grep -v -e supervisor -e kafka-dev-broker || true)
  for f in $supervisors; do kill "$(cat "$f")" 2>/dev/null || true; done
  for f in $pids; do kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  for f in $pids; do
    wait_for 15 bash -c "! kill -0 $(cat "$f")" || kill -9 "$(cat "$f")" 2>/dev/null || true
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
