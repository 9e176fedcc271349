#!/usr/bin/env bash
# Measures remora's resident memory with the Kubernetes ConfigMap's config (deploy/k8s), idle
# and under load, to size the sidecar's memory request and limit in deploy/k8s/deployment.yaml.
#
#   deploy/measure-rss.sh [BUILD_DIR] [CONNECTIONS] [SECONDS]     (defaults: build 256 15)
#
# Runs the built remora and demo upstream on 127.0.0.1 with free ports (plugins from
# BUILD_DIR/filters), then wrk with CONNECTIONS keep-alive connections for SECONDS while sampling
# VmRSS every 100 ms. Prints idle RSS, peak RSS under load, and the RSS after the load.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$repo/build}" && pwd)"
conns="${2:-256}"
secs="${3:-15}"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

app=$(free_port); http=$(free_port); admin=$(free_port)
"$build/tools/remora-demo-upstream" --listen "127.0.0.1:$app" --name app >"$tmp/app.log" 2>&1 &
pids+=("$!")
# The ConfigMap's config with this machine's ports and plugin directory.
/usr/bin/python3 - "$repo/deploy/k8s/configmap.yaml" "$tmp/remora.yaml" "$app" "$http" "$admin" \
  "$build/filters" "$tmp/cache" <<'PY'
import sys, yaml
src, dst, app, http, admin, plugins, cache = sys.argv[1:]
config = yaml.safe_load(yaml.safe_load(open(src))["data"]["remora.yaml"])
config["admin"]["address"] = f"127.0.0.1:{admin}"
config["admin"]["control"] = {"unix": f"{cache}.control.sock"}  # /run/remora is the pod's
config["listeners"][0]["address"] = f"127.0.0.1:{http}"
config["clusters"][0]["endpoints"] = [f"127.0.0.1:{app}"]
config["plugins"] = {"dir": plugins, "cache_dir": cache}
yaml.safe_dump(config, open(dst, "w"))
PY
"$build/proxy/remora" --config "$tmp/remora.yaml" >"$tmp/remora.log" 2>&1 &
remora=$!
pids+=("$remora")
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$http/" >/dev/null
sleep 2
idle=$(rss_kb "$remora")
peak=$idle
wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$http/" >"$tmp/wrk.log" 2>&1 &
wrk_pid=$!
while kill -0 "$wrk_pid" 2>/dev/null; do
  r=$(rss_kb "$remora")
  ((r > peak)) && peak=$r
  sleep 0.1
done
sleep 1
after=$(rss_kb "$remora")
echo "remora RSS: idle ${idle} KiB, peak under load (${conns} connections, ${secs}s) ${peak} KiB, after ${after} KiB"
grep -E 'Requests/sec|Non-2xx|Socket errors' "$tmp/wrk.log" || true
