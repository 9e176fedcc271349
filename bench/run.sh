#!/usr/bin/env bash
# Measures Remora against nginx and HAProxy in one run on this machine: the same upstream,
# the same load, the same figures. What each figure means and which ones to trust on a small
# shared box: bench/README.md.
#
#   bench/run.sh                              # kernel only: nginx, haproxy and remora (if built)
#   DURATION=5 ONLY=nginx,haproxy bench/run.sh
#   SKIP_CALLGRIND=1 REMORA_BIN=/path/to/remora bench/run.sh
#   MODE=chain bench/run.sh                   # with access logs, auth, routing, circuit breaker
#   MODE=h2 bench/run.sh                      # HTTP/2 clients (h2c, prior knowledge), h1 upstream
#   MODE=tls bench/run.sh                     # HTTP/1.1 over TLS (one ECDSA P-256 certificate)
#   MODE=h2tls bench/run.sh                   # h2 over TLS (ALPN), h2load -m H2_STREAMS
set -euo pipefail
shopt -s inherit_errexit

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$BENCH_DIR")
CONFIG_DIR=$BENCH_DIR/configs

DURATION=${DURATION:-10}                    # seconds of each measured wrk run
CONNECTIONS=${CONNECTIONS:-50}              # client connections for wrk and h2load
WORKERS=${WORKERS:-1}                       # proxy worker processes/threads
# kernel: every proxy bare (no logs, no filters). chain: nginx and HAProxy with access logs,
# Remora with its full filter chain, and bare Remora to measure what the chain costs.
MODE=${MODE:-kernel}
case $MODE in
kernel) ONLY=${ONLY:-nginx,haproxy,remora} ;;
chain) ONLY=${ONLY:-nginx_log,haproxy_log,remora_chain,remora} ;;
h2 | tls | h2tls) ONLY=${ONLY:-nginx,haproxy,remora} ;;
*)
  echo "[bench] error: MODE must be kernel, chain, h2, tls or h2tls, got '$MODE'" >&2
  exit 1
  ;;
esac
SKIP_CALLGRIND=${SKIP_CALLGRIND:-0}
SKIP_STRACE=${SKIP_STRACE:-0}
H2LOAD_REQUESTS=${H2LOAD_REQUESTS:-$((DURATION * 10000))}
H2_STREAMS=${H2_STREAMS:-10}  # MODE=h2: concurrent streams per client connection (h2load -m)
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
STRACE_DURATION=${STRACE_DURATION:-3}
HANDSHAKE_SECONDS=${HANDSHAKE_SECONDS:-5}  # MODE=tls/h2tls: each openssl s_time run
CALLGRIND_CONNECTIONS=${CALLGRIND_CONNECTIONS:-10}
CALLGRIND_WARMUP=${CALLGRIND_WARMUP:-200}
CALLGRIND_REQUESTS=${CALLGRIND_REQUESTS:-2000}
REMORA_BIN=${REMORA_BIN:-$REPO_DIR/build/proxy/remora}
# The filter plugins remora_chain loads: build/filters/*.so next to build/proxy/remora.
REMORA_FILTERS=${REMORA_FILTERS:-$(dirname -- "$(dirname -- "$REMORA_BIN")")/filters}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
HAPROXY_BIN=${HAPROXY_BIN:-$(command -v haproxy || echo /usr/sbin/haproxy)}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
KEEP_TMP=${KEEP_TMP:-0}

CLK_TCK=$(getconf CLK_TCK)
STARTED_PIDS=() # every process this script (or a subshell of it) started; stopped by PID

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- processes --------------------------------------------------------------------------

# launch LOG CMD...: start CMD in the background, remember its PID in LAUNCHED_PID.
launch() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 </dev/null &
  LAUNCHED_PID=$!
  STARTED_PIDS+=("$LAUNCHED_PID")
}

# A zombie still answers kill -0, so look at the state field instead.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z && ${stat%% *} != X ]]
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL if it is still there after SECONDS.
stop_pid() {
  local pid=$1 timeout=${2:-10} i
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "pid $pid still running ${timeout}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops, newest first, what this shell started; nginx workers are listed too because a
# SIGKILLed master leaves them behind.
stop_started() {
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${STARTED_PIDS[i]}" 5
  done
  STARTED_PIDS=()
}

# tree_pids PID: PID and its descendants (nginx master + workers).
tree_pids() {
  local child children
  echo "$1"
  children=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
  for child in $children; do tree_pids "$child"; done
}

# cpu_ticks PID...: "utime stime" summed over the processes (all threads), in clock ticks.
cpu_ticks() {
  local pid stat fields user=0 sys=0
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -r -a fields <<<"${stat##*) }"
    user=$((user + fields[11]))
    sys=$((sys + fields[12]))
  done
  echo "$user $sys"
}

upstream_ticks() {
  local -a pids
  mapfile -t pids < <(tree_pids "$UPSTREAM_PID")
  cpu_ticks "${pids[@]}" | awk '{print $1 + $2}'
}

rss_kib() {
  local pid total=0 kib
  for pid in "$@"; do
    kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID SECONDS: true once PORT accepts connections, false if PID died first.
wait_port() {
  local port=$1 pid=$2 timeout=$3 i
  for ((i = 0; i < timeout * 10; i++)); do
    alive "$pid" || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# --- configs and load tools ------------------------------------------------------------

# render TEMPLATE OUT KEY=VALUE...: replace every @KEY@ in TEMPLATE.
render() {
  local in=$1 out=$2 kv
  shift 2
  local -a expr=()
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$in" >"$out"
  if grep -q '@[A-Z_]*@' "$out"; then die "unfilled placeholder in $out"; fi
}

# make_jwt: an HS256 token signed with JWT_SECRET for JWT_ISSUER/JWT_AUDIENCE, expiring in
# 2100, built with the standard library only.
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

# check_body PORT: the proxy answers 200 with exactly the upstream's body. Sets CHECK_STATUS.
check_body() {
  CHECK_STATUS=$(curl -sS --max-time 10 "${CURL_PROTO[@]}" -o "$WORK_DIR/check.body" \
    -w '%{http_code}' "${CLIENT_HEADERS[@]}" "$SCHEME://127.0.0.1:$1/" || true)
  [[ $CHECK_STATUS == 200 ]] && cmp -s "$WORK_DIR/check.body" "$WORK_DIR/expected.body"
}

# status_without_token PORT: the status a request without the Authorization header gets.
status_without_token() {
  curl -sS --max-time 10 "${CURL_PROTO[@]}" -o /dev/null -w '%{http_code}' "$SCHEME://127.0.0.1:$1/"
}

# run_wrk SECONDS PORT OUT: one wrk thread, CONNECTIONS connections, latency percentiles.
run_wrk() {
  timeout $(($1 + 30)) wrk -t1 -c"$CONNECTIONS" -d"$1"s --timeout 5s --latency \
    "${CLIENT_HEADERS[@]}" "$SCHEME://127.0.0.1:$2/" >"$3"
}
wrk_requests() { awk '/ requests in / {print $1}' "$1"; }
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
# wrk_ms FILE PERCENT: that latency percentile in milliseconds.
wrk_ms() {
  awk -v p="$2%" '$1 == p {
    v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.2f", v }' "$1"
}
wrk_errors() {
  awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s; ", $0}' "$1"
}

# run_h2load CONNECTIONS REQUESTS PORT OUT: fails unless every request got a 2xx. HTTP/1.1
# (--h1), or with MODE=h2 prior-knowledge HTTP/2 with H2_STREAMS streams per connection.
run_h2load() {
  timeout 600 h2load "${H2LOAD_PROTO[@]}" -c"$1" -n"$2" "${CLIENT_HEADERS[@]}" \
    "$SCHEME://127.0.0.1:$3/" >"$4"
  local ok
  ok=$(awk '/^status codes:/ {print $3}' "$4")
  [[ ${ok:-0} == "$2" ]] || {
    log "h2load: only ${ok:-0} of $2 requests got a 2xx (see $4)"
    return 1
  }
}
h2load_rps() { awk '/^finished in/ {print $4}' "$1"; }

# "steal total" jiffies of the whole machine, to show how much the hypervisor took.
cpu_steal() { awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

upstream_accepts() {
  curl -sS --max-time 5 "http://127.0.0.1:$STATUS_PORT/" | awk 'NR == 3 {print $1}'
}

# calc EXPR: floating-point arithmetic, printed with FORMAT (default %.1f).
calc() { awk "BEGIN { printf \"${2:-%.1f}\", $1 }"; }

# --- results (one file per proxy so a subshell can hand them back) -----------------------

put() { echo "$2 $3" >>"$WORK_DIR/results/$1"; }
get() {
  [[ -f $WORK_DIR/results/$1 ]] || return 0
  awk -v k="$2" '$1 == k {sub(/^[^ ]+ /, ""); v = $0} END {print v}' "$WORK_DIR/results/$1"
}

# --- proxies -----------------------------------------------------------------------------

# start_proxy NAME MODE PORT: MODE "load" runs the proxy natively with WORKERS workers,
# "callgrind" runs one single-process, single-worker instance under callgrind (its output
# file goes to CALLGRIND_OUT). Sets PROXY_PID, PROXY_LOG, ACCESS_LOG (the file the proxy's
# access log goes to, empty without one) and ADMIN_PORT (Remora only).
start_proxy() {
  local name=$1 mode=$2 port=$3 workers=$WORKERS conf
  ACCESS_LOG=
  ADMIN_PORT=
  local -a prefix=()
  if [[ $mode == callgrind ]]; then
    workers=1
    CALLGRIND_OUT=$WORK_DIR/$name.$port.callgrind
    prefix=(valgrind --tool=callgrind -q --collect-atstart=yes --trace-children=no
      "--callgrind-out-file=$CALLGRIND_OUT")
  fi
  case $name in
  nginx | nginx_log)
    conf=$WORK_DIR/$name.$port.conf
    mkdir -p "$WORK_DIR/nginx_tmp"
    local access='access_log off;'
    if [[ $name == nginx_log ]]; then
      ACCESS_LOG=$WORK_DIR/$name.$port.access.log
      access="access_log $ACCESS_LOG bench_json buffer=64k flush=1s;"
    fi
    render "$CONFIG_DIR/nginx_proxy.conf.in" "$conf" DIR="$WORK_DIR" PORT="$port" \
      UPSTREAM_PORT="$UPSTREAM_PORT" WORKERS="$workers" ACCESS_LOG="$access" \
      LISTEN_OPTS="$NGINX_LISTEN_OPTS" SERVER_EXTRA="$NGINX_SERVER_EXTRA"
    local directives='daemon off;'
    if [[ $mode == callgrind ]]; then directives+=' master_process off;'; fi
    launch "$WORK_DIR/$name.$port.log" "${prefix[@]}" "$NGINX_BIN" -p "$WORK_DIR/" \
      -e "$WORK_DIR/nginx_error.log" -c "$conf" -g "$directives"
    ;;
  haproxy | haproxy_log)
    conf=$WORK_DIR/$name.$port.cfg
    local log='# no log target'
    if [[ $name == haproxy_log ]]; then
      # HAProxy writes its log lines to stdout, which launch sends to this file.
      ACCESS_LOG=$WORK_DIR/$name.$port.log
      log='log stdout format raw local0'
    fi
    render "$CONFIG_DIR/haproxy.cfg.in" "$conf" PORT="$port" UPSTREAM_PORT="$UPSTREAM_PORT" \
      WORKERS="$workers" LOG="$log" BIND_OPTS="$HAPROXY_BIND_OPTS"
    launch "$WORK_DIR/$name.$port.log" "${prefix[@]}" "$HAPROXY_BIN" -db -f "$conf"
    ;;
  remora)
    conf=$WORK_DIR/$name.$port.yaml
    ADMIN_PORT=$(free_port)
    render "$CONFIG_DIR/remora.yaml.in" "$conf" PORT="$port" UPSTREAM_PORT="$UPSTREAM_PORT" \
      WORKERS="$workers" ADMIN_PORT="$ADMIN_PORT" WORK_DIR="$WORK_DIR" \
      LISTENER_EXTRA="$REMORA_LISTENER_EXTRA"
    launch "$WORK_DIR/$name.$port.log" "${prefix[@]}" "$REMORA_BIN" --config "$conf"
    ;;
  remora_chain)
    conf=$WORK_DIR/$name.$port.yaml
    ADMIN_PORT=$(free_port)
    ACCESS_LOG=$WORK_DIR/$name.$port.access.log
    render "$CONFIG_DIR/remora_chain.yaml.in" "$conf" PORT="$port" \
      UPSTREAM_PORT="$UPSTREAM_PORT" WORKERS="$workers" ADMIN_PORT="$ADMIN_PORT" WORK_DIR="$WORK_DIR" \
      PLUGIN_DIR="$REMORA_FILTERS" PLUGIN_CACHE_DIR="$WORK_DIR/plugin_cache" \
      ACCESS_LOG="$ACCESS_LOG" JWT_ISSUER="$JWT_ISSUER" JWT_AUDIENCE="$JWT_AUDIENCE" \
      JWT_SECRET="$JWT_SECRET"
    "$REMORA_BIN" --validate --config "$conf" >"$WORK_DIR/$name.$port.validate.log" 2>&1 ||
      die "remora --validate refused $conf: $(cat "$WORK_DIR/$name.$port.validate.log")"
    launch "$WORK_DIR/$name.$port.log" "${prefix[@]}" "$REMORA_BIN" --config "$conf"
    ;;
  esac
  PROXY_PID=$LAUNCHED_PID
  PROXY_LOG=$WORK_DIR/$name.$port.log
}

start_failed() {
  log "$1 did not start listening; last lines of $PROXY_LOG:"
  tail -n 20 "$PROXY_LOG" >&2 || true
  exit 1
}

# Sets PIDS to the processes whose CPU and memory count as the proxy's: nginx's master and
# its workers, the single process of the others.
proxy_pids() {
  local i
  for ((i = 0; i < 50; i++)); do
    mapfile -t PIDS < <(tree_pids "$PROXY_PID")
    if [[ $1 != nginx* ]] || ((${#PIDS[@]} > WORKERS)); then break; fi
    sleep 0.1
  done
  # Remember the workers too, so they are stopped even if the master has to be killed.
  STARTED_PIDS+=("${PIDS[@]:1}")
}

# strace_syscalls NAME PORT PID...: syscalls per request over a short wrk run with strace
# attached to every process (-f adds their threads).
strace_syscalls() {
  local name=$1 port=$2 out=$WORK_DIR/$1.strace err=$WORK_DIR/$1.strace.log pid i spid
  shift 2
  local -a args=()
  for pid in "$@"; do args+=(-p "$pid"); done
  : >"$err" # exists before the loop below reads it, however late the background job starts
  timeout $((STRACE_DURATION + 60)) strace -c -f -S calls -o "$out" "${args[@]}" \
    2>"$err" </dev/null &
  spid=$!
  STARTED_PIDS+=("$spid")
  for ((i = 0; i < 100; i++)); do # until strace reports every process attached
    (($(grep -c attached "$err" || true) >= $#)) && break
    sleep 0.1
  done
  sleep 0.2
  run_wrk "$STRACE_DURATION" "$port" "$WORK_DIR/$name.wrk.strace.txt"
  kill -TERM "$spid" 2>/dev/null || true
  wait "$spid" || true
  local requests calls
  requests=$(wrk_requests "$WORK_DIR/$name.wrk.strace.txt")
  calls=$(awk '$NF == "total" {print $4}' "$out")
  [[ -n $calls && ${requests:-0} -gt 0 ]] || {
    log "strace gave no summary (see $err)"
    return 0
  }
  put "$name" syscalls "$(calc "$calls / $requests" %.2f)"
  put "$name" strace_requests "$requests"
  # The most frequent syscalls, per request, for the details section.
  put "$name" syscall_mix "$(awk -v n="$requests" '
    $NF != "total" && $4 ~ /^[0-9]+$/ && shown < 6 {
      printf "%s%s %.2f", (shown++ ? ", " : ""), $NF, $4 / n }' "$out")"
}

# handshake_rates NAME PORT PID...: TLS handshakes with openssl s_time for HANDSHAKE_SECONDS
# each, a new full handshake per connection (-new) and then resumed ones (-reuse), and the
# proxy's CPU per handshake from its clock ticks over each run. s_time is one client process,
# so handshakes/s is bounded by the client; CPU per handshake is the proxy's own figure.
handshake_rates() {
  local name=$1 port=$2 kind flag out u0 s0 u1 s1 n secs
  shift 2
  for kind in full resumed; do
    flag=-new
    if [[ $kind == resumed ]]; then flag=-reuse; fi
    out=$WORK_DIR/$name.s_time.$kind.txt
    log "$name: openssl s_time $flag -time $HANDSHAKE_SECONDS"
    read -r u0 s0 <<<"$(cpu_ticks "$@")"
    timeout $((HANDSHAKE_SECONDS + 30)) openssl s_time -connect "127.0.0.1:$port" "$flag" \
      -time "$HANDSHAKE_SECONDS" </dev/null >"$out" 2>&1 || true
    read -r u1 s1 <<<"$(cpu_ticks "$@")"
    read -r n secs <<<"$(awk '/connections in [0-9]+ real seconds/ {print $1, $4; exit}' "$out")"
    [[ ${n:-0} -gt 0 && ${secs:-0} -gt 0 ]] || {
      log "$name: s_time $flag gave no count (see $out)"
      continue
    }
    put "$name" "hs_${kind}_per_s" "$(calc "$n / $secs" %.0f)"
    put "$name" "hs_${kind}_cpu_us" "$(calc "($u1 + $s1 - $u0 - $s0) * 1000000 / $CLK_TCK / $n" %.0f)"
  done
}

# callgrind_total NAME REQUESTS: sets CALLGRIND_TOTAL to the instructions of one proxy life
# under callgrind: start, CALLGRIND_WARMUP requests (upstream connections opened, lazy init
# done), then REQUESTS more over fresh client connections, then SIGTERM.
callgrind_total() {
  local name=$1 requests=$2 port
  port=$(free_port)
  start_proxy "$name" callgrind "$port"
  wait_port "$port" "$PROXY_PID" 120 || start_failed "$name under callgrind"
  run_h2load "$CALLGRIND_CONNECTIONS" "$CALLGRIND_WARMUP" "$port" "$WORK_DIR/$name.cg.warm.txt"
  run_h2load "$CALLGRIND_CONNECTIONS" "$requests" "$port" "$WORK_DIR/$name.cg.$requests.txt"
  stop_pid "$PROXY_PID" 120
  CALLGRIND_TOTAL=$(awk '/^(summary|totals):/ {print $2; exit}' "$CALLGRIND_OUT" 2>/dev/null || true)
  [[ -n $CALLGRIND_TOTAL ]] || die "$name: no callgrind total in $CALLGRIND_OUT (log: $PROXY_LOG)"
}

# check_chain PORT: remora_chain's filters are really in the path: without the token the
# auth filter answers 401, and the access log filter wrote the checked request's line.
check_chain() {
  local code i
  code=$(status_without_token "$1")
  [[ $code == 401 ]] || die "remora_chain answered $code without a token; expected 401 from auth"
  for ((i = 0; i < 50; i++)); do # written by a background thread
    [[ -s $ACCESS_LOG ]] && break
    sleep 0.1
  done
  [[ -s $ACCESS_LOG ]] || die "remora_chain wrote no access log line to $ACCESS_LOG"
}

# remora_metrics NAME: the plugin counters that show a chain misbehaving under load (hook
# failures, dropped log lines, requests the breaker refused), from the admin /metrics.
remora_metrics() {
  curl -sS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" >"$WORK_DIR/$1.metrics.txt" ||
    return 0
  put "$1" filter_counters "$(awk '
    /^remora_filter_(errors_total|access_log_dropped_total|circuit_breaker_(overloaded|rejected_open)_total)/ {
      printf "%s%s %s", (n++ ? ", " : ""), $1, $2 }' "$WORK_DIR/$1.metrics.txt")"
}

# log_lines NAME FILE: access log lines in FILE (HAProxy's also holds its own messages).
log_lines() {
  if [[ $1 == haproxy_log ]]; then
    grep -c ' ingress app/' "$2" || true
  else
    wc -l <"$2"
  fi
}

# Runs in a subshell (see main): everything it starts is stopped when it exits, and a
# failure here costs only this proxy's row.
bench_proxy() {
  local name=$1 port u0 s0 u1 s1 u2 s2 up0 up1 acc0 acc1 requests wrk_req h2_req access_log
  local -a pids
  STARTED_PIDS=()
  trap stop_started EXIT
  trap 'exit 130' INT TERM

  port=$(free_port)
  start_proxy "$name" load "$port"
  wait_port "$port" "$PROXY_PID" 20 || start_failed "$name"
  proxy_pids "$name"
  pids=("${PIDS[@]}")
  sleep 1
  put "$name" rss_idle_kib "$(rss_kib "${pids[@]}")"
  # For remora_chain a 401 here means the token and the auth filter's config disagree.
  check_body "$port" ||
    die "$name did not return the upstream's 200 and 100-byte body (got HTTP $CHECK_STATUS)"
  if [[ $name == remora_chain ]]; then check_chain "$port"; fi
  access_log=$ACCESS_LOG

  acc0=$(upstream_accepts)
  if [[ $H2_CLIENTS == 1 ]]; then
    # wrk speaks HTTP/1 only: HTTP/2 is measured with h2load alone.
    log "$name: warm-up h2load ${H2LOAD_PROTO[*]} -c$CONNECTIONS -n$((H2LOAD_REQUESTS / 5))"
    run_h2load "$CONNECTIONS" "$((H2LOAD_REQUESTS / 5))" "$port" "$WORK_DIR/$name.h2load.warmup.txt"
    read -r u0 s0 <<<"$(cpu_ticks "${pids[@]}")"
    up0=$(upstream_ticks)
    u1=$u0 s1=$s0
  else
    log "$name: warm-up ${WARMUP_SECONDS}s"
    run_wrk "$WARMUP_SECONDS" "$port" "$WORK_DIR/$name.wrk.warmup.txt"

    log "$name: wrk -t1 -c$CONNECTIONS -d${DURATION}s"
    read -r u0 s0 <<<"$(cpu_ticks "${pids[@]}")"
    up0=$(upstream_ticks)
    run_wrk "$DURATION" "$port" "$WORK_DIR/$name.wrk.txt"
    read -r u1 s1 <<<"$(cpu_ticks "${pids[@]}")"
  fi

  log "$name: h2load ${H2LOAD_PROTO[*]} -c$CONNECTIONS -n$H2LOAD_REQUESTS"
  run_h2load "$CONNECTIONS" "$H2LOAD_REQUESTS" "$port" "$WORK_DIR/$name.h2load.txt"
  read -r u2 s2 <<<"$(cpu_ticks "${pids[@]}")"
  up1=$(upstream_ticks)
  acc1=$(upstream_accepts)
  put "$name" rss_load_kib "$(rss_kib "${pids[@]}")"

  local wrk_out=$WORK_DIR/$name.wrk.txt us_per_tick=$((1000000 / CLK_TCK))
  wrk_req=0
  if [[ $H2_CLIENTS != 1 ]]; then wrk_req=$(wrk_requests "$wrk_out"); fi
  h2_req=$H2LOAD_REQUESTS
  requests=$((wrk_req + h2_req))
  put "$name" rps_h2load "$(calc "$(h2load_rps "$WORK_DIR/$name.h2load.txt")" %.0f)"
  if [[ $H2_CLIENTS != 1 ]]; then
    put "$name" rps_wrk "$(calc "$(wrk_rps "$wrk_out")" %.0f)"
    put "$name" p50 "$(wrk_ms "$wrk_out" 50)"
    put "$name" p99 "$(wrk_ms "$wrk_out" 99)"
    put "$name" wrk_errors "$(wrk_errors "$wrk_out")"
    put "$name" cpu_wrk_us "$(calc "($u1 + $s1 - $u0 - $s0) * $us_per_tick / $wrk_req" %.2f)"
  fi
  put "$name" cpu_us "$(calc "($u2 + $s2 - $u0 - $s0) * $us_per_tick / $requests" %.2f)"
  put "$name" cpu_user_us "$(calc "($u2 - $u0) * $us_per_tick / $requests" %.2f)"
  put "$name" cpu_sys_us "$(calc "($s2 - $s0) * $us_per_tick / $requests" %.2f)"
  put "$name" cpu_h2load_us "$(calc "($u2 + $s2 - $u1 - $s1) * $us_per_tick / $h2_req" %.2f)"
  put "$name" upstream_cpu_us "$(calc "($up1 - $up0) * $us_per_tick / $requests" %.2f)"
  # -1: the second status request's own connection.
  put "$name" upstream_conns "$((acc1 - acc0 - 1))"
  put "$name" requests "$requests"

  if [[ $SKIP_STRACE != 1 && $H2_CLIENTS != 1 ]] && command -v strace >/dev/null; then
    log "$name: strace -c over a ${STRACE_DURATION}s wrk run"
    strace_syscalls "$name" "$port" "${pids[@]}"
  fi
  if [[ $name == remora* ]]; then remora_metrics "$name"; fi
  if [[ $SCHEME == https ]]; then handshake_rates "$name" "$port" "${pids[@]}"; fi
  stop_started
  if [[ -n $access_log ]]; then
    # Stopped, so buffered lines are on disk. wrk counts only the requests it saw answered,
    # so a few more lines than "answered" is normal.
    local answered=$((requests + $(wrk_requests "$WORK_DIR/$name.wrk.warmup.txt")))
    if [[ -f $WORK_DIR/$name.wrk.strace.txt ]]; then
      answered=$((answered + $(wrk_requests "$WORK_DIR/$name.wrk.strace.txt")))
    fi
    put "$name" log_lines "$(log_lines "$name" "$access_log") lines for $answered requests answered"
  fi

  if [[ $SKIP_CALLGRIND != 1 ]]; then
    # Two lives that differ only by CALLGRIND_REQUESTS requests: start-up, warm-up, the
    # client connections and shutdown cancel in the difference.
    local base full
    log "$name: callgrind, baseline ($CALLGRIND_WARMUP + $CALLGRIND_WARMUP requests)"
    callgrind_total "$name" "$CALLGRIND_WARMUP"
    base=$CALLGRIND_TOTAL
    log "$name: callgrind, $CALLGRIND_WARMUP + $((CALLGRIND_WARMUP + CALLGRIND_REQUESTS)) requests"
    callgrind_total "$name" "$((CALLGRIND_WARMUP + CALLGRIND_REQUESTS))"
    full=$CALLGRIND_TOTAL
    put "$name" instr "$(calc "($full - $base) / $CALLGRIND_REQUESTS" %.0f)"
    put "$name" instr_totals "$base $full"
  fi
}

# --- report ------------------------------------------------------------------------------

cell() {
  local v
  v=$(get "$1" "$2")
  echo "${v:-n/a}"
}
mib() {
  local v
  v=$(get "$1" "$2")
  if [[ -n $v ]]; then calc "$v / 1024"; else echo n/a; fi
}
# ratio NAME KEY [REF]: NAME's figure over REF's (default: the run's reference proxy).
ratio() {
  local v ref
  v=$(get "$1" "$2")
  ref=$(get "${3:-$REFERENCE}" "$2")
  if [[ -n $v && -n $ref ]] && [[ $(calc "$ref" %.6f) != 0.000000 ]]; then
    calc "$v / $ref" '%.2f×'
  else
    echo n/a
  fi
}

report() {
  local name steal0 total0 steal1 total1
  read -r steal0 total0 <<<"$STEAL_START"
  read -r steal1 total1 <<<"$(cpu_steal)"
  echo "# Proxy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- host: $(uname -sr), $(nproc) CPUs; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); hypervisor steal during the run $(calc "100 * ($steal1 - $steal0) / ($total1 - $total0 + 1)")%"
  if [[ $SCHEME == https ]]; then
    echo "- TLS (MODE=$MODE): every proxy serves the same ECDSA P-256 certificate (scripts/dev-certs.sh), TLS 1.2-1.3 with session tickets; clients negotiate TLS 1.3 (wrk, h2load, s_time); ALPN ${H2LOAD_PROTO[*]}"
  fi
  if [[ $MODE == h2 ]]; then
    echo "- load (MODE=h2): h2load ${H2LOAD_PROTO[*]} -c$CONNECTIONS -n$H2LOAD_REQUESTS over cleartext HTTP/2 with prior knowledge (nginx \`listen ... http2\`, HAProxy \`bind ... proto h2\`, Remora's preface detection), HTTP/1.1 to the upstream; no wrk, no strace"
  fi
  echo "- load: wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency, then h2load ${H2LOAD_PROTO[*]} -c$CONNECTIONS -n$H2LOAD_REQUESTS; 100-byte body from one nginx upstream worker; proxies with $WORKERS worker(s), upstream keep-alive"
  if ((${#CLIENT_HEADERS[@]})); then
    echo "- with remora_chain in the run, every client sends \`authorization: Bearer <HS256 JWT>\` to every proxy; nginx_log: JSON access log, \`buffer=64k flush=1s\`; haproxy_log: \`option httplog\`, \`log stdout\` to a file; remora_chain: access_log (JSON, file) + auth (JWT HS256) + router + circuit_breaker"
  fi
  echo "- tools: $TOOL_VERSIONS"
  local built=""
  if [[ -x $REMORA_BIN ]]; then built=$(date -r "$REMORA_BIN" -u '+ (built %Y-%m-%d %H:%M UTC)'); fi
  echo "- repository: $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown); REMORA_BIN=$REMORA_BIN$built"
  echo
  echo "| proxy | rps (wrk) | rps (h2load) | p50 ms | p99 ms | CPU µs/req | instr/req | syscalls/req | idle RSS MiB | RSS after load MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in "${PROXIES[@]}"; do
    if [[ -n ${SKIPPED[$name]:-} ]]; then
      echo "| $name | skipped | | | | | | | | |"
      continue
    fi
    echo "| $name${FAILED_ROWS[$name]:+ (failed)} | $(cell "$name" rps_wrk) | $(cell "$name" rps_h2load) | $(cell "$name" p50) | $(cell "$name" p99) | $(cell "$name" cpu_us) | $(cell "$name" instr) | $(cell "$name" syscalls) | $(mib "$name" rss_idle_kib) | $(mib "$name" rss_load_kib) |"
  done
  echo
  echo "Relative to $REFERENCE (rps: higher is better; the rest: lower is better):"
  echo
  echo "| proxy | rps (wrk) | rps (h2load) | CPU/req | instr/req | syscalls/req | idle RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in "${PROXIES[@]}"; do
    [[ -z ${SKIPPED[$name]:-} ]] || continue
    echo "| $name${FAILED_ROWS[$name]:+ (failed)} | $(ratio "$name" rps_wrk) | $(ratio "$name" rps_h2load) | $(ratio "$name" cpu_us) | $(ratio "$name" instr) | $(ratio "$name" syscalls) | $(ratio "$name" rss_idle_kib) |"
  done
  echo
  if [[ -f $WORK_DIR/results/remora_chain && -f $WORK_DIR/results/remora ]]; then
    echo "What the filter chain costs: remora_chain over remora (target: CPU/req and instr/req ≤ 1.15×):"
    echo
    echo "| rps (wrk) | p50 | p99 | CPU/req | instr/req | syscalls/req |"
    echo "|---:|---:|---:|---:|---:|---:|"
    echo "| $(ratio remora_chain rps_wrk remora) | $(ratio remora_chain p50 remora) | $(ratio remora_chain p99 remora) | $(ratio remora_chain cpu_us remora) | $(ratio remora_chain instr remora) | $(ratio remora_chain syscalls remora) |"
    echo
  fi
  if [[ $SCHEME == https ]]; then
    echo "TLS handshakes (openssl s_time, ${HANDSHAKE_SECONDS}s each, one client process; proxy CPU per handshake is the figure to compare):"
    echo
    echo "| proxy | full/s | proxy CPU µs/full | resumed/s | proxy CPU µs/resumed |"
    echo "|---|---:|---:|---:|---:|"
    for name in "${PROXIES[@]}"; do
      [[ -z ${SKIPPED[$name]:-} ]] || continue
      echo "| $name | $(cell "$name" hs_full_per_s) | $(cell "$name" hs_full_cpu_us) | $(cell "$name" hs_resumed_per_s) | $(cell "$name" hs_resumed_cpu_us) |"
    done
    echo
  fi
  echo "Details:"
  echo
  for name in "${PROXIES[@]}"; do
    if [[ -n ${SKIPPED[$name]:-} ]]; then
      echo "- $name: ${SKIPPED[$name]}"
      continue
    fi
    [[ -f $WORK_DIR/results/$name ]] || continue
    echo "- $name: CPU/req $(cell "$name" cpu_us) µs = user $(cell "$name" cpu_user_us) + system $(cell "$name" cpu_sys_us) over $(cell "$name" requests) requests (wrk run $(cell "$name" cpu_wrk_us), h2load run $(cell "$name" cpu_h2load_us)); upstream nginx CPU/req $(cell "$name" upstream_cpu_us) µs; upstream connections opened during warm-up and load: $(cell "$name" upstream_conns); wrk errors: $(get "$name" wrk_errors | sed 's/; $//;s/^$/none/')"
    echo "  - syscalls per request under strace ($(cell "$name" strace_requests) requests): $(cell "$name" syscall_mix)"
    echo "  - callgrind totals (baseline, with $CALLGRIND_REQUESTS more requests): $(cell "$name" instr_totals)"
    if [[ -n $(get "$name" log_lines) ]]; then echo "  - access log: $(get "$name" log_lines)"; fi
    if [[ -n $(get "$name" filter_counters) ]]; then
      echo "  - filter counters after load: $(get "$name" filter_counters)"
    fi
  done
  if ((${#NOTES[@]})); then
    echo
    echo "Notes:"
    echo
    printf -- '- %s\n' "${NOTES[@]}"
  fi
}

# --- main --------------------------------------------------------------------------------

for var in DURATION CONNECTIONS WORKERS H2LOAD_REQUESTS WARMUP_SECONDS STRACE_DURATION \
  CALLGRIND_CONNECTIONS CALLGRIND_WARMUP CALLGRIND_REQUESTS; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive integer, got '${!var}'"
done
IFS=, read -r -a PROXIES <<<"$ONLY"
for name in "${PROXIES[@]}"; do
  [[ $name =~ ^(nginx|haproxy)(_log)?$|^remora(_chain)?$ ]] ||
    die "ONLY: unknown proxy '$name' (expected nginx, haproxy, remora, nginx_log, haproxy_log, remora_chain)"
done
# The ratios divide by nginx's figures: nginx_log's when the run has it (MODE=chain).
if [[ ,$ONLY, == *,nginx_log,* ]]; then REFERENCE=${REFERENCE:-nginx_log}; fi
REFERENCE=${REFERENCE:-nginx}

CURL_PROTO=() H2LOAD_PROTO=(--h1) NGINX_LISTEN_OPTS= HAPROXY_BIND_OPTS= SCHEME=http H2_CLIENTS=0
NGINX_SERVER_EXTRA= REMORA_LISTENER_EXTRA=
case $MODE in
h2)
  CURL_PROTO=(--http2-prior-knowledge)
  H2LOAD_PROTO=(-m"$H2_STREAMS")
  NGINX_LISTEN_OPTS=' http2'
  HAPROXY_BIND_OPTS=' proto h2'
  H2_CLIENTS=1
  ;;
tls)
  SCHEME=https
  CURL_PROTO=(-k --http1.1)
  NGINX_LISTEN_OPTS=' ssl'
  ;;
h2tls)
  SCHEME=https
  CURL_PROTO=(-k --http2)
  H2LOAD_PROTO=(-m"$H2_STREAMS")
  NGINX_LISTEN_OPTS=' ssl http2'
  H2_CLIENTS=1
  ;;
esac

for tool in python3 curl wrk h2load "$NGINX_BIN"; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nginx wrk nghttp2-client curl)"
done

# A run with remora_chain sends every proxy the same bearer token (one JWT, HS256), so every
# row parses the same request bytes; the other proxies just forward the header.
JWT_SECRET=remora-bench-hs256-secret-0123456789abcdef # the auth filter wants >= 32 bytes
JWT_ISSUER=remora-bench
JWT_AUDIENCE=app
CLIENT_HEADERS=()
if [[ ,$ONLY, == *,remora_chain,* ]]; then
  CLIENT_HEADERS=(-H "authorization: Bearer $(make_jwt)")
fi

declare -A SKIPPED=() FAILED_ROWS=()
NOTES=()
if [[ $H2_CLIENTS == 1 ]]; then
  NOTES+=("MODE=$MODE: rps (wrk), p50/p99 and syscalls/request are not measured (wrk and the strace run speak HTTP/1 only)")
fi
if [[ ,$ONLY, == *,haproxy* ]] && ! command -v "$HAPROXY_BIN" >/dev/null; then
  die "$HAPROXY_BIN not found (apt-get install -y haproxy)"
fi
for name in remora remora_chain; do
  [[ ,$ONLY, == *,$name,* ]] || continue
  if [[ ! -x $REMORA_BIN ]]; then
    SKIPPED[$name]="skipped: REMORA_BIN=$REMORA_BIN does not exist or is not executable (build it with 'ninja -C build remora', or point REMORA_BIN at a binary)"
  elif [[ $name == remora_chain ]]; then
    for filter in access_log auth router circuit_breaker; do
      [[ -f $REMORA_FILTERS/$filter.so ]] ||
        SKIPPED[$name]="skipped: $REMORA_FILTERS/$filter.so is missing (build the filters with 'ninja -C build remora_filters', or set REMORA_FILTERS)"
    done
  fi
  if [[ -n ${SKIPPED[$name]:-} ]]; then log "$name ${SKIPPED[$name]}"; fi
done
if [[ $SKIP_CALLGRIND != 1 ]] && ! command -v valgrind >/dev/null; then
  die "valgrind not found (apt-get install -y valgrind, or SKIP_CALLGRIND=1)"
fi
if [[ $SKIP_CALLGRIND == 1 ]]; then NOTES+=("instructions/request not measured (SKIP_CALLGRIND=1)"); fi
if [[ $SKIP_STRACE == 1 ]]; then
  NOTES+=("syscalls/request not measured (SKIP_STRACE=1)")
elif ! command -v strace >/dev/null; then
  NOTES+=("syscalls/request not measured: strace is not installed (apt-get install -y strace)")
  log "strace not installed: syscalls/request will be skipped"
fi

WORK_DIR=$(mktemp -d /tmp/remora-bench.XXXXXX)
mkdir -p "$WORK_DIR/results" "$WORK_DIR/upstream_tmp"
if [[ $SCHEME == https ]]; then
  # One ECDSA P-256 certificate for every proxy, the same settings where they have a say:
  # TLS 1.2-1.3, session tickets on, ALPN as the mode wants.
  "$REPO_DIR/scripts/dev-certs.sh" "$WORK_DIR/certs" >/dev/null
  CERT=$WORK_DIR/certs/server.crt KEY=$WORK_DIR/certs/server.key
  cat "$CERT" "$KEY" >"$WORK_DIR/certs/server.pem"
  alpn=http/1.1
  if [[ $MODE == h2tls ]]; then alpn=h2,http/1.1; fi
  HAPROXY_BIND_OPTS=" ssl crt $WORK_DIR/certs/server.pem alpn $alpn ssl-min-ver TLSv1.2"
  NGINX_SERVER_EXTRA="ssl_certificate $CERT; ssl_certificate_key $KEY; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets on;"
  REMORA_LISTENER_EXTRA="tls: { certificates: [ { certificate_file: $CERT, key_file: $KEY } ]"
  if [[ $MODE == tls ]]; then REMORA_LISTENER_EXTRA+=", alpn: [http/1.1]"; fi
  REMORA_LISTENER_EXTRA+=" }"
fi
# shellcheck disable=SC2317 # called through the EXIT trap
on_exit() {
  local rc=$?
  stop_started
  if [[ $rc == 0 && $KEEP_TMP != 1 ]]; then rm -rf "$WORK_DIR"; else log "logs kept in $WORK_DIR"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STEAL_START=$(cpu_steal)
TOOL_VERSIONS="$("$NGINX_BIN" -v 2>&1 | sed 's/.*: //'), $(
  "$HAPROXY_BIN" -v 2>/dev/null | awk 'NR == 1 {print "HAProxy " $3}' || true
), $(wrk -v 2>&1 | awk 'NR == 1 {print "wrk " $2}'), $(h2load --version | sed 's/.*: //'), $(
  valgrind --version 2>/dev/null || echo 'no valgrind'
), $(strace -V 2>/dev/null | awk 'NR == 1 {print "strace " $NF}' || echo 'no strace')"

UPSTREAM_PORT=$(free_port)
STATUS_PORT=$(free_port)
render "$CONFIG_DIR/upstream_nginx.conf.in" "$WORK_DIR/upstream.conf" DIR="$WORK_DIR" \
  UPSTREAM_PORT="$UPSTREAM_PORT" STATUS_PORT="$STATUS_PORT"
launch "$WORK_DIR/upstream.log" "$NGINX_BIN" -p "$WORK_DIR/" -e "$WORK_DIR/upstream_error.log" \
  -c "$WORK_DIR/upstream.conf" -g 'daemon off;'
UPSTREAM_PID=$LAUNCHED_PID
PROXY_LOG=$WORK_DIR/upstream.log
wait_port "$UPSTREAM_PORT" "$UPSTREAM_PID" 20 || start_failed "upstream nginx"
curl -sS --max-time 5 -o "$WORK_DIR/expected.body" "http://127.0.0.1:$UPSTREAM_PORT/"
[[ $(stat -c %s "$WORK_DIR/expected.body") == 100 ]] || die "upstream body is not 100 bytes"
log "upstream nginx on 127.0.0.1:$UPSTREAM_PORT (pid $UPSTREAM_PID)"

FAILED=0
for name in "${PROXIES[@]}"; do
  [[ -z ${SKIPPED[$name]:-} ]] || continue
  log "=== $name"
  set +e
  (
    set -e
    bench_proxy "$name"
  )
  rc=$?
  set -e
  if ((rc != 0)); then
    FAILED=1
    FAILED_ROWS[$name]=1
    NOTES+=("$name: the run failed (exit $rc) and its row is incomplete; logs in $WORK_DIR")
  fi
done

mkdir -p "$RESULTS_DIR"
RESULT_FILE=$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ).md
report | tee "$RESULT_FILE"
log "written to $RESULT_FILE"
exit "$FAILED"
