#!/usr/bin/env bash
# Installs, from Debian's packages, what Remora needs to build, run and test. Idempotent: when
# everything is already installed it changes nothing and does not touch the network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libevent-dev libnghttp2-dev libre2-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libspdlog-dev libhttp-parser-dev libssl-dev nettle-dev nlohmann-json3-dev
  libbenchmark-dev curl ca-certificates python3
  # Transparent interception tests: iptables in network namespaces, setpriv (util-linux).
  iptables iproute2 util-linux
  # Deployment tests: the container image (podman with runc: crun refuses hybrid cgroups;
  # catatonit for the pod's infra container; debootstrap for the offline base image), the
  # Kubernetes manifest checks (python3-yaml) and a real Prometheus scraping Remora.
  podman runc catatonit containernetworking-plugins debootstrap python3-yaml prometheus
  # Fleet tests: a real etcd.
  etcd-server etcd-client
  # HTTP/2 and gRPC tests: nghttpd (h2c upstream), nghttp and h2load (clients), python3-h2
  # (raw frame client and test server), grpcio (real gRPC clients and servers).
  nghttp2-server nghttp2-client python3-h2 python3-grpcio
  # TCP proxy tests: a real Redis with its clients, socat for half-close and banner servers.
  redis-server redis-tools socat
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(nginx haproxy wrk valgrind strace)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
