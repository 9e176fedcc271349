#!/usr/bin/env bash
# End-to-end test of transparent interception in network namespaces this test creates:
#
#   app netns  (APP_IP)   remora (uid nobody) + the app (demo upstream :8080),
#                         deploy/iptables-init.sh installed
#   peer netns (PEER_IP)  two backends: "peer" on :9001 and "named" on :9002
#   one veth pair between them, addresses in 10.0.0.0/8 that exist only inside the namespaces
#
# Checks: the app's outbound connection to PEER_IP:9001 goes through Remora's outbound listener
# (original_dst cluster) and reaches the peer; a request whose Host names a known service goes
# to a named cluster instead, as does one matched by a route on its original destination; the
# peer's inbound connection to APP_IP:8080 goes through Remora's inbound listener to the app; a
# connection made straight to Remora's listener is refused rather than looping. Everything created is removed on exit, pass or fail.
#
# Usage: interception_test.sh REMORA DEMO_UPSTREAM FILTER_DIR SOURCE_DIR
# Exit 77 (ctest: skipped) when not root.
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 REMORA DEMO_UPSTREAM FILTER_DIR SOURCE_DIR" >&2
  exit 2
fi
remora="$1" demo="$2" filters="$3" source_dir="$4"

if [[ "$(id -u)" != 0 ]]; then
  echo "SKIPPED: needs root to create network namespaces and iptables rules"
  exit 77
fi
for cmd in ip iptables setpriv curl; do
  command -v "$cmd" >/dev/null || { echo "FAIL: $cmd not found (scripts/install-deps.sh installs it)"; exit 1; }
done

# Names unique to this run (interface names are at most 15 bytes).
id=$$
app_ns="remora-app-$id" peer_ns="remora-peer-$id"
veth_app="rva$id" veth_peer="rvp$id"
octet=$((id % 200 + 20))
app_ip="10.$octet.77.1" peer_ip="10.$octet.77.2"
proxy_uid=$(id -u nobody)
admin_port=9901
work=$(mktemp -d /tmp/remora-netns.XXXXXX)
pids=()

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 && -f "$work/remora.log" ]]; then
    echo "--- remora output ---"
    tail -n 50 "$work/remora.log"
  fi
  # Deleting a namespace deletes its end of the veth pair, and so the pair.
  ip netns del "$app_ns" 2>/dev/null || true
  ip netns del "$peer_ns" 2>/dev/null || true
  ip link del "$veth_app" 2>/dev/null || true
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*"
  exit 1
}

in_app() { ip netns exec "$app_ns" "$@"; }
in_peer() { ip netns exec "$peer_ns" "$@"; }

# Polls `cmd...` until it succeeds, at most `tries` times 100 ms apart.
wait_for() {
  local tries="$1"
  shift
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# --- namespaces and the veth pair ---
ip netns add "$app_ns"
ip netns add "$peer_ns"
ip link add "$veth_app" type veth peer name "$veth_peer"
ip link set "$veth_app" netns "$app_ns"
ip link set "$veth_peer" netns "$peer_ns"
in_app ip addr add "$app_ip/24" dev "$veth_app"
in_peer ip addr add "$peer_ip/24" dev "$veth_peer"
for ns in "$app_ns" "$peer_ns"; do
  ip netns exec "$ns" ip link set lo up
done
in_app ip link set "$veth_app" up
in_peer ip link set "$veth_peer" up

# --- backends ---
start() {  # log-name command...
  local log="$work/$1.log"
  shift
  # The background subshell execs its way down to the program (ip netns exec and setpriv exec
  # too), so the PID kept is the program's own and cleanup's kill reaches it.
  (
    in_app() { exec ip netns exec "$app_ns" "$@"; }
    in_peer() { exec ip netns exec "$peer_ns" "$@"; }
    "$@"
  ) >"$log" 2>&1 &
  pids+=($!)
}
start app in_app "$demo" --listen 0.0.0.0:8080 --name app
start peer in_peer "$demo" --listen 0.0.0.0:9001 --name peer
start named in_peer "$demo" --listen 0.0.0.0:9002 --name named

# --- remora, as uid nobody, with the plugins it needs copied where nobody can read them ---
mkdir -p "$work/plugins" "$work/cache"
cp "$filters/router.so" "$filters/access_log.so" "$work/plugins/"
chmod 755 "$work" "$work/plugins"
chmod 777 "$work/cache"
cat >"$work/remora.yaml" <<YAML
workers: 1
admin: {address: "127.0.0.1:$admin_port"}
drain: {grace_period: 0s, deadline: 1s}
plugins: {dir: "$work/plugins", cache_dir: "$work/cache"}
listeners:
  - name: outbound
    address: "0.0.0.0:15001"
    original_dst: true
    filters:
      - name: access_log
        config: {path: stdout, format: json}
      - name: router
        config:
          routes:
            - {name: named, match: {prefix: "/", host: "named.example"}, cluster: named}
            - {name: by-dst, match: {prefix: "/", original_dst: "$peer_ip:9003"}, cluster: named}
            - {name: passthrough, match: {prefix: "/"}, cluster: outbound_passthrough}
  - name: inbound
    address: "0.0.0.0:15006"
    original_dst: true
    routes: [{prefix: "/", cluster: inbound_passthrough}]
clusters:
  - {name: outbound_passthrough, type: original_dst}
  - {name: inbound_passthrough, type: original_dst}
  - {name: named, endpoints: ["$peer_ip:9002"]}
YAML
chmod 644 "$work/remora.yaml"
start remora in_app setpriv --reuid="$proxy_uid" --regid="$(id -g nobody)" --clear-groups \
  "$remora" --config "$work/remora.yaml"
wait_for 100 in_app curl -sf "http://127.0.0.1:$admin_port/ready" || fail "remora not ready"
wait_for 50 in_app curl -sf http://127.0.0.1:8080/ || fail "app not up"
wait_for 50 in_peer curl -sf http://127.0.0.1:9001/ || fail "peer not up"
wait_for 50 in_peer curl -sf http://127.0.0.1:9002/ || fail "named backend not up"

# --- interception ---
in_app "$source_dir/deploy/iptables-init.sh" --proxy-uid "$proxy_uid" \
  --inbound-port 15006 --outbound-port 15001 --admin-port "$admin_port"
# Idempotent: a second run leaves exactly one jump per chain.
in_app "$source_dir/deploy/iptables-init.sh" --proxy-uid "$proxy_uid" >/dev/null
jumps=$(in_app iptables -t nat -S | grep -c -- '-j REMORA_' || true)
[[ "$jumps" == 2 ]] || fail "expected 2 jumps into REMORA_* chains after two runs, got $jumps"

metric() {  # name labels: the sample's value, 0 when absent
  in_app curl -sf "http://127.0.0.1:$admin_port/metrics" |
    awk -v m="$1{$2}" 'index($0, m) == 1 { print $2; found = 1 } END { if (!found) print 0 }'
}

# Outbound: the app calls the peer; Remora forwards to the original destination.
body=$(in_app curl -sS --max-time 5 "http://$peer_ip:9001/")
[[ "$body" == "hello from peer" ]] || fail "outbound: expected 'hello from peer', got '$body'"
n=$(metric remora_upstream_requests_total 'cluster="outbound_passthrough",code_class="2xx"')
[[ "$n" == 1 ]] || fail "outbound: expected 1 request through outbound_passthrough, metrics say $n"
wait_for 30 grep -q "\"upstream\":\"$peer_ip:9001\"" "$work/remora.log" ||
  fail "outbound: access log has no request to $peer_ip:9001"
echo "ok: outbound to $peer_ip:9001 went through remora to the peer"

# A known host goes to its named cluster, whatever address the app dialled.
upstream=$(in_app curl -sS --max-time 5 -o /dev/null -D - \
  -H "Host: named.example" "http://$peer_ip:9001/" | tr -d '\r' | awk -F': ' '$1 == "x-upstream" { print $2 }')
[[ "$upstream" == named ]] || fail "named route: expected x-upstream named, got '$upstream'"
n=$(metric remora_upstream_requests_total 'cluster="named",code_class="2xx"')
[[ "$n" == 1 ]] || fail "named route: expected 1 request through cluster named, metrics say $n"
echo "ok: Host named.example went to cluster named"

# The router also sees the original destination: PEER_IP:9003 (where nothing listens) is routed
# to the named cluster by its address.
upstream=$(in_app curl -sS --max-time 5 -o /dev/null -D - "http://$peer_ip:9003/" |
  tr -d '\r' | awk -F': ' '$1 == "x-upstream" { print $2 }')
[[ "$upstream" == named ]] || fail "original_dst route: expected x-upstream named, got '$upstream'"
echo "ok: a route on original_dst $peer_ip:9003 went to cluster named"

# Inbound: the peer calls the app; Remora's inbound listener forwards to the app.
body=$(in_peer curl -sS --max-time 5 "http://$app_ip:8080/")
[[ "$body" == "hello from app" ]] || fail "inbound: expected 'hello from app', got '$body'"
n=$(metric remora_upstream_requests_total 'cluster="inbound_passthrough",code_class="2xx"')
[[ "$n" == 1 ]] || fail "inbound: expected 1 request through inbound_passthrough, metrics say $n"
echo "ok: inbound to $app_ip:8080 went through remora to the app"

# A connection made to Remora's listener itself has no other destination: refused, not looped.
code=$(in_app curl -s --max-time 5 -o "$work/loop.txt" -w '%{http_code}' "http://127.0.0.1:15001/")
[[ "$code" == 508 ]] || fail "loop guard: expected 508, got $code ($(cat "$work/loop.txt"))"
grep -q "own listener" "$work/loop.txt" || fail "loop guard: unclear body: $(cat "$work/loop.txt")"
echo "ok: a connection straight to the outbound listener is refused (508)"

# --clean removes everything it installed.
in_app "$source_dir/deploy/iptables-init.sh" --clean >/dev/null
if in_app iptables -t nat -S | grep -q REMORA_; then fail "--clean left rules behind"; fi
echo "ok: --clean removed the rules"
echo "PASS"
