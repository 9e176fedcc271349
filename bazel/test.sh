#!/usr/bin/env bash
# The Bazel build's whole test run: installs what it needs from Debian (idempotent: nothing is
# installed, and the network is not touched, when everything is there), then builds every target
# and runs the unit tests with `bazel test //...`. Prints how long that took.
#
#   bazel/test.sh [extra bazel flags]      # JOBS=2 by default
#
# CMake stays the primary build (scripts/test.sh); see docs/bazel.md.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  bazel-bootstrap bazel-rules-java
  libevent-dev libnghttp2-dev libre2-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libspdlog-dev libhttp-parser-dev libssl-dev nettle-dev nlohmann-json3-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel's version is written twice; catch them drifting apart before building.
cmake_version=$(sed -n 's/^project(remora VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
bazel_version=$(sed -n 's/^REMORA_VERSION = "\(.*\)"$/\1/p' bazel/remora.bzl)
if [[ "$cmake_version" != "$bazel_version" ]]; then
  echo "REMORA_VERSION in bazel/remora.bzl ($bazel_version) differs from CMakeLists.txt" \
    "($cmake_version)" >&2
  exit 1
fi

start=$(date +%s)
status=0
bazel test //... --jobs="${JOBS:-2}" "$@" || status=$?
echo "bazel test //... took $(($(date +%s) - start)) s (exit status $status)"
exit "$status"
