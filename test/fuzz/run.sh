#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz and runs each for FUZZ_SECONDS (default 30) on a
# scratch copy of its seed corpus, so the committed corpus never grows. Exits non-zero when a
# target crashes, leaks, times out or runs out of memory; the reproducer and the log are left in
# FUZZ_ARTIFACTS (default build-fuzz/fuzz-artifacts). See test/fuzz/README.md.
#
#   FUZZ_SECONDS=300 test/fuzz/run.sh                   # longer runs
#   FUZZ_TARGETS=config_fuzz test/fuzz/run.sh           # one target
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
read -r -a targets <<<"${FUZZ_TARGETS:-http1_request_fuzz http1_response_fuzz config_fuzz http2_server_fuzz http2_upstream_fuzz}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DREMORA_BUILD_FUZZERS=ON -DREMORA_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" -j"${FUZZ_BUILD_JOBS:-2}" "${targets[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"

failed=()
for target in "${targets[@]}"; do
  max_len=4096
  case $target in
    config_fuzz) dict=$root/test/fuzz/config.dict ;;
    http2_server_fuzz) dict=$root/test/fuzz/http2.dict ;;
    # Room for a response body over the 4 KiB write watermark (read-disabled upstream streams).
    http2_upstream_fuzz) dict=$root/test/fuzz/http2_upstream.dict max_len=8192 ;;
    *) dict=$root/test/fuzz/http1.dict ;;
  esac
  corpus=$scratch/$target
  mkdir -p "$corpus"
  cp -R "$root/test/fuzz/corpus/$target/." "$corpus/"
  log=$artifacts/$target.log
  echo "== $target: ${seconds}s, log in $log"
  if "$build/test/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$max_len" -dict="$dict" -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
    "$corpus" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done|^#[0-9]+.*DONE' "$log" || true
  else
    echo "!! $target failed; the end of its log:"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzers that failed: ${failed[*]}; reproducers in $artifacts"
  exit 1
fi
echo "all fuzzers ran clean"
