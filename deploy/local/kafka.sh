#!/usr/bin/env bash
# Local Kafka 4.x in KRaft mode: one combined broker+controller by default, or a
# cluster of BAIYING_KAFKA_BROKERS combined nodes (3 gives a real quorum and
# replication 3 / min.insync 2).
#
#   deploy/local/kafka.sh up|down|status|restart
#   deploy/local/kafka.sh bootstrap      # prints the bootstrap list
#
# Node i (1-based) listens on BAIYING_KAFKA_PORT + 2(i-1) and its controller on
# BAIYING_KAFKA_CONTROLLER_PORT + 2(i-1): 9092/9093, 9094/9095, 9096/9097.
#
# No Docker and no release tarball: the broker runs from jars Maven resolves
# from Maven Central (deploy/kafka/pom.xml) into $STATE/kafka/libs.
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BASE_PORT="${BAIYING_KAFKA_PORT:-9092}"
BASE_CONTROLLER_PORT="${BAIYING_KAFKA_CONTROLLER_PORT:-9093}"
BROKERS="${BAIYING_KAFKA_BROKERS:-1}"
[[ $BROKERS =~ ^[1-9]$ ]] || die "BAIYING_KAFKA_BROKERS must be 1..9 (got '$BROKERS')"
KAFKA_DIR="$STATE/kafka"
LIBS="$KAFKA_DIR/libs"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
# One node keeps the single-broker layout of earlier releases (its data is adopted);
# a cluster keeps each node under node<i>/. select_node sets these for node $1.
NODE=1 PORT="" CONTROLLER_PORT="" DATA_DIR="" PROPS="" PID_FILE="" OUT_LOG=""
select_node() {
  NODE=$1
  PORT=$((BASE_PORT + 2 * (NODE - 1)))
  CONTROLLER_PORT=$((BASE_CONTROLLER_PORT + 2 * (NODE - 1)))
  if ((BROKERS == 1)); then
    DATA_DIR="$KAFKA_DIR/data" PROPS="$KAFKA_DIR/server.properties"
    PID_FILE="$RUN_DIR/kafka.pid" OUT_LOG="$LOG_DIR/kafka.out"
  else
    DATA_DIR="$KAFKA_DIR/node$NODE/data" PROPS="$KAFKA_DIR/node$NODE/server.properties"
    PID_FILE="$RUN_DIR/kafka-$NODE.pid" OUT_LOG="$LOG_DIR/kafka-$NODE.out"
  fi
}
bootstrap_list() {
  local i out=()
  for ((i = 1; i <= BROKERS; i++)); do out+=("127.0.0.1:$((BASE_PORT + 2 * (i - 1)))"); done
  local IFS=,; echo "${out[*]}"
}
voters() {
  local i out=()
  for ((i = 1; i <= BROKERS; i++)); do
    out+=("$i@127.0.0.1:$((BASE_CONTROLLER_PORT + 2 * (i - 1)))")
  done
  local IFS=,; echo "${out[*]}"
}
# Replication of the internal topics: all nodes up to 3, and min.insync one less.
RF=$((BROKERS < 3 ? BROKERS : 3))
MIN_ISR=$((RF > 1 ? RF - 1 : 1))
POM="$BAIYING_ROOT/deploy/kafka/pom.xml"
LOG4J_BROKER="$BAIYING_ROOT/deploy/kafka/log4j2.yaml"
LOG4J_TOOLS="$BAIYING_ROOT/deploy/kafka/log4j2-tools.yaml"
WAIT_SECONDS="${BAIYING_KAFKA_WAIT:-90}"
# Modest heap: the box has 2 cores and also runs Postgres + 3 services.
HEAP_OPTS="${BAIYING_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"

# ---------------------------------------------------------------- java
# Kafka 4.x needs Java 17+. Prefer JAVA_HOME, then Debian's JDK 17 path.
find_java() {
  local c
  for c in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} /usr/lib/jvm/java-17-openjdk-*/bin/java "$(command -v java || true)"; do
    [[ -n $c && -x $c ]] || continue
    local major
    major=$("$c" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    if [[ ${major%%.*} -ge 17 ]] 2>/dev/null; then echo "$c"; return 0; fi
  done
  die "Java 17+ not found; run deploy/local/install.sh"
}
JAVA="$(find_java)"

# Run a Kafka CLI tool (small heap, quiet logging).
kafka_tool() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_TOOLS" -cp "$LIBS/*" "$@"
}

# ---------------------------------------------------------------- jars
# Copy the runtime classpath once. The POM's checksum is stored next to the
# jars so bumping the Kafka version in pom.xml re-resolves automatically.
ensure_jars() {
  local want have=""
  want=$(sha256sum "$POM" | cut -d' ' -f1)
  [[ -f $LIBS/.pom.sha256 ]] && have=$(<"$LIBS/.pom.sha256")
  if [[ $want == "$have" ]] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found; run deploy/local/install.sh"
  log "resolving Kafka jars with Maven into $LIBS (first run downloads ~60 MB)"
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  # -B: batch mode (no colours/progress bars in CI logs).
  # Output goes to a log (Debian's mvn prints stray ANSI codes even with -q).
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$LOG_DIR/maven.log" 2>&1; then
    tail -n 40 "$LOG_DIR/maven.log" >&2
    rm -rf "$LIBS"
    die "maven could not resolve $POM (full log: $LOG_DIR/maven.log)"
  fi
  echo "$want" >"$LIBS/.pom.sha256"
  log "$(find "$LIBS" -name '*.jar' | wc -l) jars, $(basename "$(ls "$LIBS"/kafka_2.13-*.jar)")"
}

# ---------------------------------------------------------------- config
quorum_props() {
  if ((BROKERS == 1)); then
    # Dynamic quorum (bootstrap servers, not static voters) so that
    # 'StorageTool format --standalone' can initialise it.
    echo "controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT"
  else
    # A fixed set of voters: every node is a controller, a majority keeps the quorum.
    echo "controller.quorum.voters=$(voters)"
  fi
}

write_props() {
  mkdir -p "$(dirname "$PROPS")" "$DATA_DIR"
  # Rewritten on every `up` so port / path changes take effect.
  cat >"$PROPS" <<PROPS
# Managed by deploy/local/kafka.sh; edits are overwritten on 'up'.
process.roles=broker,controller
node.id=$NODE
$(quorum_props)
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
# Bind to loopback only. Advertise 127.0.0.1 rather than 'localhost':
# 'localhost' may resolve to ::1 first, where nothing listens.
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
log.dirs=$DATA_DIR

# Internal topics replicated over the nodes there are (1 on a single node).
default.replication.factor=$RF
min.insync.replicas=$MIN_ISR
offsets.topic.replication.factor=$RF
transaction.state.log.replication.factor=$RF
transaction.state.log.min.isr=$MIN_ISR
share.coordinator.state.topic.replication.factor=$RF
share.coordinator.state.topic.min.isr=$MIN_ISR
# Fewer internal partitions than the defaults (50): faster first group
# join / first transaction on a small box, same semantics.
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6

# The project creates its topics from its own catalogue; a typo in a topic
# name should fail loudly instead of silently creating a new topic.
auto.create.topics.enable=false
num.partitions=6
# Consumers in tests should not wait 3 s for the first rebalance.
group.initial.rebalance.delay.ms=0

# 2 cores: keep thread pools small.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
# Dev data is disposable; don't let it grow without bound.
log.retention.hours=72
log.retention.bytes=1073741824
log.segment.bytes=104857600
PROPS
}

# Format the KRaft log dir exactly once; the cluster id is kept in the
# state dir so later formats (e.g. after deleting data/) reuse it.
ensure_formatted() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  if [[ ! -s $CLUSTER_ID_FILE ]]; then
    kafka_tool kafka.tools.StorageTool random-uuid >"$CLUSTER_ID_FILE.tmp" \
      || die "StorageTool random-uuid failed"
    mv "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
  fi
  local cid; cid=$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")
  log "formatting storage (cluster id $cid)"
  local mode=(--standalone); ((BROKERS == 1)) || mode=()
  kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$PROPS" "${mode[@]}" --ignore-formatted \
    >>"$OUT_LOG" 2>&1 || { show_log_tail; die "StorageTool format failed"; }
}

# ---------------------------------------------------------------- process
# Our broker is running iff the pid file names a live kafka.Kafka JVM
# (guards against a stale pid reused by an unrelated process).
running_pid() {
  local pid cmdline
  if pid_alive "$PID_FILE"; then
    pid=$(<"$PID_FILE")
    # (no `tr | grep -q` pipe: with pipefail, grep -q's early exit SIGPIPEs tr)
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || cmdline=""
    if [[ $cmdline == *" kafka.Kafka "* ]]; then echo "$pid"; return 0; fi
  fi
  # `setsid` forks when its caller leads a process group (shells with job control),
  # so $! may name a parent that already exited: find our broker by its config path.
  pid=$(pgrep -f -- "kafka.Kafka $PROPS" | head -n1) || return 1
  [[ -n $pid ]] || return 1
  echo "$pid" >"$PID_FILE"
  echo "$pid"
}

show_log_tail() {
  local f
  for f in "$OUT_LOG"; do
    [[ -f $f ]] || continue
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2
    echo "-----" >&2
  done
}

# A metadata round-trip, not just an open port: the broker only answers
# once the controller quorum is up and it has registered itself.
metadata_ok() {
  timeout 30 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_TOOLS" -cp "$LIBS/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --list \
    >/dev/null 2>&1
}

start_node() {
  local pid
  write_props
  if pid=$(running_pid); then
    log "node $NODE already running (pid $pid)"
    return 0
  fi
  if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
    ss -ltnp "( sport = :$PORT or sport = :$CONTROLLER_PORT )" >&2 || true
    die "port $PORT or $CONTROLLER_PORT is already in use by another process. Stop it, or set BAIYING_KAFKA_PORT / BAIYING_KAFKA_CONTROLLER_PORT."
  fi
  ensure_formatted
  log "starting node $NODE on 127.0.0.1:$PORT (controller :$CONTROLLER_PORT, heap $HEAP_OPTS)"
  echo "===== $(date -Is) starting broker =====" >>"$OUT_LOG"
  # setsid + nohup: detach from our session/terminal so the broker
  # survives the calling shell (make, CI step) exiting.
  # shellcheck disable=SC2086  # HEAP_OPTS is intentionally word-split
  setsid nohup "$JAVA" $HEAP_OPTS \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_BROKER" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    >>"$OUT_LOG" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
}

# Every node is started before any is awaited: a cluster's controllers need a
# majority of their voters up before any of them answers.
wait_node() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until port_open "$PORT" && metadata_ok; do
    if ! running_pid >/dev/null; then
      show_log_tail; die "node $NODE exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail; die "node $NODE not ready after ${WAIT_SECONDS}s"
    fi
    sleep 1
  done
}

cmd_up() {
  ensure_state_dirs
  mkdir -p "$KAFKA_DIR"
  ensure_jars
  local start i; start=$(now)
  for ((i = 1; i <= BROKERS; i++)); do select_node "$i"; start_node; done
  for ((i = 1; i <= BROKERS; i++)); do select_node "$i"; wait_node; done
  log "ready in $(elapsed "$start")s: $BROKERS node(s), bootstrap $(bootstrap_list) (log dir $LOG_DIR)"
}

signal_node() {
  local pid
  if ! pid=$(running_pid); then
    log "node $NODE not running"; rm -f "$PID_FILE"; return 0
  fi
  # SIGTERM triggers Kafka's controlled shutdown (flushes logs and writes a
  # clean-shutdown marker, so the next start skips log recovery).
  log "stopping node $NODE (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
}

await_node_stopped() {
  local pid i
  pid=$(running_pid) || { rm -f "$PID_FILE"; return 0; }
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "node $NODE stopped"; return 0; }
    sleep 0.5
  done
  warn "node $NODE still alive after 30s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$PID_FILE"
  log "node $NODE killed"
}

cmd_down() {
  # All nodes are asked at once: one stopped after the others would have lost the
  # controller quorum and could not finish its controlled shutdown.
  local i
  for ((i = 1; i <= BROKERS; i++)); do select_node "$i"; signal_node; done
  for ((i = 1; i <= BROKERS; i++)); do select_node "$i"; await_node_stopped; done
}

cmd_status() {
  local pid i rc=0
  for ((i = 1; i <= BROKERS; i++)); do
    select_node "$i"
    if pid=$(running_pid); then
      log "node $NODE running (pid $pid) on 127.0.0.1:$PORT"
    else
      log "node $NODE stopped"; rc=3
    fi
  done
  return $rc
}

lifecycle cmd_up cmd_down cmd_status "${1:-}" bootstrap=bootstrap_list
