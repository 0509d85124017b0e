#!/usr/bin/env bash
# scripts/bench/rig.sh — a long-lived estate for measuring the daemon
# against the lag collector alone without rebuilding the estate each time
# (docs/performance/lag.md, "Eleventh round", the paragraph "The rig").
#
#   scripts/bench/rig.sh start SHAPE   build SHAPE (tiny, 10k, 20k, 50k) on a
#                                      kfake cluster in its own process and
#                                      start two collectors alone beside it
#   scripts/bench/rig.sh daemon        (re)start the daemon (default
#                                      configuration, fresh group names): it
#                                      leads; pprof served on its HTTP address
#   scripts/bench/rig.sh follower      (re)start a second daemon on the same
#                                      group names: it follows
#   scripts/bench/rig.sh measure [S]   CPU-s per 15 s lag interval and context
#                                      switches of the daemon and of each
#                                      collector over the same S seconds
#                                      (default 120; perf stat)
#   scripts/bench/rig.sh stop          stop every process of the rig
#
# Every process is the daemon package's test binary (built to $RIG/daemon.test
# on start and on daemon, so a changed daemon is measured against the same
# estate and the same collectors). $RIG (default /tmp/eventwatch-rig) holds
# the pids, addresses and outputs. Give the daemon ten lag intervals before
# measuring (its status window fills, then an idle estate changes nothing).
set -euo pipefail
RIG="${RIG:-/tmp/eventwatch-rig}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$RIG/daemon.test"
mkdir -p "$RIG"
cd "$RIG"

build() { (cd "$ROOT" && go test -c -o "$BIN" ./internal/daemon/); }

# child NAME ENV...: run the test binary's helper NAME with ENV, its stdin
# held open by a sleeping writer (the helper stops when its stdin closes)
child() {
  local name=$1 test=$2; shift 2
  stopone "$name"
  rm -f "$name.in"; mkfifo -m 600 "$name.in"
  (exec sleep infinity > "$name.in" 2>/dev/null < /dev/null) & echo $! > "$name.hold" # holds none of the caller's descriptors
  env "$@" "$BIN" -test.run "^$test\$" -test.timeout 0 < "$name.in" > "$name.out" 2>&1 &
  echo $! > "$name.pid"
}

stopone() {
  local f
  for f in "$1.pid" "$1.hold"; do
    if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; fi
  done
}

addr() { # addr NAME: the helper's printed address, once it printed it
  for _ in $(seq 1200); do
    if grep -q '^ADDRS ' "$1.out" 2>/dev/null; then sed -n 's/^ADDRS //p' "$1.out" | head -1; return; fi
    sleep 1
  done
  echo "rig: $1 printed no address; see $RIG/$1.out" >&2; exit 1
}

case "${1:-}" in
start)
  shape=${2:?shape: tiny, 10k, 20k or 50k}
  build
  child kfake TestBenchKfakeChild EVENTWATCH_DAEMON_BENCH_KFAKE=1 EVENTWATCH_BENCH_SHAPE="$shape"
  addr kfake > seeds
  for c in c1 c2; do
    child "$c" TestBenchCollectorChild EVENTWATCH_DAEMON_BENCH_COLLECTOR=1 EVENTWATCH_BENCH_SEEDS="$(cat seeds)"
    sleep 5 # another moment of the interval than the other collector
  done
  echo "rig: $shape on $(cat seeds), collectors starting; now: $0 daemon"
  ;;
daemon)
  build
  echo "rig$RANDOM" > suffix
  child d TestBenchFollowerChild EVENTWATCH_DAEMON_BENCH_FOLLOWER=1 EVENTWATCH_BENCH_PPROF=1 \
    EVENTWATCH_BENCH_SEEDS="$(cat seeds)" EVENTWATCH_BENCH_SUFFIX="$(cat suffix)"
  echo "rig: daemon at $(addr d) (pprof at /debug/pprof/)"
  ;;
follower)
  child f TestBenchFollowerChild EVENTWATCH_DAEMON_BENCH_FOLLOWER=1 \
    EVENTWATCH_BENCH_SEEDS="$(cat seeds)" EVENTWATCH_BENCH_SUFFIX="$(cat suffix)"
  echo "rig: follower at $(addr f)"
  ;;
measure)
  s=${2:-120}
  procs=(d c1 c2)
  for p in "${procs[@]}"; do
    perf stat -x, -e task-clock,context-switches -p "$(cat "$p.pid")" sleep "$s" 2> "perf.$p" &
  done
  wait
  for p in "${procs[@]}"; do
    awk -F, -v p="$p" -v s="$s" '/task-clock/{t=$1} /context-switches/{c=$1}
      END{printf "%-3s %.4f CPU-s per interval, %d context switches per interval\n", p, t/1000/(s/15), c/(s/15)}' "perf.$p"
  done
  ;;
stop)
  for p in f d c1 c2 kfake; do stopone "$p"; done
  ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2
  ;;
esac
