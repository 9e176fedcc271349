#!/usr/bin/env bash
# Config push latency and the cost of pushes to traffic.
#
#   bench/push_latency.sh                     # 200 pushes, 2 workers, 4 rounds of 10 s wrk runs
#   PUSHES=500 WORKERS=1 DURATION=5 bench/push_latency.sh
#   LOG_LEVEL=debug bench/push_latency.sh     # also where each push's time went (phases)
#
# 1. Push-to-applied latency: PUSHES consecutive PUT /config (alternating two configs that
#    differ in the router filter's routes, with the router and headers plugins loaded), each
#    reporting `apply_us`: from the body arriving to the snapshot installed on every worker.
#    Also the client's view (curl time_total: connect, send, apply, reply).
# 2. Throughput: wrk against the demo upstream (tools/demo_upstream) through Remora, steady,
#    then during a push storm (STORM_RATE pushes per second for the whole run).
set -euo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$BENCH_DIR")
BUILD_DIR=${BUILD_DIR:-$REPO_DIR/build}
REMORA_BIN=${REMORA_BIN:-$BUILD_DIR/proxy/remora}
UPSTREAM_BIN=${UPSTREAM_BIN:-$BUILD_DIR/tools/remora-demo-upstream}
FILTER_DIR=${FILTER_DIR:-$BUILD_DIR/filters}
PUSHES=${PUSHES:-200}
WORKERS=${WORKERS:-2}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-4}
CONNECTIONS=${CONNECTIONS:-32}
STORM_RATE=${STORM_RATE:-50/s}  # curl --rate: pushes during the storm run
LOG_LEVEL=${LOG_LEVEL:-warn}    # debug: also break apply time into phases (from Remora's log)

for tool in wrk curl; do
  command -v $tool >/dev/null || { echo "[push] error: $tool is not installed" >&2; exit 1; }
done
for f in "$REMORA_BIN" "$UPSTREAM_BIN" "$FILTER_DIR/router.so" "$FILTER_DIR/headers.so"; do
  [[ -e $f ]] || { echo "[push] error: $f not found (build remora, remora-demo-upstream and the filters)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/remora-push-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkdir -p "$WORK/plugins" "$WORK/cache"
# -p keeps the build times: a plugin file modified in the last 2 s is hashed on every scan.
cp -p "$FILTER_DIR/router.so" "$FILTER_DIR/headers.so" "$WORK/plugins/"

"$UPSTREAM_BIN" --listen 127.0.0.1:0 --name app >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q "listening on" "$WORK/upstream.log" && break; sleep 0.1; done
UPSTREAM=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$WORK/upstream.log" | head -1)
PORT=$(free_port)
ADMIN=$(free_port)
CONTROL=$(free_port)  # the control listener takes the pushes

config() {  # $1: the route prefix that goes to the cluster "app" first
  cat <<YAML
workers: $WORKERS
log_level: $LOG_LEVEL
admin: { address: 127.0.0.1:$ADMIN, control: { address: 127.0.0.1:$CONTROL } }
drain: { grace_period: 0s, deadline: 5s }
plugins: { dir: $WORK/plugins, cache_dir: $WORK/cache }
listeners:
  - name: ingress
    address: 127.0.0.1:$PORT
    filters:
      - name: headers
        config: { response: { set: { x-bench: "1" } } }
      - name: router
        config: { routes: [ { match: { prefix: "$1" }, cluster: app }, { match: { prefix: / }, cluster: app } ] }
clusters:
  - name: app
    endpoints: [$UPSTREAM]
YAML
}
config /a >"$WORK/a.yaml"
config /b >"$WORK/b.yaml"
cp "$WORK/a.yaml" "$WORK/remora.yaml"

"$REMORA_BIN" --config "$WORK/remora.yaml" >"$WORK/remora.log" 2>&1 &
REMORA_PID=$!
PIDS+=($REMORA_PID)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$ADMIN/ready" >/dev/null && break; sleep 0.1; done

# A curl config running $2 PUTs alternating a.yaml and b.yaml over one keep-alive connection, so
# the client costs one process, not one per push. Each transfer prints its body, then
# "CURL <code> <seconds>".
push_config() {  # $1: output file, $2: pushes
  awk -v n="$2" -v url="http://127.0.0.1:$CONTROL/config" -v dir="$WORK" 'BEGIN {
    for (i = 1; i <= n; i++) {
      if (i > 1) print "next"
      printf "url = \"%s\"\nrequest = \"PUT\"\ndata-binary = \"@%s/%s.yaml\"\nsilent\n", url, dir, (i % 2 ? "b" : "a")
      print "write-out = \"\\nCURL %{http_code} %{time_total}\\n\""
    }
  }' >"$1"
}

# curl output → "apply_us curl_us" per push; fails on any status but 200.
collect() {  # $1: curl output, $2: result file
  awk '/"apply_us"/ { gsub(/[^0-9]/, "", $2); apply = $2 }
       /^CURL / { if ($2 != 200) { print "push answered " $2 > "/dev/stderr"; bad = 1 }
                  printf "%d %d\n", apply, $3 * 1000000 }
       END { exit bad }' "$1" >"$2"
}

percentiles() {  # column $1 of $2 → "p50 p99 max count" in ms
  sort -n -k"$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END {
    i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5); if (i99 < 1) i99 = 1
    printf "%.2f %.2f %.2f %d", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000, NR }'
}

echo "[push] $PUSHES pushes, $WORKERS worker(s)" >&2
push_config "$WORK/latency.curl" "$PUSHES"
curl -K "$WORK/latency.curl" >"$WORK/latency.out"
collect "$WORK/latency.out" "$WORK/latency"
read -r APPLY_P50 APPLY_P99 APPLY_MAX _ <<<"$(percentiles 1 "$WORK/latency")"
read -r CURL_P50 CURL_P99 CURL_MAX _ <<<"$(percentiles 2 "$WORK/latency")"

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
cpu() { sed -n 's/^cpu_us_per_request //p' "$1"; }
errors() { cat "$@" | grep -E "Non-2xx|Socket errors" || true; }

# Steady and storm runs alternate ROUNDS times so that load from elsewhere on a shared machine
# hits both alike; the ratio reported is the median of the rounds' ratios.
: >"$WORK/storm_latency_all"
: >"$WORK/rounds"
# Remora's CPU time (user + system clock ticks, all threads) from /proc/PID/stat.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$REMORA_PID/stat"; }
# wrk against Remora, writing $1.txt and appending "CPU µs per request" to $1.txt too.
measure() {  # $1: output prefix
  local before after
  before=$(cpu_ticks)
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$PORT/" >"$1.txt"
  after=$(cpu_ticks)
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ { printf "cpu_us_per_request %.2f\n", t * 1e6 / hz / $1 }' "$1.txt" >>"$1.txt"
}
steady_run() {
  echo "[push] steady: wrk -t2 -c$CONNECTIONS -d${DURATION}s" >&2
  measure "$WORK/steady"
}
storm_run() {
  echo "[push] during a push storm: $STORM_RATE pushes" >&2
  push_config "$WORK/storm.curl" $((${STORM_RATE%%/*} * (DURATION + 5)))
  curl --rate "$STORM_RATE" -K "$WORK/storm.curl" >"$WORK/storm.out" &
  CURL=$!
  PIDS+=($CURL)
  measure "$WORK/storm"
  kill "$CURL" 2>/dev/null || true
  wait "$CURL" 2>/dev/null || true
  # The push cut off by the kill printed no CURL line and is not counted.
  collect "$WORK/storm.out" "$WORK/storm_latency"
  cat "$WORK/storm_latency" >>"$WORK/storm_latency_all"
}
for round in $(seq "$ROUNDS"); do
  # Odd rounds measure steady first, even rounds the storm first: neither always runs second.
  if ((round % 2)); then steady_run; storm_run; else storm_run; steady_run; fi
  echo "$(rps "$WORK/steady.txt") $(rps "$WORK/storm.txt") $(wc -l <"$WORK/storm_latency") $(errors "$WORK/steady.txt" "$WORK/storm.txt" | wc -l) $(cpu "$WORK/steady.txt") $(cpu "$WORK/storm.txt")" >>"$WORK/rounds"
done
read -r STORM_P50 STORM_P99 STORM_MAX STORM_PUSHES <<<"$(percentiles 1 "$WORK/storm_latency_all")"

echo
echo "push-to-applied (server, apply_us) over $PUSHES pushes: p50 ${APPLY_P50} ms, p99 ${APPLY_P99} ms, max ${APPLY_MAX} ms"
echo "push round trip (curl time_total):                     p50 ${CURL_P50} ms, p99 ${CURL_P99} ms, max ${CURL_MAX} ms"
echo "push-to-applied during the storms ($STORM_PUSHES pushes):   p50 ${STORM_P50} ms, p99 ${STORM_P99} ms, max ${STORM_MAX} ms"
echo "round  steady rps  storm rps  pushes  ratio  errors  steady CPU us/req  storm CPU us/req"
awk '{ printf "%5d  %10.0f  %9.0f  %6d  %5.2f  %6d  %17.2f  %16.2f\n", NR, $1, $2, $3, $2 / $1, $4, $5, $6 }' "$WORK/rounds"
median() { sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'; }
echo "median throughput ratio storm/steady: $(awk '{ print $2 / $1 }' "$WORK/rounds" | median)"
# LOG_LEVEL=debug: each snapshot's phases (snapshot_publisher.cc). Version 1 is the startup
# config, versions 2..PUSHES+1 the pushes without traffic, the rest the storms.
phases() {  # $1: awk condition on the version → one line per phase, "p50 p99 max" in ms
  sed -n 's/.*snapshot \([0-9]*\) phases: \(.*\)/\1 \2/p' "$WORK/remora.log" |
    awk -v n="$PUSHES" "$1" | tr '=' ' ' >"$WORK/phases"
  [[ -s $WORK/phases ]] || return 0
  for col in 3:prepare 5:queue 7:install 9:wake 11:total; do
    printf "  %-8s p50 %s ms, p99 %s ms, max %s ms\n" "${col#*:}" \
      $(percentiles "${col%%:*}" "$WORK/phases" | cut -d' ' -f1-3)
  done
}
if [[ $LOG_LEVEL == debug ]]; then
  echo "phases without traffic (prepare: sockets + chains on main; queue: post until the slowest worker began installing; install: longest install; wake: last install done until main resumed):"
  phases '$1 >= 2 && $1 <= n + 1'
  echo "phases during the storms:"
  phases '$1 > n + 1'
fi
echo "median CPU per request ratio storm/steady: $(awk '{ print $6 / $5 }' "$WORK/rounds" | median) (1.00 = pushes cost requests nothing)"
