#!/usr/bin/env bash
# Local Keycloak (OpenID Connect provider) for development and tests.
#
#   deploy/local/keycloak.sh up|down|status|restart
#
# No Docker: the distribution comes from Maven Central
# (org.keycloak:keycloak-quarkus-dist) and is unpacked once under $STATE/keycloak.
# `up` imports deploy/keycloak/*.json (realm "baiying") and waits until the realm's
# discovery document answers. Idempotent; `up` on a running instance returns at once.
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VERSION="${BAIYING_KEYCLOAK_VERSION:-26.0.7}"
PORT="${BAIYING_KEYCLOAK_PORT:-8180}"
KC_DIR="$STATE/keycloak"
DIST="$KC_DIR/keycloak-$VERSION"
PID_FILE="$RUN_DIR/keycloak.pid"
OUT_LOG="$LOG_DIR/keycloak.out"
REALMS="$BAIYING_ROOT/deploy/keycloak"
WAIT_SECONDS="${BAIYING_KEYCLOAK_WAIT:-120}"
HEAP_OPTS="${BAIYING_KEYCLOAK_HEAP_OPTS:--Xms128m -Xmx512m}"
DISCOVERY="http://127.0.0.1:$PORT/realms/baiying/.well-known/openid-configuration"

find_java_home() {
  local c
  for c in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/java-17-openjdk-*; do
    [[ -x $c/bin/java ]] && { echo "$c"; return 0; }
  done
  die "Java 17 not found; run deploy/local/install.sh"
}

ensure_dist() {
  [[ -x $DIST/bin/kc.sh ]] && return 0
  command -v mvn >/dev/null || die "mvn not found; run deploy/local/install.sh"
  local artifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip"
  log "resolving $artifact from Maven Central (first run downloads ~200 MB)"
  mvn -q -B -Dstyle.color=never dependency:get -Dartifact="$artifact" -Dtransitive=false \
    >"$LOG_DIR/keycloak-maven.log" 2>&1 || { tail -n 30 "$LOG_DIR/keycloak-maven.log" >&2; die "maven failed"; }
  local repo zip
  repo=$(mvn -q -B help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null || echo "$HOME/.m2/repository")
  zip="$repo/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip"
  [[ -f $zip ]] || zip="$HOME/.m2/repository/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip"
  mkdir -p "$KC_DIR"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$KC_DIR"
  chmod +x "$DIST"/bin/*.sh
}

# The realm files are copied on every `up`; a changed file forces a fresh import
# (dev mode keeps its H2 data under the dist, so a stale realm would otherwise win).
sync_realms() {
  local want have=""
  want=$(cat "$REALMS"/*.json | sha256sum | cut -d' ' -f1)
  [[ -f $DIST/data/.realms.sha256 ]] && have=$(<"$DIST/data/.realms.sha256")
  if [[ $want != "$have" ]]; then
    rm -rf "$DIST/data/h2" "$DIST/data/import"
    mkdir -p "$DIST/data/import"
    cp "$REALMS"/*.json "$DIST/data/import/"
    echo "$want" >"$DIST/data/.realms.sha256"
  fi
}

ready() { curl -fsS -o /dev/null --max-time 2 "$DISCOVERY" 2>/dev/null; }

up() {
  ensure_state_dirs
  if pid_alive "$PID_FILE" && ready; then log "already up on 127.0.0.1:$PORT"; return 0; fi
  if port_open "$PORT" && ready; then log "a Keycloak already answers on 127.0.0.1:$PORT"; return 0; fi
  ensure_dist
  sync_realms
  local start; start=$(now)
  JAVA_HOME="$(find_java_home)" JAVA_OPTS_KC_HEAP="$HEAP_OPTS" \
    KC_BOOTSTRAP_ADMIN_USERNAME="${BAIYING_KEYCLOAK_ADMIN:-admin}" \
    KC_BOOTSTRAP_ADMIN_PASSWORD="${BAIYING_KEYCLOAK_ADMIN_PASSWORD:-admin}" \
    setsid "$DIST/bin/kc.sh" start-dev --http-host 127.0.0.1 --http-port "$PORT" \
      --import-realm --health-enabled=false --metrics-enabled=false \
      >"$OUT_LOG" 2>&1 < /dev/null &
  echo $! >"$PID_FILE"
  local waited=0
  until ready; do
    pid_alive "$PID_FILE" || { tail -n 40 "$OUT_LOG" >&2; die "exited during startup (log: $OUT_LOG)"; }
    (( waited++ >= WAIT_SECONDS * 2 )) && { tail -n 40 "$OUT_LOG" >&2; die "not ready after ${WAIT_SECONDS}s"; }
    sleep 0.5
  done
  log "up on 127.0.0.1:$PORT in $(elapsed "$start")s (realm baiying; admin console /admin)"
}

down() {
  if pid_alive "$PID_FILE"; then
    local pid; pid=$(<"$PID_FILE")
    # setsid made kc.sh a session leader; the JVM is in its process group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do pid_alive "$PID_FILE" || break; sleep 0.5; done
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
}

status() {
  if ready; then log "up on 127.0.0.1:$PORT"; else log "down"; return 1; fi
}

lifecycle up down status "${1:-}"
