#!/usr/bin/env bash
# Configures and builds Remora with CMake + Ninja into build/ (BUILD_DIR to change).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
ninja -C "$build_dir" -j"${JOBS:-$(nproc)}"
