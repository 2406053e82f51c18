# Shared helpers for deploy/local/*.sh. Sourced, not executed.
# shellcheck shell=bash

# Every script that sources this runs strict and logs under its own name ([kafka] for kafka.sh).
set -euo pipefail
LOG_TAG=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# Repo root = two levels above this file, regardless of the caller's cwd.
BAIYING_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Everything the local infra writes (pg data, kafka data, jars, logs, pids)
# lives under one directory so `rm -rf .state` is a full reset.
STATE="${BAIYING_STATE_DIR:-$BAIYING_ROOT/.state}"
LOG_DIR="$STATE/logs"
RUN_DIR="$STATE/run"

log()  { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "${LOG_TAG:-infra}" "$*" >&2; exit 1; }

# Monotonic-ish seconds with decimals, for "ready in 3.2s" messages.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ensure_state_dirs() {
  mkdir -p "$STATE" "$LOG_DIR" "$RUN_DIR"
}

# Is something accepting TCP connections on 127.0.0.1:$1? (bash /dev/tcp, no nc needed)
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Is the pid in file $1 a live process?
pid_alive() {
  local pidfile=$1 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# The one command line every service script takes: up|down|status|restart, mapped to the
# script's own up/down/status functions (named by $1..$3), plus any extra "action=function"
# pairs a script adds (kafka.sh: bootstrap=bootstrap_list).
lifecycle() {
  local up_fn=$1 down_fn=$2 status_fn=$3 action=$4 extra usage="up|down|status|restart"
  shift 4
  for extra in "$@"; do
    usage="$usage|${extra%%=*}"
    [[ $action == "${extra%%=*}" ]] && { "${extra#*=}"; return; }
  done
  case "$action" in
    up|start) "$up_fn" ;;
    down|stop) "$down_fn" ;;
    status) "$status_fn" ;;
    restart) "$down_fn"; "$up_fn" ;;
    *) echo "usage: $0 $usage" >&2; exit 2 ;;
  esac
}
