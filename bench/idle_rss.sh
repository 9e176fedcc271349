#!/usr/bin/env bash
# Memory of one idle sidecar: Remora with `workers: 1` and a headers + router filter chain,
# started, sent one request with curl, then left idle for a second. Reports the median over RUNS
# starts of VmRSS, RssAnon, RssFile (/proc/PID/status) and Pss (/proc/PID/smaps_rollup).
#
#   bench/idle_rss.sh                # headers + router chain, 5 runs
#   CHAIN=0 bench/idle_rss.sh        # kernel only: plain routes, no plugin loaded
#   RUNS=9 BUILD=build-release bench/idle_rss.sh
#   SMAPS=1 bench/idle_rss.sh        # also list the resident KiB of each mapped file (last run)
#
# Everything listens on 127.0.0.1 on free ports; the processes started here are stopped by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
REMORA=${REMORA_BIN:-$BUILD/proxy/remora}
UPSTREAM=$BUILD/tools/remora-demo-upstream
RUNS=${RUNS:-5}
CHAIN=${CHAIN:-1}
for f in "$REMORA" "$UPSTREAM" "$BUILD/filters/headers.so" "$BUILD/filters/router.so"; do
  [[ -e $f ]] || { echo "missing $f (ninja -C build remora remora-demo-upstream headers.so router.so)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/remora-idle-rss.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

read -r lport aport uport <<<"$(/usr/bin/python3 - <<'PY'
import socket
socks = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"

mkdir -p "$TMP/plugins"
cp "$BUILD/filters/headers.so" "$BUILD/filters/router.so" "$TMP/plugins/"
{
  echo "workers: 1"
  echo "admin: { address: 127.0.0.1:$aport, control: { unix: $TMP/control.sock } }"
  echo "drain: { grace_period: 0s, deadline: 1s }"
  echo "listeners:"
  echo "  - name: ingress"
  echo "    address: 127.0.0.1:$lport"
  if [[ $CHAIN == 1 ]]; then
    echo "    filters:"
    echo "      - name: headers"
    echo "        config: { response: { set: { x-idle: \"1\" } } }"
    echo "      - name: router"
    echo "        config: { routes: [ { name: all, match: { prefix: / }, cluster: app } ] }"
  else
    echo "    routes: [ { prefix: /, cluster: app } ]"
  fi
  echo "clusters:"
  echo "  - name: app"
  echo "    endpoints: [127.0.0.1:$uport]"
} >"$TMP/remora.yaml"
if [[ $CHAIN == 1 ]]; then
  printf 'plugins: { dir: %s, cache_dir: %s }\n' "$TMP/plugins" "$TMP/cache" >>"$TMP/remora.yaml"
fi

"$UPSTREAM" --listen "127.0.0.1:$uport" >"$TMP/upstream.log" 2>&1 &
PIDS+=($!)

field() { awk -v k="$2" '$1 == k":" {print $2}' "$1"; }
rows=()
for run in $(seq "$RUNS"); do
  "$REMORA" --config "$TMP/remora.yaml" >"$TMP/remora.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  deadline=$((SECONDS + 10))
  until curl -sf "http://127.0.0.1:$aport/ready" >/dev/null; do
    ((SECONDS < deadline)) || { echo "remora not ready" >&2; tail "$TMP/remora.log" >&2; exit 1; }
    sleep 0.05
  done
  curl -sf -o /dev/null "http://127.0.0.1:$lport/" || { echo "request failed" >&2; exit 1; }
  sleep 1
  rows+=("$(field "/proc/$pid/status" VmRSS) $(field "/proc/$pid/status" RssAnon)\
 $(field "/proc/$pid/status" RssFile) $(field "/proc/$pid/smaps_rollup" Pss)")
  if [[ -n ${SMAPS:-} && $run == "$RUNS" ]]; then
    echo "resident KiB per mapping (run $run):"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = NF >= 6 ? $6 : "[anon]"} $1 == "Rss:" {rss[name] += $2}
         END {for (n in rss) if (rss[n] > 0) printf "%8d  %s\n", rss[n], n}' "/proc/$pid/smaps" |
      sort -rn
  fi
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
done

median() { printf '%s\n' "${rows[@]}" | awk -v c="$1" '{print $c}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
echo "chain=$CHAIN runs=$RUNS (KiB each: VmRSS RssAnon RssFile Pss)"
printf '  %s\n' "${rows[@]}"
echo "median: VmRSS $(mib "$(median 1)") MiB, RssAnon $(mib "$(median 2)") MiB," \
  "RssFile $(mib "$(median 3)") MiB, Pss $(mib "$(median 4)") MiB"
