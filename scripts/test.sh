#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), builds with warnings as
# errors, runs unit and integration tests with ctest, then each fuzzer for a bounded time.
# FUZZ_SECONDS=0 skips the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j"${JOBS:-2}" --timeout 300)
if [[ "${FUZZ_SECONDS:-20}" != "0" && -x test/fuzz/run.sh ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} test/fuzz/run.sh
fi
