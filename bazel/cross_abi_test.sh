#!/usr/bin/env bash
# The plugin ABI across the two builds: filters built with Bazel load into the kernel built with
# CMake, and filters built with CMake load into the kernel built with Bazel. Each direction runs
# the chain [headers, router] in front of the demo upstream and checks with curl that a request
# went through both filters (the headers filter edits both sides, the router picks the cluster).
#
#   bazel/cross_abi_test.sh
#
# Builds what it needs first: ninja in BUILD_DIR (default build/, configured if missing) and
# bazel, both with JOBS (default 2) jobs. Servers listen on 127.0.0.1 only and are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-2}

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja >/dev/null
fi
ninja -C "$build_dir" -j"$jobs" remora remora-demo-upstream remora_filter_headers \
  remora_filter_router
bazel build --jobs="$jobs" //proxy:remora //filters/headers //filters/router
bazel_bin=$(bazel info bazel-bin 2>/dev/null)

cmake_remora="$build_dir/proxy/remora"
cmake_filters="$build_dir/filters"
bazel_remora="$bazel_bin/proxy/remora"
bazel_headers="$bazel_bin/filters/headers/headers.so"
bazel_router="$bazel_bin/filters/router/router.so"

work=$(mktemp -d /tmp/remora-cross-abi.XXXXXX)
pids=()  # servers still running
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local rest=() pid
  for pid in "${pids[@]}"; do
    [[ "$pid" == "$1" ]] || rest+=("$pid")
  done
  pids=("${rest[@]}")
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    stop "$pid"
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The backend: the demo upstream binds port 0 and prints the port it got.
: >"$work/upstream.log"
"$build_dir/tools/remora-demo-upstream" --listen 127.0.0.1:0 --name app >"$work/upstream.log" 2>&1 &
pids+=($!)
upstream_port=
for _ in $(seq 100); do
  upstream_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/upstream.log")
  [[ -n "$upstream_port" ]] && break
  sleep 0.1
done
[[ -n "$upstream_port" ]] || fail "the demo upstream did not start: $(cat "$work/upstream.log")"

# run_case NAME KERNEL HEADERS_SO ROUTER_SO: starts KERNEL with a plugin folder holding the two
# plugins and sends one request through it.
run_case() {
  local name=$1 kernel=$2 headers_so=$3 router_so=$4
  local dir="$work/$name"
  mkdir -p "$dir/plugins"
  cp "$headers_so" "$dir/plugins/headers.so"
  cp "$router_so" "$dir/plugins/router.so"
  local admin_port listen_port
  admin_port=$(free_port)
  listen_port=$(free_port)
  cat >"$dir/remora.yaml" <<EOF
workers: 1
admin: { address: 127.0.0.1:$admin_port }
plugins: { dir: $dir/plugins, cache_dir: $dir/cache }
listeners:
  - name: ingress
    address: 127.0.0.1:$listen_port
    filters:
      - name: headers
        config:
          request: { set: { x-cross-abi: $name } }
          response: { set: { x-cross-abi-kernel: $name } }
      - name: router
        config: { routes: [{ match: { prefix: / }, cluster: app }] }
clusters:
  - name: app
    endpoints: [127.0.0.1:$upstream_port]
EOF
  echo "== $name: $kernel ($("$kernel" --version)) with $headers_so and $router_so"
  "$kernel" --config "$dir/remora.yaml" >"$dir/remora.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local ready=
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$admin_port/ready" 2>/dev/null; then
      ready=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ready" ]] || fail "$name: remora did not become ready; its log:
$(cat "$dir/remora.log")"

  # /headers echoes the request as the upstream received it.
  curl -sS --max-time 10 -D "$dir/response_headers" -o "$dir/body" \
    "http://127.0.0.1:$listen_port/headers" || fail "$name: the request through remora failed"
  grep -qi "^x-cross-abi: $name" "$dir/body" ||
    fail "$name: the upstream did not see the request header set by headers.so:
$(cat "$dir/response_headers" "$dir/body")"
  grep -qi "^x-cross-abi-kernel: $name" "$dir/response_headers" ||
    fail "$name: the response lacks the header set by headers.so:
$(cat "$dir/response_headers")"
  grep -qi "^x-upstream: app" "$dir/response_headers" ||
    fail "$name: the router did not send the request to cluster app:
$(cat "$dir/response_headers")"
  local plugins
  plugins=$(curl -fsS --max-time 5 "http://127.0.0.1:$admin_port/plugins")
  [[ "$plugins" == *headers* && "$plugins" == *router* ]] ||
    fail "$name: /plugins does not list both plugins: $plugins"

  stop "$pid"
  echo "   ok: both filters ran ($(head -1 "$dir/response_headers" | tr -d '\r'))"
}

run_case cmake-kernel-bazel-plugins "$cmake_remora" "$bazel_headers" "$bazel_router"
run_case bazel-kernel-cmake-plugins "$bazel_remora" "$cmake_filters/headers.so" \
  "$cmake_filters/router.so"
echo "PASS: plugins load across the CMake and Bazel builds in both directions"
