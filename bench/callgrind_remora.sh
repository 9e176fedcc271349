#!/bin/bash
# Instructions per keep-alive request of one remora binary, under callgrind, against the demo
# upstream: two lives (2,000 warm-up + 2,000 requests, and 2,000 + 12,000) whose difference is
# 10,000 requests, so start-up and warm-up cancel. For before/after comparisons of one change:
#   bench/callgrind_remora.sh build/proxy/remora [h2load args, e.g. -H 'content-type: x']
#   MODE=chain bench/callgrind_remora.sh build/proxy/remora   # access_log + auth + router + breaker
#   MODE=h2c bench/callgrind_remora.sh build/proxy/remora     # prior-knowledge HTTP/2, -m10
#   KEEP=/tmp/cg bench/callgrind_remora.sh ...                  # keep the profiles too
# MODE=kernel (the default) is the built-in prefix route with no filters. MODE=chain loads the
# filter plugins next to the binary (FILTER_DIR, default build/filters) and sends every request
# a bearer JWT (HS256, a cache hit after the first), as bench/run.sh MODE=chain does.
# Needs valgrind and h2load (scripts/install-deps.sh --bench) and a built remora-demo-upstream.
set -euo pipefail
BIN=${1:?usage: callgrind_remora.sh REMORA_BINARY [h2load args...]}
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${DEMO:-$ROOT/build/tools/remora-demo-upstream}
MODE=${MODE:-kernel}
FILTER_DIR=${FILTER_DIR:-$(cd "$(dirname "$BIN")/.." && pwd)/filters}
JWT_SECRET=callgrind-secret-of-thirty-two-bytes!
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

load=(--h1 -c10)
case $MODE in
  kernel) ;;
  h2c) load=(-c10 -m10) ;;
  chain)
    token=$(python3 - "$JWT_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys
def part(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
signed = part({"alg": "HS256", "typ": "JWT"}) + "." + part(
    {"iss": "bench", "aud": "app", "sub": "bench-client", "exp": 4102444800})
print(signed + "." + part(hmac.new(sys.argv[1].encode(), signed.encode(), hashlib.sha256).digest()))
PY
)
    load+=(-H "authorization: Bearer $token")
    ;;
  *) echo "MODE must be kernel, chain or h2c, got '$MODE'" >&2; exit 2 ;;
esac

listener() {  # listener DIR PORT: the listener's YAML for MODE
  local dir=$1 lp=$2
  if [[ $MODE != chain ]]; then
    echo "  - { name: ingress, address: 127.0.0.1:$lp, routes: [ { prefix: /, cluster: app } ] }"
    return
  fi
  cat <<Y
  - name: ingress
    address: 127.0.0.1:$lp
    filters:
      - { name: access_log, config: { path: $dir/access.log, format: json } }
      - name: auth
        config: { jwt: { issuers: [bench], audiences: [app], keys: [ { secret: "$JWT_SECRET" } ] } }
      - { name: router, config: { routes: [ { match: { prefix: / }, cluster: app } ] } }
      - { name: circuit_breaker, config: { clusters: { app: { max_active_requests: 10000 } } } }
Y
}

life() {  # life N → callgrind total for 2,000 + N requests
  local n=$1 dir up lp ap upid rpid
  dir=$(mktemp -d)
  up=$(free_port); lp=$(free_port); ap=$(free_port)
  "$DEMO" --listen "127.0.0.1:$up" >"$dir/up.log" 2>&1 &
  upid=$!
  cat >"$dir/c.yaml" <<Y
workers: 1
log_level: warn
admin: { address: 127.0.0.1:$ap, control: { unix: $dir/control.sock } }
drain: { grace_period: 0s, deadline: 5s }
$([[ $MODE == chain ]] && echo "plugins: { dir: $FILTER_DIR, cache_dir: $dir/plugin-cache }")
listeners:
$(listener "$dir" "$lp")
clusters:
  - { name: app, endpoints: [127.0.0.1:$up] }
Y
  valgrind --tool=callgrind -q --collect-atstart=yes --callgrind-out-file="$dir/cg.out" \
    "$BIN" --config "$dir/c.yaml" >"$dir/remora.log" 2>&1 &
  rpid=$!
  for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$ap/ready" && break; sleep 0.2; done
  h2load "${load[@]}" -n2000 "${@:2}" "http://127.0.0.1:$lp/" >"$dir/warm.out"
  h2load "${load[@]}" -n"$n" "${@:2}" "http://127.0.0.1:$lp/" >"$dir/load.out"
  kill -TERM "$rpid"; wait "$rpid" || true
  kill "$upid"; wait "$upid" 2>/dev/null || true
  if ! grep -q "requests: $n total, $n started, $n done, $n succeeded" "$dir/load.out" ||
    ! grep -q "status codes: $n 2xx" "$dir/load.out"; then
    echo "not every request succeeded ($MODE):" >&2
    grep -E '^requests:|^status codes:' "$dir/load.out" >&2
    tail -5 "$dir/remora.log" >&2
    exit 1
  fi
  awk '/^summary:/ {print $2}' "$dir/cg.out"
  # KEEP=DIR keeps each life's profile (callgrind_annotate DIR/MODE.N.callgrind) to see where
  # a difference between two binaries comes from.
  if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP" && cp "$dir/cg.out" "$KEEP/$MODE.$n.callgrind"; fi
  rm -rf "$dir"
}

base=$(life 2000 "$@")
more=$(life 12000 "$@")
echo "instructions/request ($MODE): $(( (more - base) / 10000 ))"
