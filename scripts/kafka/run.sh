#!/usr/bin/env bash
# run.sh starts a real single-node Apache Kafka broker (KRaft combined mode)
# on 127.0.0.1 in the foreground, for trying eventwatch by hand:
#
#   scripts/kafka/run.sh                 # PLAINTEXT on 127.0.0.1:9092, data in a temp dir
#   KAFKA_PORT=19092 scripts/kafka/run.sh
#   KAFKA_SCRAM_USER=alice KAFKA_SCRAM_PASSWORD=secret scripts/kafka/run.sh
#                                        # plus SASL_PLAINTEXT (SCRAM-SHA-256) on port+2
#
# It fetches the jars when needed (fetch.sh), formats the storage, starts the
# broker, waits for "Kafka Server started", and on Ctrl-C or exit stops the
# broker and deletes the data (kept when KAFKA_DATA_DIR is given). The e2e
# tests do the same from Go (internal/testutil/realkafka).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="${EVENTWATCH_KAFKA_LIBS:-$root/.cache/kafka-$version/libs}"
port="${KAFKA_PORT:-9092}"
cport=$((port + 1))
sport=$((port + 2))
EVENTWATCH_KAFKA_LIBS="$libs" "$here/fetch.sh" >/dev/null

keep=""
if [ -n "${KAFKA_DATA_DIR:-}" ]; then dir="$KAFKA_DATA_DIR"; keep=1; mkdir -p "$dir"; else dir="$(mktemp -d -t eventwatch-kafka-XXXXXX)"; fi

listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
advertised="PLAINTEXT://127.0.0.1:$port"
protomap="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
scram=()
if [ -n "${KAFKA_SCRAM_USER:-}" ]; then
  listeners+=",SASL_PLAINTEXT://127.0.0.1:$sport"
  advertised+=",SASL_PLAINTEXT://127.0.0.1:$sport"
  protomap+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  scram=(--add-scram "SCRAM-SHA-256=[name=$KAFKA_SCRAM_USER,password=${KAFKA_SCRAM_PASSWORD:?set KAFKA_SCRAM_PASSWORD}]")
fi

cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protomap
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=2097152
PROPS
if [ ${#scram[@]} -gt 0 ]; then
  cat >>"$dir/server.properties" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
fi
cat >"$dir/log4j2.properties" <<'LOG'
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
LOG

java=(java -Xms64m -Xmx512m -XX:+UseSerialGC "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$libs/*")
"${java[@]}" kafka.tools.StorageTool format -t ZXZlbnR3YXRjaC1lMmUtMQ -c "$dir/server.properties" --ignore-formatted "${scram[@]}"

"${java[@]}" kafka.Kafka "$dir/server.properties" > >(tee "$dir/kafka.log") 2>&1 &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -z "$keep" ]; then rm -rf "$dir"; else echo "data kept in $dir"; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 240); do
  grep -q "Kafka Server started" "$dir/kafka.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "kafka exited; log in $dir/kafka.log" >&2; keep=1; exit 1; }
  sleep 0.5
done
echo "kafka $version ready: bootstrap 127.0.0.1:$port${KAFKA_SCRAM_USER:+, SCRAM-SHA-256 on 127.0.0.1:$sport} (Ctrl-C stops it)"
wait "$pid"
