#!/bin/bash
# Instructions per keep-alive request of one remora binary, under callgrind, against the demo
# upstream: two lives (2,000 warm-up + 2,000 requests, and 2,000 + 12,000) whose difference is
# 10,000 requests, so start-up and warm-up cancel. For before/after comparisons of one change:
#   bench/callgrind_remora.sh build/proxy/remora [h2load args, e.g. -H 'content-type: x']
# Needs valgrind and h2load (scripts/install-deps.sh --bench) and a built remora-demo-upstream.
set -euo pipefail
BIN=${1:?usage: callgrind_remora.sh REMORA_BINARY [h2load args...]}
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${DEMO:-$ROOT/build/tools/remora-demo-upstream}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

life() {  # life N → callgrind total for 2,000 + N requests
  local n=$1 dir up lp ap upid rpid
  dir=$(mktemp -d)
  up=$(free_port); lp=$(free_port); ap=$(free_port)
  "$DEMO" --listen "127.0.0.1:$up" >"$dir/up.log" 2>&1 &
  upid=$!
  cat >"$dir/c.yaml" <<Y
workers: 1
log_level: warn
admin: { address: 127.0.0.1:$ap }
drain: { grace_period: 0s, deadline: 5s }
listeners:
  - { name: ingress, address: 127.0.0.1:$lp, routes: [ { prefix: /, cluster: app } ] }
clusters:
  - { name: app, endpoints: [127.0.0.1:$up] }
Y
  valgrind --tool=callgrind -q --collect-atstart=yes --callgrind-out-file="$dir/cg.out" \
    "$BIN" --config "$dir/c.yaml" >"$dir/remora.log" 2>&1 &
  rpid=$!
  for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$ap/ready" && break; sleep 0.2; done
  h2load --h1 -c10 -n2000 "${@:2}" "http://127.0.0.1:$lp/" >/dev/null
  h2load --h1 -c10 -n"$n" "${@:2}" "http://127.0.0.1:$lp/" >/dev/null
  kill -TERM "$rpid"; wait "$rpid" || true
  kill "$upid"; wait "$upid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$dir/cg.out"
  rm -rf "$dir"
}

base=$(life 2000 "$@")
more=$(life 12000 "$@")
echo "instructions/request: $(( (more - base) / 10000 ))"
