#!/usr/bin/env bash
# gRPC unary calls through Remora against the same calls made directly to the server.
#
#   bench/grpc.sh                                  # direct, remora, remora_router, remora_chain
#   CALLS=50000 ROUNDS=5 bench/grpc.sh
#   ONLY=direct,remora_router SERVER_AIO=0 bench/grpc.sh   # thread-pool server
#
# The server is a grpcio echo server in Python (bench/grpc_echo.py, generic handler on raw
# bytes, started fresh for every row: grpc.aio by default). The load is h2load over h2c with prior knowledge: POSTs
# to /bench.Echo/Unary carrying one gRPC-framed message (5-byte prefix: flag 0, big-endian
# length), `content-type: application/grpc`, `te: trailers`. The Python server is the
# bottleneck of every row, so calls/s say little about Remora; Remora's own CPU time per call
# (utime+stime from /proc/PID/stat over the measured run) is the figure to compare.
#
# Every call is checked: h2load must count CALLS 2xx, the server must have run its handler for
# every call, and through Remora, remora_grpc_requests_total must count every call with
# grpc-status 0 and none with another status. One grpcio client call per row checks the echo
# end to end (and, for remora_chain, that a call without the token is UNAUTHENTICATED).
set -euo pipefail
shopt -s inherit_errexit

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$BENCH_DIR")

CALLS=${CALLS:-30000}                 # calls in each measured h2load run
WARMUP_CALLS=${WARMUP_CALLS:-3000}    # unmeasured calls first (connections, threads, caches)
CONNECTIONS=${CONNECTIONS:-10}        # h2load -c
STREAMS=${STREAMS:-10}                # h2load -m: concurrent calls per connection
PAYLOAD_BYTES=${PAYLOAD_BYTES:-100}   # message size (the echo sends it back)
ROUNDS=${ROUNDS:-3}                   # every row this many times, interleaved; medians reported
# The server: grpc.aio (one asyncio thread; about half the CPU per call of the thread pool, so
# the least slow Python server), or with SERVER_AIO=0 grpcio's thread pool of SERVER_THREADS.
SERVER_AIO=${SERVER_AIO:-1}
SERVER_THREADS=${SERVER_THREADS:-128} # ≥ CONNECTIONS × STREAMS, so no call waits for a thread
WORKERS=${WORKERS:-1}                 # Remora workers
ONLY=${ONLY:-direct,remora,remora_router,remora_chain}
SKIP_CALLGRIND=${SKIP_CALLGRIND:-0}   # 1 skips Remora's instructions/call
STRACE_CALLS=${STRACE_CALLS:-0}       # > 0: an extra run of that many calls under strace -c
CALLGRIND_WARMUP=${CALLGRIND_WARMUP:-500}
CALLGRIND_CALLS=${CALLGRIND_CALLS:-2000}
PYTHON=${PYTHON:-/usr/bin/python3} # Debian's python3-grpcio
REMORA_BIN=${REMORA_BIN:-$REPO_DIR/build/proxy/remora}
REMORA_FILTERS=${REMORA_FILTERS:-$(dirname -- "$(dirname -- "$REMORA_BIN")")/filters}
KEEP_TMP=${KEEP_TMP:-0}

CLK_TCK=$(getconf CLK_TCK)
STARTED_PIDS=()
JWT_SECRET=remora-bench-hs256-secret-0123456789abcdef # the auth filter wants >= 32 bytes
JWT_ISSUER=remora-bench
JWT_AUDIENCE=app
GRPC_PATH=/bench.Echo/Unary

log() { printf '[grpc-bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- processes (the same conventions as run.sh: stopped by PID, bounded waits) -------------

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z && ${stat%% *} != X ]]
}

stop_pid() {
  local pid=$1 i
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "pid $pid still running 5s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

stop_started() {
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[i]}"; done
  STARTED_PIDS=()
}

launch() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 </dev/null &
  LAUNCHED_PID=$!
  STARTED_PIDS+=("$LAUNCHED_PID")
}

# cpu_ticks PID: "utime stime" of every thread of PID, in clock ticks.
cpu_ticks() {
  local stat fields
  stat=$(cat "/proc/$1/stat")
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[11]} ${fields[12]}"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
  local port=$1 pid=$2 i
  for ((i = 0; i < 200; i++)); do
    alive "$pid" || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

calc() { awk "BEGIN { printf \"${2:-%.1f}\", $1 }"; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

make_jwt() {
  python3 - "$JWT_SECRET" "$JWT_ISSUER" "$JWT_AUDIENCE" <<'PY'
import base64, hashlib, hmac, json, sys
secret, iss, aud = sys.argv[1:4]
def part(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
signed = part({"alg": "HS256", "typ": "JWT"}) + "." + part(
    {"iss": iss, "aud": aud, "sub": "bench-client", "exp": 4102444800})
mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
print(signed + "." + part(mac))
PY
}

# --- one row -------------------------------------------------------------------------------

# remora_config ROW PORT ADMIN_PORT SERVER_PORT: the YAML for one Remora row. The listener
# detects the HTTP/2 preface (h2c, prior knowledge); the cluster speaks h2c to the server.
remora_config() {
  local row=$1 port=$2 admin=$3 server=$4
  cat <<EOF
workers: $WORKERS
admin: { address: 127.0.0.1:$admin, control: { unix: $WORK_DIR/control.$port.sock } }
drain: { grace_period: 0s, deadline: 2s }
EOF
  if [[ $row != remora ]]; then
    echo "plugins: { dir: $REMORA_FILTERS, cache_dir: $WORK_DIR/plugin_cache }"
  fi
  cat <<EOF
listeners:
  - name: ingress
    address: 127.0.0.1:$port
EOF
  case $row in
  remora) echo "    routes: [ { prefix: /, cluster: app } ]" ;;
  remora_router)
    cat <<EOF
    filters:
      - name: router
        config: { routes: [ { match: { prefix: /bench.Echo/ }, cluster: app } ] }
EOF
    ;;
  remora_chain)
    cat <<EOF
    filters:
      - name: auth
        config:
          jwt:
            issuers: [$JWT_ISSUER]
            audiences: [$JWT_AUDIENCE]
            keys: [ { secret: "$JWT_SECRET" } ]
      - name: router
        config: { routes: [ { match: { prefix: /bench.Echo/ }, cluster: app } ] }
      - name: circuit_breaker
        config: { clusters: { app: { max_active_requests: 10000 } } }
EOF
    ;;
  esac
  cat <<EOF
clusters:
  - name: app
    protocol: http2
    endpoints: [127.0.0.1:$server]
EOF
}

# run_h2load COUNT PORT OUT: COUNT unary calls; fails unless every one got a 2xx.
run_h2load() {
  local -a auth=()
  if [[ $ROW == remora_chain ]]; then auth=(-H "authorization: Bearer $TOKEN"); fi
  timeout 600 h2load -c"$CONNECTIONS" -m"$STREAMS" -n"$1" -d "$WORK_DIR/message.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' "${auth[@]}" \
    "http://127.0.0.1:$2$GRPC_PATH" >"$3"
  local ok
  ok=$(awk '/^status codes:/ {print $3}' "$3")
  [[ ${ok:-0} == "$1" ]] || die "$ROW: h2load: only ${ok:-0} of $1 calls got a 2xx (see $3)"
}

# strace_run PID PORT: STRACE_CALLS calls with `strace -c -f` attached to Remora; appends
# "ROW syscalls/call mix" to WORK_DIR/syscalls. strace slows Remora down, so more calls
# share each wake-up than at full speed (fewer epoll_wait per call); reads and writes hold.
strace_run() {
  local pid=$1 port=$2 out=$WORK_DIR/$ROW.strace err=$WORK_DIR/$ROW.strace.log spid i
  : >"$err"
  timeout 120 strace -c -f -S calls -o "$out" -p "$pid" 2>"$err" </dev/null &
  spid=$!
  STARTED_PIDS+=("$spid")
  for ((i = 0; i < 100; i++)); do
    grep -q attached "$err" && break
    sleep 0.1
  done
  sleep 0.2
  run_h2load "$STRACE_CALLS" "$port" "$WORK_DIR/$ROW.strace.h2load.txt"
  kill -TERM "$spid" 2>/dev/null || true
  wait "$spid" || true
  awk -v row="$ROW" -v n="$STRACE_CALLS" '
    $NF == "total" { total = $4 }
    $NF != "total" && $4 ~ /^[0-9]+$/ && shown < 6 { mix = mix sprintf("%s%s %.2f", (shown++ ? ", " : ""), $NF, $4 / n) }
    END { if (total) printf "%s %.2f %s\n", row, total / n, mix }' "$out" >>"$WORK_DIR/syscalls"
}

# grpc_counts METRICS_FILE: "OK OTHER": remora_grpc_requests_total for bench.Echo/Unary with
# grpc_status 0, and with any other status.
grpc_counts() {
  awk '/^remora_grpc_requests_total\{/ && /service="bench.Echo"/ && /method="Unary"/ {
    if ($0 ~ /grpc_status="0"/) ok += $NF; else other += $NF }
    END { printf "%d %d\n", ok, other }' "$1"
}

# bench_row ROW ROUND: one fresh server (and Remora), a check call, warm-up, the measured run.
bench_row() {
  ROW=$1
  local round=$2 tag=$1.$2 server_port target port admin remora_pid=
  server_port=$(free_port)
  launch "$WORK_DIR/$tag.server.log" "${SERVE[@]}" --port "$server_port"
  local server_pid=$LAUNCHED_PID
  wait_port "$server_port" "$server_pid" || die "$ROW: the gRPC server did not start ($WORK_DIR/$tag.server.log)"
  target=$server_port
  if [[ $ROW != direct ]]; then
    port=$(free_port)
    admin=$(free_port)
    remora_config "$ROW" "$port" "$admin" "$server_port" >"$WORK_DIR/$tag.yaml"
    "$REMORA_BIN" --validate --config "$WORK_DIR/$tag.yaml" >"$WORK_DIR/$tag.validate.log" 2>&1 ||
      die "$ROW: remora --validate refused $WORK_DIR/$tag.yaml: $(cat "$WORK_DIR/$tag.validate.log")"
    launch "$WORK_DIR/$tag.remora.log" "$REMORA_BIN" --config "$WORK_DIR/$tag.yaml"
    remora_pid=$LAUNCHED_PID
    wait_port "$port" "$remora_pid" || die "$ROW: Remora did not start ($WORK_DIR/$tag.remora.log)"
    target=$port
  fi

  local -a check=("$PYTHON" "$BENCH_DIR/grpc_echo.py" check --target "127.0.0.1:$target")
  if [[ $ROW == remora_chain ]]; then check+=(--token "$TOKEN"); fi
  timeout 30 "${check[@]}" >"$WORK_DIR/$tag.check.log" 2>&1 ||
    die "$ROW: the grpcio check failed: $(cat "$WORK_DIR/$tag.check.log")"

  run_h2load "$WARMUP_CALLS" "$target" "$WORK_DIR/$tag.warmup.txt"
  log "$ROW (round $round): h2load -c$CONNECTIONS -m$STREAMS -n$CALLS, ${PAYLOAD_BYTES}-byte messages"
  local ru0=0 rs0=0 ru1=0 rs1=0 su0 ss0 su1 ss1
  if [[ -n $remora_pid ]]; then read -r ru0 rs0 <<<"$(cpu_ticks "$remora_pid")"; fi
  read -r su0 ss0 <<<"$(cpu_ticks "$server_pid")"
  run_h2load "$CALLS" "$target" "$WORK_DIR/$tag.h2load.txt"
  read -r su1 ss1 <<<"$(cpu_ticks "$server_pid")"
  if [[ -n $remora_pid ]]; then read -r ru1 rs1 <<<"$(cpu_ticks "$remora_pid")"; fi

  local us_per_tick=$((1000000 / CLK_TCK)) expected=$((WARMUP_CALLS + CALLS + 1)) verified
  if [[ -n $remora_pid && $STRACE_CALLS != 0 && $round == 1 ]]; then
    log "$ROW: strace -c over $STRACE_CALLS calls"
    strace_run "$remora_pid" "$target"
    expected=$((expected + STRACE_CALLS))
  fi
  verified="h2load $CALLS/$CALLS 2xx"
  if [[ -n $remora_pid ]]; then
    curl -sS --max-time 5 "http://127.0.0.1:$admin/metrics" >"$WORK_DIR/$tag.metrics.txt"
    local ok other
    read -r ok other <<<"$(grpc_counts "$WORK_DIR/$tag.metrics.txt")"
    # The chain's check makes one call without the token: UNAUTHENTICATED (16) is expected.
    local other_expected=0
    if [[ $ROW == remora_chain ]]; then other_expected=1; fi
    [[ $ok == "$expected" && $other == "$other_expected" ]] ||
      die "$ROW: remora_grpc_requests_total counted $ok calls with grpc-status 0 and $other with another status; expected $expected and $other_expected"
    verified+=", grpc-status 0 on all $ok (Remora's metric)"
  fi
  stop_pid "$server_pid"
  local handled
  handled=$(awk '/^calls / {print $2}' "$WORK_DIR/$tag.server.log")
  [[ ${handled:-0} == "$expected" ]] ||
    die "$ROW: the server handled ${handled:-0} calls, expected $expected"
  verified+=", server handled $handled"
  if [[ -n $remora_pid ]]; then stop_pid "$remora_pid"; fi

  local rps
  rps=$(awk '/^finished in/ {print $4}' "$WORK_DIR/$tag.h2load.txt")
  local per_call="* $us_per_tick / $CALLS"
  echo "$ROW $round $(calc "$rps" %.0f) $(calc "($ru1 + $rs1 - $ru0 - $rs0) $per_call" %.1f)" \
    "$(calc "($ru1 - $ru0) $per_call" %.1f) $(calc "($rs1 - $rs0) $per_call" %.1f)" \
    "$(calc "($su1 + $ss1 - $su0 - $ss0) $per_call" %.0f)" >>"$WORK_DIR/rows"
  echo "$ROW $round $verified" >>"$WORK_DIR/verified"
}

# callgrind_total ROW N: one life of Remora under callgrind (fresh server, same config):
# CALLGRIND_WARMUP calls, then N calls over fresh connections, SIGTERM; the total of
# instructions. Two lives differing by CALLGRIND_CALLS calls give instructions per call, with
# start-up, warm-up, connection set-up and shutdown cancelling in the difference. Sets
# CALLGRIND_TOTAL (not printed: a $(...) subshell would not stop what it started on failure).
callgrind_total() {
  ROW=$1
  local n=$2 tag=$1.cg$2 server_port port admin pid server_pid i
  server_port=$(free_port)
  launch "$WORK_DIR/$tag.server.log" "${SERVE[@]}" --port "$server_port"
  server_pid=$LAUNCHED_PID
  wait_port "$server_port" "$server_pid" || die "$ROW: the gRPC server did not start ($WORK_DIR/$tag.server.log)"
  port=$(free_port)
  admin=$(free_port)
  remora_config "$ROW" "$port" "$admin" "$server_port" >"$WORK_DIR/$tag.yaml"
  launch "$WORK_DIR/$tag.remora.log" valgrind --tool=callgrind -q --collect-atstart=yes \
    --callgrind-out-file="$WORK_DIR/$tag.callgrind.out" "$REMORA_BIN" --config "$WORK_DIR/$tag.yaml"
  pid=$LAUNCHED_PID
  for ((i = 0; i < 300; i++)); do
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$admin/ready"; then break; fi
    alive "$pid" || die "$ROW: Remora under callgrind exited ($WORK_DIR/$tag.remora.log)"
    sleep 0.2
  done
  run_h2load "$CALLGRIND_WARMUP" "$port" "$WORK_DIR/$tag.warmup.txt"
  run_h2load "$n" "$port" "$WORK_DIR/$tag.h2load.txt"
  stop_pid "$pid"
  stop_pid "$server_pid"
  CALLGRIND_TOTAL=$(awk '/^summary:/ {print $2}' "$WORK_DIR/$tag.callgrind.out")
  [[ -n $CALLGRIND_TOTAL ]] || die "$ROW: no callgrind summary in $WORK_DIR/$tag.callgrind.out"
}

# --- main ----------------------------------------------------------------------------------

[[ $STRACE_CALLS =~ ^[0-9]+$ ]] || die "STRACE_CALLS must be a number, got '$STRACE_CALLS'"
if [[ $STRACE_CALLS != 0 ]]; then command -v strace >/dev/null || die "strace not found (apt-get install -y strace)"; fi
for var in CALLS WARMUP_CALLS CONNECTIONS STREAMS PAYLOAD_BYTES ROUNDS SERVER_THREADS WORKERS \
  CALLGRIND_WARMUP CALLGRIND_CALLS; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive integer, got '${!var}'"
done
IFS=, read -r -a ROWS <<<"$ONLY"
for row in "${ROWS[@]}"; do
  [[ $row =~ ^(direct|remora|remora_router|remora_chain)$ ]] ||
    die "ONLY: unknown row '$row' (expected direct, remora, remora_router, remora_chain)"
  if [[ $row == remora* && ! -x $REMORA_BIN ]]; then
    die "REMORA_BIN=$REMORA_BIN is missing (ninja -C build remora remora_filters)"
  fi
done
for f in router auth circuit_breaker; do
  if [[ ,$ONLY, == *,remora_router,* || ,$ONLY, == *,remora_chain,* ]] && [[ ! -f $REMORA_FILTERS/$f.so ]]; then
    die "$REMORA_FILTERS/$f.so is missing (ninja -C build remora_filters, or set REMORA_FILTERS)"
  fi
done
if [[ $SKIP_CALLGRIND != 1 ]]; then
  command -v valgrind >/dev/null || die "valgrind not found (apt-get install -y valgrind, or SKIP_CALLGRIND=1)"
fi
command -v h2load >/dev/null || die "h2load not found (apt-get install -y nghttp2-client)"
"$PYTHON" -c 'import grpc' 2>/dev/null || die "$PYTHON cannot import grpc (apt-get install -y python3-grpcio)"

WORK_DIR=$(mktemp -d /tmp/remora-grpc-bench.XXXXXX)
# shellcheck disable=SC2317 # called through the EXIT trap
on_exit() {
  local rc=$?
  stop_started
  if [[ $rc == 0 && $KEEP_TMP != 1 ]]; then rm -rf "$WORK_DIR"; else log "logs kept in $WORK_DIR"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

"$PYTHON" -c 'import struct, sys; n = int(sys.argv[1]); sys.stdout.buffer.write(b"\0" + struct.pack(">I", n) + b"x" * n)' \
  "$PAYLOAD_BYTES" >"$WORK_DIR/message.bin"
TOKEN=$(make_jwt)
SERVE=("$PYTHON" "$BENCH_DIR/grpc_echo.py" serve)
if [[ $SERVER_AIO == 1 ]]; then SERVE+=(--aio); else SERVE+=(--threads "$SERVER_THREADS"); fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

for ((round = 1; round <= ROUNDS; round++)); do
  for row in "${ROWS[@]}"; do bench_row "$row" "$round"; done
done

declare -A INSTR=()
if [[ $SKIP_CALLGRIND != 1 ]]; then
  for row in "${ROWS[@]}"; do
    [[ $row != direct ]] || continue
    log "$row: callgrind, $CALLGRIND_WARMUP + $CALLGRIND_WARMUP calls, then $CALLGRIND_WARMUP + $((CALLGRIND_WARMUP + CALLGRIND_CALLS))"
    callgrind_total "$row" "$CALLGRIND_WARMUP"
    base=$CALLGRIND_TOTAL
    callgrind_total "$row" "$((CALLGRIND_WARMUP + CALLGRIND_CALLS))"
    full=$CALLGRIND_TOTAL
    INSTR[$row]=$(calc "($full - $base) / $CALLGRIND_CALLS" %.0f)
  done
fi

server_kind="grpcio $("$PYTHON" -c 'import grpc; print(grpc.__version__)'), "
if [[ $SERVER_AIO == 1 ]]; then server_kind+="grpc.aio server"; else server_kind+="thread pool of $SERVER_THREADS"; fi
echo "# gRPC unary calls, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- $(uname -sr), $(nproc) CPUs; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); repository $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- load: $(h2load --version | sed 's/.*: //') -c$CONNECTIONS -m$STREAMS -n$CALLS (after $WARMUP_CALLS warm-up calls), POST $GRPC_PATH, ${PAYLOAD_BYTES}-byte messages, h2c prior knowledge"
echo "- server: $server_kind (Python: the bottleneck of every row); Remora: $WORKERS worker(s), cluster protocol http2"
echo "- $ROUNDS round(s), rows interleaved; medians, each round's value in brackets"
echo
echo "| row | calls/s | Remora CPU µs/call | Remora user µs/call | Remora system µs/call | server CPU µs/call | Remora instr/call |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do
  line="| $row"
  for col in 3 4 5 6 7; do
    values=$(awk -v r="$row" -v c="$col" '$1 == r {print $c}' "$WORK_DIR/rows")
    if [[ $row == direct && $col =~ ^[456]$ ]]; then
      line+=" | n/a"
      continue
    fi
    line+=" | $(median <<<"$values") ($(paste -sd' ' <<<"$values"))"
  done
  echo "$line | ${INSTR[$row]:-n/a} |"
done
if [[ -s $WORK_DIR/syscalls ]]; then
  echo
  echo "Remora's syscalls per call under \`strace -c -f\` (round 1, $STRACE_CALLS more calls; the most frequent):"
  echo
  awk '{row = $1; per = $2; $1 = ""; $2 = ""; sub(/^  /, ""); print "- " row ": " per " (" $0 ")"}' "$WORK_DIR/syscalls"
fi
echo
echo "Checks: every row, every round:"
echo
awk '{r = $1 " (round " $2 "): "; $1 = ""; $2 = ""; sub(/^  /, ""); print "- " r $0}' "$WORK_DIR/verified"
