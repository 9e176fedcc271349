#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), builds with warnings as
# errors, runs unit and integration tests with ctest, each fuzzer for a bounded time, then the
# Bazel build's unit tests and the cross-build plugin ABI check (so the two builds cannot drift).
# First of all, the layering check: no include under proxy/ or filters/ runs up a floor.
# FUZZ_SECONDS=0 skips the fuzzers; SKIP_BAZEL=1 skips the Bazel steps.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
python3 scripts/check_layers.py
scripts/build.sh
ctest_log=$(mktemp)
trap 'rm -f "$ctest_log"' EXIT
(cd build && ctest --output-on-failure -j"${JOBS:-2}" --timeout 300) | tee "$ctest_log"
if [[ "${FUZZ_SECONDS:-20}" != "0" && -x test/fuzz/run.sh ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} test/fuzz/run.sh
fi
if [[ "${SKIP_BAZEL:-0}" != "1" ]]; then
  bazel/test.sh
  bazel/cross_abi_test.sh
fi
# ctest's count, repeated last so the suite's result closes the output.
total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log")
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log")
echo "ctest: $((total - failed)) passed, $failed failed"
