#!/usr/bin/env bash
# fetch.sh assembles the jars of a real Apache Kafka broker (KRaft) from Maven
# Central into a cache folder, once. The e2e harness
# (internal/testutil/realkafka) reads the same folder.
#
#   scripts/kafka/fetch.sh            # into .cache/kafka-<version>/libs
#   EVENTWATCH_KAFKA_LIBS=/x fetch.sh # into /x
#
# Idempotent: when the folder already holds kafka_2.13-<version>.jar and a
# log4j-core jar it does nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="${EVENTWATCH_KAFKA_LIBS:-$root/.cache/kafka-$version/libs}"

if compgen -G "$libs/kafka_2.13-$version.jar" >/dev/null && compgen -G "$libs/log4j-core-*.jar" >/dev/null; then
  echo "kafka $version jars already in $libs"
  exit 0
fi

command -v mvn >/dev/null || { echo "fetch.sh: mvn not found (apt-get install -y maven)" >&2; exit 1; }
tmp="$libs.partial"
rm -rf "$tmp"
mkdir -p "$tmp"
echo "fetching kafka $version jars into $libs"
if ! out="$(mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1)"; then
  echo "$out" >&2
  echo "fetch.sh: mvn failed (Maven Central reachable? ~/.m2/settings.xml?)" >&2
  exit 1
fi
rm -rf "$libs"
mv "$tmp" "$libs"
echo "kafka $version: $(ls "$libs" | wc -l) jars in $libs"
