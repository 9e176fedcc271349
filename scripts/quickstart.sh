#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): installs the packages, builds Remora, and
# starts it on config/sidecar.yaml in front of the demo upstream on 127.0.0.1:8080.
# Afterwards:  curl localhost:10000/   and   curl localhost:9901/metrics
# Config changes go to the control listener: curl -X PUT --data-binary @FILE localhost:9902/config
# Stop both with:  scripts/quickstart.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=${RUN_DIR:-/tmp/remora-quickstart}

stop() {
  for name in remora upstream; do
    if [[ -f "$run_dir/$name.pid" ]]; then
      kill "$(cat "$run_dir/$name.pid")" 2>/dev/null || true
      rm -f "$run_dir/$name.pid"
    fi
  done
}
if [[ "${1:-}" == "stop" ]]; then
  stop
  exit 0
fi

scripts/install-deps.sh
scripts/build.sh
mkdir -p "$run_dir"
stop
build/tools/remora-demo-upstream --listen 127.0.0.1:8080 --name app >"$run_dir/upstream.log" 2>&1 &
echo $! >"$run_dir/upstream.pid"
build/proxy/remora --config config/sidecar.yaml >"$run_dir/remora.log" 2>&1 &
echo $! >"$run_dir/remora.pid"
for _ in $(seq 100); do
  if curl -fsS -o /dev/null http://127.0.0.1:9901/ready 2>/dev/null; then
    echo "remora is ready: curl localhost:10000/  |  curl localhost:9901/metrics"
    echo "push a config: curl -X PUT --data-binary @config/sidecar.yaml localhost:9902/config"
    echo "logs in $run_dir; stop with: scripts/quickstart.sh stop"
    exit 0
  fi
  sleep 0.1
done
echo "remora did not become ready; its log:" >&2
cat "$run_dir/remora.log" >&2
exit 1
