#!/usr/bin/env bash
# Bring the whole local infrastructure up/down: OS packages, PostgreSQL
# (+PostGIS) and Kafka. Each step is idempotent, so `up` is safe to repeat.
#
#   deploy/local/infra.sh up|down|status|restart
#
# Env: BAIYING_STATE_DIR (default <repo>/.state), BAIYING_PG_PORT (5432),
#      BAIYING_KAFKA_PORT (9092), BAIYING_KAFKA_BROKERS (1; 3 for a replicated
#      cluster on 9092/9094/9096), BAIYING_SKIP_INSTALL=1 to skip apt.
set -euo pipefail
LOG_TAG=infra
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/common.sh
source "$HERE/common.sh"

step() {  # step <name> <script> <args...>: run with timing + progress lines
  local name=$1 start; shift
  start=$(now)
  log "$name: ${PHASE}…"
  "$@" || { log "$name: FAILED after $(elapsed "$start")s"; exit 1; }
  log "$name: done in $(elapsed "$start")s"
}

up() {
  log "state dir: $STATE"
  if [[ ${BAIYING_SKIP_INSTALL:-0} == 1 ]]; then
    log "install: skipped (BAIYING_SKIP_INSTALL=1)"
  else
    PHASE="checking OS packages" step install "$HERE/install.sh"
  fi
  PHASE="starting" step postgres "$HERE/postgres.sh" up
  PHASE="starting" step kafka "$HERE/kafka.sh" up
  local cluster=""
  if ((${BAIYING_KAFKA_BROKERS:-1} >= 3)); then
    cluster=" BAIYING_KAFKA_REPLICATION_FACTOR=3 BAIYING_KAFKA_MIN_INSYNC_REPLICAS=2"
  fi
  log "all up. BAIYING_DATABASE_URL=postgresql://baiying:baiying@127.0.0.1:${BAIYING_PG_PORT:-5432}/baiying BAIYING_KAFKA_BOOTSTRAP=$("$HERE/kafka.sh" bootstrap)$cluster"
}

down() {
  # Reverse order: services may still be draining into Kafka/Postgres.
  PHASE="stopping" step kafka "$HERE/kafka.sh" down
  PHASE="stopping" step postgres "$HERE/postgres.sh" down
}

status() {
  local rc=0
  "$HERE/postgres.sh" status || rc=1
  "$HERE/kafka.sh" status || rc=1
  return $rc
}

lifecycle up down status "${1:-}"
