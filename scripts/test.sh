#!/usr/bin/env bash
# The README's test command: install every dependency, build, run every test with ctest, then
# build and run the unit and case tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/install-deps.sh

echo "== build (RelWithDebInfo, -Wall -Wextra -Werror)"
BUILD_DIR=build bash scripts/build.sh

if [ ! -d "$ROOT/../shared" ]; then
    echo "NOTE: ../shared (reference fixtures) is absent: tests that read it report SKIPPED."
fi

status=0
echo "== ctest: every test"
(cd build && ctest --output-on-failure --timeout 600 -j "${CTEST_JOBS:-2}") || status=1

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer (engine, CLI, unit + case tests)"
BUILD_DIR=build-asan BUILD_TYPE=Debug bash scripts/build.sh -DRELAYTRUST_SANITIZE=ON \
    -DRELAYTRUST_BUILD_FRONTENDS=OFF
echo "== ctest under ASan+UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure --timeout 600 -j "${CTEST_JOBS:-2}") || status=1

exit $status
