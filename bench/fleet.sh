#!/usr/bin/env bash
# Fleet benchmark: one real etcd and N Remora sidecars (workers: 1) that all watch one shared
# service config key. Pushes a new filter chain through etcd and reports how long it takes until
# every sidecar has written back its ACK, the memory of an idle sidecar, and etcd's cost.
#
#   bench/fleet.sh                 # N=50 then N=200
#   N="50" bench/fleet.sh          # one size
#   BUILD=build-release bench/fleet.sh
#   COLD=1 bench/fleet.sh          # sidecars start without plugins: the push loads them
#
# Everything listens on 127.0.0.1 on free ports; every process started here is stopped by its
# PID on exit. Bounded: each phase has a deadline.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
REMORA=${REMORA_BIN:-$BUILD/proxy/remora}
SIZES=${N:-"50 200"}
ETCD=${ETCD:-/usr/bin/etcd}
PROBE="$ROOT/bench/fleet_probe.py"
for f in "$REMORA" "$BUILD/filters/headers.so" "$BUILD/filters/router.so" "$ETCD"; do
  [[ -e $f ]] || { echo "missing $f (ninja -C build remora headers.so router.so; apt install etcd-server)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/remora-fleet.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -n ${KEEP:-} ]] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

# N free ports at once (all bound together, so they are distinct).
free_ports() {
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

run_fleet() {
  local n=$1 dir="$TMP/n$n"
  mkdir -p "$dir/plugins"
  # Only the two filters the pushed chain uses, so each sidecar maps two plugins, not all.
  cp "$BUILD/filters/headers.so" "$BUILD/filters/router.so" "$dir/plugins/"
  read -r -a ports <<<"$(free_ports $((n + 4)))"
  local cport=${ports[0]} pport=${ports[1]} lport=${ports[2]} uport=${ports[3]}
  local prefix=/remora/fleet/

  "$ETCD" --name fleet --data-dir "$dir/etcd" --log-level error --logger zap \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "fleet=http://127.0.0.1:$pport" >"$dir/etcd.log" 2>&1 &
  local etcd_pid=$!
  PIDS+=("$etcd_pid")
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$cport/health" >/dev/null && break
    sleep 0.1
  done

  # Every sidecar binds the same listener address: listeners use SO_REUSEPORT, so N processes
  # of one user can share it on one host, as N pods would each have their own.
  local pids=()
  # The service config: a headers + router chain. By default the sidecars start with it (v1)
  # and the push changes the headers filter's config (v2), the usual fleet change; with COLD=1
  # they start with plain routes and the push is their first filter chain, so each sidecar
  # also hashes, copies and dlopens both plugins.
  chain() {
    cat <<YAML
drain: { grace_period: 0s, deadline: 1s }
plugins: { dir: $dir/plugins, cache_dir: $dir/cache }
listeners:
  - name: ingress
    address: 127.0.0.1:$lport
    filters:
      - name: headers
        config: { response: { set: { x-fleet: "$1" } } }
      - name: router
        config: { routes: [ { name: all, match: { prefix: / }, cluster: app } ] }
clusters:
  - name: app
    endpoints: [127.0.0.1:$uport]
YAML
  }
  chain v2 >"$dir/push.yaml"
  if [[ -n ${COLD:-} ]]; then
    cat >"$dir/service.yaml" <<YAML
drain: { grace_period: 0s, deadline: 1s }
listeners:
  - name: ingress
    address: 127.0.0.1:$lport
    routes: [ { prefix: /, cluster: app } ]
clusters:
  - name: app
    endpoints: [127.0.0.1:$uport]
YAML
  else
    chain v1 >"$dir/service.yaml"
  fi
  for i in $(seq 0 $((n - 1))); do
    local admin=${ports[$((i + 4))]}
    {
      echo "workers: 1"
      echo "admin: { address: 127.0.0.1:$admin, control: { unix: $dir/s$i.control.sock } }"
      echo "sources:"
      echo "  etcd: { endpoints: [127.0.0.1:$cport], prefix: $prefix, instance: s$i }"
      cat "$dir/service.yaml"
    } >"$dir/s$i.yaml"
    "$REMORA" --config "$dir/s$i.yaml" >"$dir/s$i.log" 2>&1 &
    pids+=($!)
    PIDS+=($!)
  done
  local deadline=$((SECONDS + 60))
  for i in $(seq 0 $((n - 1))); do
    until curl -sf "http://127.0.0.1:${ports[$((i + 4))]}/ready" >/dev/null; do
      ((SECONDS < deadline)) || { echo "sidecar s$i not ready" >&2; tail "$dir/s$i.log" >&2; return 1; }
      sleep 0.05
    done
  done
  sleep 2  # idle: watches established, nothing in flight

  # RSS counts shared library pages in full in every process; PSS shares them out, so PSS is
  # what one more sidecar really costs.
  local rss=0 anon=0 pss=0 max_rss=0 threads=0
  for p in "${pids[@]}"; do
    local r; r=$(kib "$p" VmRSS)
    rss=$((rss + r)); anon=$((anon + $(kib "$p" RssAnon)))
    pss=$((pss + $(awk '$1 == "Pss:" {print $2}' "/proc/$p/smaps_rollup")))
    ((r > max_rss)) && max_rss=$r
    threads=$(awk '$1 == "Threads:" {print $2}' "/proc/$p/status")
  done
  local etcd_rss0 etcd_cpu0
  etcd_rss0=$(kib "$etcd_pid" VmRSS)
  etcd_cpu0=$(cpu_ticks "$etcd_pid")

  local result
  result=$(/usr/bin/python3 "$PROBE" "127.0.0.1:$cport" "$prefix" "$n" "$dir/push.yaml" 30) || true
  sleep 1
  local etcd_cpu1 etcd_rss1 rss_after=0
  etcd_cpu1=$(cpu_ticks "$etcd_pid")
  etcd_rss1=$(kib "$etcd_pid" VmRSS)
  for p in "${pids[@]}"; do rss_after=$((rss_after + $(kib "$p" VmRSS))); done

  echo "N=$n push: $result"
  echo "N=$n idle sidecar RSS: mean $((rss / n)) KiB (anon $((anon / n)) KiB, PSS $((pss / n)) KiB), max $max_rss KiB, $threads threads each"
  echo "N=$n sidecar RSS after the push: mean $((rss_after / n)) KiB"
  echo "N=$n etcd: RSS $((etcd_rss0 / 1024)) MiB idle with $n watchers, $((etcd_rss1 / 1024)) MiB after;" \
    "CPU for the push and $n ACKs: $(((etcd_cpu1 - etcd_cpu0) * 1000 / hz)) ms"

  for p in "${pids[@]}" "$etcd_pid"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" "$etcd_pid"; do wait "$p" 2>/dev/null || true; done
}

for n in $SIZES; do run_fleet "$n"; done
