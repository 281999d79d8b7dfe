#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz/ and runs each for a while.
#
#   scripts/run-fuzz.sh                  # every fuzz/*_fuzz.cpp target, FUZZ_SECONDS each
#   scripts/run-fuzz.sh network_set_fuzz # only the named targets
#
# Environment: FUZZ_SECONDS (default 30) per target, FUZZ_JOBS build parallelism (default 1),
# FUZZ_BUILD_DIR (default <repo>/build-fuzz), CXX (default clang++), FUZZ_ARGS extra libFuzzer
# flags (e.g. "-max_len=8192").
# Seeds come from fuzz/corpus/<target>/ when present (read only); new inputs the fuzzer finds go
# to $FUZZ_BUILD_DIR/corpus/<target>/, crash inputs to $FUZZ_BUILD_DIR/artifacts/<target>/, the
# full output to $FUZZ_BUILD_DIR/logs/<target>.log.
# Prints one line per target; exits 1 if any target crashed or failed to build.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
cxx=${CXX:-clang++}
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "run-fuzz: FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
    exit 2
fi

# Fuzz targets only: frontends and unit tests are not needed and would only cost build time.
mkdir -p "$build_dir"
if ! cmake -S "$repo" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAYTRUST_BUILD_FUZZ=ON -DRELAYTRUST_BUILD_FRONTENDS=OFF \
    -DRELAYTRUST_BUILD_BENCH=OFF -DBUILD_TESTING=OFF >"$build_dir/configure.log" 2>&1; then
    cat "$build_dir/configure.log" >&2
    echo "run-fuzz: cmake configure failed" >&2
    exit 1
fi

if (($# > 0)); then
    targets=("$@")
else
    targets=()
    for source in "$repo"/fuzz/*_fuzz.cpp; do
        [[ -e $source ]] && targets+=("$(basename "$source" .cpp)")
    done
fi
if ((${#targets[@]} == 0)); then
    echo "run-fuzz: no fuzz/*_fuzz.cpp targets found" >&2
    exit 1
fi

failed=0
mkdir -p "$build_dir/logs"
for target in "${targets[@]}"; do
    binary=$build_dir/fuzz/$target
    corpus=$build_dir/corpus/$target
    artifacts=$build_dir/artifacts/$target
    log=$build_dir/logs/$target.log
    build_log=$build_dir/logs/$target.build.log
    mkdir -p "$corpus" "$artifacts"

    # One target at a time, so a fuzzer that does not compile yet does not hide the others.
    if ! cmake --build "$build_dir" -j"$jobs" --target "$target" >"$build_log" 2>&1; then
        # Prefer the first error in project code over one deep inside a system header.
        error=$(grep -m 1 -E "^$repo/.*error:" "$build_log" ||
            grep -m 1 -E 'error:|No rule to make target' "$build_log" || true)
        # The translation unit make gave up on, e.g. shared/auth/spf_suite.cpp.
        unit=$(grep -m 1 -oE '[^ :\[]+/CMakeFiles/[^ ]+\.dir/[^ ]+\.o\] Error' "$build_log" |
            sed -E 's#CMakeFiles/[^/]+\.dir/##; s#\.o\] Error$##' || true)
        printf '%-28s BUILD FAILED%s: %s; log %s\n' "$target" "${unit:+ in $unit}" \
            "${error:-see log}" "$build_log"
        failed=1
        continue
    fi
    dirs=("$corpus")  # first directory: where libFuzzer writes new inputs
    seeds=$repo/fuzz/corpus/$target
    [[ -d $seeds ]] && dirs+=("$seeds")

    set +e
    "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "${extra_args[@]}" "${dirs[@]}" >"$log" 2>&1
    status=$?
    set -e

    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || true)
    if ((status == 0)); then
        printf '%-28s ok     %8s runs in %ss, coverage %s, corpus %s files\n' "$target" \
            "${runs:-?}" "$seconds" "${coverage:-?}" "$(find "$corpus" -type f | wc -l)"
    else
        # Newest file in the artifacts directory: the input that just crashed.
        crash=$(find "$artifacts" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
        reason=$(grep -m 1 -E "^==[0-9]+== ?ERROR|runtime error:|^${target}: " "$log" || true)
        printf '%-28s CRASH  exit %s: %s; input %s; log %s\n' "$target" "$status" \
            "${reason:-see log}" "${crash:-none}" "$log"
        failed=1
    fi
done
exit "$failed"
