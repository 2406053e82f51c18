#!/usr/bin/env bash
# Local PostgreSQL 15 + PostGIS for development and tests.
#
#   deploy/local/postgres.sh up|down|status|restart
#
# Runs a private cluster (data under $STATE/postgres) rather than Debian's
# default one, so a `rm -rf .state` is a full reset and nothing depends on
# /etc/postgresql. Listens on 127.0.0.1:${BAIYING_PG_PORT:-5432} only.
set -euo pipefail
LOG_TAG=postgres
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_VERSION=15
PGBIN="/usr/lib/postgresql/$PG_VERSION/bin"
PORT="${BAIYING_PG_PORT:-5432}"
PG_ROOT="$STATE/postgres"
PGDATA="$PG_ROOT/data"
PG_LOG="$LOG_DIR/postgres.log"
# Unix socket used only for bootstrapping as the `postgres` superuser.
# Socket paths are limited to ~107 bytes; fall back to /tmp for deep clones.
PG_SOCK_DIR="$RUN_DIR/postgres"
if (( ${#PG_SOCK_DIR} > 90 )); then
  PG_SOCK_DIR="/tmp/baiying-pg-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)"
fi
APP_URL="postgresql://baiying:baiying@127.0.0.1:$PORT/baiying"
WAIT_SECONDS=60

# Postgres refuses to run as root, so as root we run the server as the
# `postgres` OS user (created by the Debian package). As a normal user we
# simply run it as ourselves.
if ((EUID == 0)); then
  id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing; run deploy/local/install.sh"
  # cd / : runuser keeps the cwd, which postgres may not be allowed to read.
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

pg_ctl() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" "$@"; }
# Superuser connection over the private socket (trust auth, 0700 dir).
psql_admin() { PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$PORT" -U postgres "$@"; }

is_running() { [[ -f $PGDATA/PG_VERSION ]] && pg_ctl status >/dev/null 2>&1; }

show_log_tail() {
  if [[ -f $PG_LOG ]]; then
    echo "----- last 40 lines of $PG_LOG -----" >&2
    tail -n 40 "$PG_LOG" >&2
    echo "-----" >&2
  fi
}

# The postgres user must be able to traverse every parent of the state dir
# (e.g. a clone under /root, which is 0700 on Debian). Grant o+x (search
# only, not read) where needed, and say so.
ensure_traversable() {
  ((EUID == 0)) || return 0
  local d=$PG_ROOT dirs=() i
  while [[ $d != / ]]; do dirs+=("$d"); d=$(dirname "$d"); done
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    if ! as_pg test -x "${dirs[i]}"; then
      log "chmod o+x ${dirs[i]} (postgres user must traverse it to reach its data dir)"
      chmod o+x "${dirs[i]}"
    fi
  done
}

prepare_dirs() {
  ensure_state_dirs
  mkdir -p "$PG_ROOT" "$PG_SOCK_DIR"
  touch "$PG_LOG"
  if ((EUID == 0)); then
    chown postgres:postgres "$PG_ROOT" "$PG_SOCK_DIR" "$PG_LOG"
  fi
  chmod 0700 "$PG_SOCK_DIR"
  ensure_traversable
}

init_cluster() {
  [[ -f $PGDATA/PG_VERSION ]] && return 0
  log "initdb $PGDATA"
  # C.UTF-8 exists on every Debian glibc (no locales package needed) and
  # gives UTF8 encoding for Chinese text. Local socket = trust (the socket
  # dir is 0700); TCP = scram-sha-256 passwords.
  as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 \
    || { show_log_tail; die "initdb failed"; }
  # Our settings live in their own file so postgresql.conf stays pristine.
  echo "include_if_exists = 'baiying.conf'" >>"$PGDATA/postgresql.conf"
}

write_config() {
  # Rewritten on every `up` so BAIYING_PG_PORT changes take effect.
  cat >"$PGDATA/baiying.conf" <<CONF
# Managed by deploy/local/postgres.sh; edits are overwritten on 'up'.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PG_SOCK_DIR'
# Sized for a 2-core dev/CI box.
max_connections = 200            # 3 services x pools + parallel tests
shared_buffers = 512MB
effective_cache_size = 2GB
work_mem = 8MB
maintenance_work_mem = 128MB
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
# Keep durability on: tests should see the same semantics as production.
fsync = on
synchronous_commit = on
password_encryption = scram-sha-256
# Bulk imports (1,000,000 volunteers) write ~2 GB of WAL: fewer forced checkpoints and
# compressed full-page images keep them I/O-light without giving up durability.
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = on
# Logging goes to stderr, which pg_ctl -l sends to \$STATE/logs/postgres.log.
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_timezone = 'UTC'
timezone = 'UTC'
CONF
  ((EUID == 0)) && chown postgres:postgres "$PGDATA/baiying.conf"
  return 0
}

# Anything else on our port (typically Debian's own `15/main` cluster,
# which the package starts on 5432) would make us connect to the wrong
# server. Stop the Debian cluster; refuse anything else.
check_port_free() {
  port_open "$PORT" || return 0
  if command -v pg_lsclusters >/dev/null; then
    local ver name port status
    while read -r ver name port status _; do
      if [[ $port == "$PORT" && $status == online* ]]; then
        log "Debian cluster $ver/$name is running on port $PORT; stopping it (pg_ctlcluster $ver $name stop)"
        log "  (to keep it from starting at boot: set 'manual' in /etc/postgresql/$ver/$name/start.conf)"
        pg_ctlcluster "$ver" "$name" stop || die "could not stop Debian cluster $ver/$name"
      fi
    done < <(pg_lsclusters --no-header 2>/dev/null || true)
  fi
  local i
  for i in $(seq 1 20); do port_open "$PORT" || return 0; sleep 0.25; done
  echo "Processes listening on $PORT:" >&2
  ss -ltnp "sport = :$PORT" >&2 || true
  die "port $PORT is taken by something that is not our cluster. Stop it, or use another port: BAIYING_PG_PORT=5433 (and point BAIYING_DATABASE_URL at it)."
}

# Idempotent: run on every `up`, so a half-finished first start heals itself.
bootstrap() {
  psql_admin -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'baiying') THEN
    CREATE ROLE baiying LOGIN;
  END IF;
END $$;
-- SUPERUSER is a dev-only shortcut: tests CREATE DATABASE per run and
-- CREATE EXTENSION postgis, which needs superuser on PostGIS 3.3.
ALTER ROLE baiying WITH LOGIN SUPERUSER PASSWORD 'baiying';
SELECT 'CREATE DATABASE baiying OWNER baiying ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'baiying')
\gexec
SQL
  # PostGIS in template1 too, so every database created later has it.
  psql_admin -d template1 -c 'CREATE EXTENSION IF NOT EXISTS postgis'
  psql_admin -d baiying -c 'CREATE EXTENSION IF NOT EXISTS postgis'
}

wait_ready() {
  local start=$1 deadline=$((SECONDS + WAIT_SECONDS))
  until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; do
    if ((SECONDS >= deadline)) || ! is_running; then
      show_log_tail; die "server did not become ready on 127.0.0.1:$PORT"
    fi
    sleep 0.2
  done
}

cmd_up() {
  [[ -x $PGBIN/postgres ]] || die "$PGBIN/postgres not found; run deploy/local/install.sh"
  prepare_dirs
  init_cluster
  write_config
  local start; start=$(now)
  if is_running; then
    log "already running (pid $(head -n1 "$PGDATA/postmaster.pid")); reloading baiying.conf"
    pg_ctl reload >/dev/null  # settings that need a restart say so in the log
  else
    check_port_free
    log "starting on 127.0.0.1:$PORT (data $PGDATA)"
    pg_ctl -l "$PG_LOG" -w -t "$WAIT_SECONDS" start >/dev/null \
      || { show_log_tail; die "pg_ctl start failed"; }
  fi
  wait_ready "$start"
  bootstrap || { show_log_tail; die "bootstrap SQL failed"; }
  # The check that matters: the app's own URL over TCP with a password.
  local v
  v=$("$PGBIN/psql" -X -At "$APP_URL" -c 'select postgis_version()') \
    || { show_log_tail; die "cannot query PostGIS via $APP_URL"; }
  log "ready in $(elapsed "$start")s: $APP_URL (postgis $v)"
}

cmd_down() {
  if is_running; then
    log "stopping"
    pg_ctl -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop failed"
    log "stopped"
  else
    log "not running"
  fi
}

cmd_status() {
  if is_running; then
    log "running (pid $(head -n1 "$PGDATA/postmaster.pid")) on 127.0.0.1:$PORT"
  else
    log "stopped"
    return 3
  fi
}

lifecycle cmd_up cmd_down cmd_status "${1:-}"
