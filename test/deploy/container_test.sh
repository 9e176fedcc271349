#!/usr/bin/env bash
# The container image end to end: builds it (deploy/build-image.sh --prebuilt, reusing the base
# image when present), runs it in a podman pod beside a demo application container (the same
# image, running the demo upstream), and drives traffic through the sidecar on 127.0.0.1:
# the response, /ready, /metrics, /plugins, the non-root user, and a SIGTERM drain exiting 0.
# Removes the pod, its containers and the test's image tag afterwards.
#
#   test/deploy/container_test.sh BUILD_DIR
#
# Registered with ctest as deploy.container (label `container`: `ctest -L container`).
# REMORA_PODMAN_ROOT chooses the image storage (default /var/tmp/remora-podman).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: container_test.sh BUILD_DIR}" && pwd)"
store="${REMORA_PODMAN_ROOT:-/var/tmp/remora-podman}"
export REMORA_PODMAN_ROOT="$store"
mkdir -p "$store"
export CONTAINERS_CONF="$store/containers.conf"
podman_() { podman --root "$store/root" --runroot "$store/runroot" "$@"; }

id="remora-test-$$"
tag="localhost/remora:test-$$"
start=$(date +%s)
cleanup() {
  podman_ pod rm -f -t 0 "$id" >/dev/null 2>&1 || true
  podman_ rmi -f "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- sidecar logs" >&2
  podman_ logs "$id-remora" >&2 2>&1 || true
  echo "--- app logs" >&2
  podman_ logs "$id-app" >&2 2>&1 || true
  exit 1
}
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$repo/deploy/build-image.sh" --prebuilt "$build" --tag "$tag" >"$store/build-image.log" 2>&1 ||
  { tail -n 40 "$store/build-image.log" >&2; fail "image build"; }
echo "image built in $(($(date +%s) - start))s"

http_port=$(free_port)
admin_port=$(free_port)
while [[ "$admin_port" == "$http_port" ]]; do admin_port=$(free_port); done

# A pod shares one network namespace: the sidecar reaches the application on 127.0.0.1:8080.
podman_ pod create --name "$id" -p "127.0.0.1:$http_port:10000" -p "127.0.0.1:$admin_port:9901" \
  >/dev/null
podman_ run -d --pod "$id" --name "$id-app" --entrypoint /usr/bin/remora-demo-upstream "$tag" \
  --listen 127.0.0.1:8080 --name app >/dev/null
podman_ run -d --pod "$id" --name "$id-remora" "$tag" >/dev/null

ready=""
for _ in $(seq 1 100); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/ready")" == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.2
done
[[ -n "$ready" ]] || fail "/ready did not answer 200 within 20s"

headers=$(mktemp)
trap 'rm -f "$headers"; cleanup' EXIT
body=$(curl -s -D "$headers" "http://127.0.0.1:$http_port/through/the/sidecar") || fail "request"
[[ "$body" == "hello from app" ]] || fail "unexpected body '$body'"
grep -qi '^x-upstream: app' "$headers" || fail "no x-upstream header: $(cat "$headers")"
for _ in 1 2 3 4; do curl -s -o /dev/null "http://127.0.0.1:$http_port/"; done

metrics=$(curl -s "http://127.0.0.1:$admin_port/metrics")
grep -qxF 'remora_requests_total{listener="ingress",code_class="2xx"} 5' <<<"$metrics" ||
  fail "remora_requests_total for 5 requests not in /metrics: $(grep requests_total <<<"$metrics")"
grep -q '^remora_request_duration_seconds_count' <<<"$metrics" || fail "no duration histogram"
grep -q '^remora_filter_circuit_breaker_active_requests' <<<"$metrics" ||
  fail "circuit breaker metrics missing: the plugin dir was not loaded"
plugins=$(curl -s "http://127.0.0.1:$admin_port/plugins")
for p in router circuit_breaker access_log auth headers rate_limit; do
  grep -q "\"$p\"" <<<"$plugins" || fail "plugin $p not loaded: $plugins"
done
[[ "$(podman_ inspect --format '{{.Config.User}}' "$id-remora")" == "10001:10001" ]] ||
  fail "the sidecar does not run as the remora user"

# podman stop sends the image's STOPSIGNAL (SIGTERM): Remora drains and exits 0.
podman_ stop -t 40 "$id-remora" >/dev/null
code=$(podman_ inspect --format '{{.State.ExitCode}}' "$id-remora")
[[ "$code" == 0 ]] || fail "sidecar exited $code after SIGTERM"

echo "PASS in $(($(date +%s) - start))s"
