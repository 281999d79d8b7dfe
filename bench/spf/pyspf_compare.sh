#!/usr/bin/env bash
# Same-run comparison of SPF evaluation speed: relaytrust (BM_SpfRfc7208Suite) and pyspf
# (Debian python3-spf, bench/spf/pyspf_bench.py) over the same 203 OpenSPF RFC 7208 cases with
# the same in-memory zone rules. Both are single-threaded and never touch the network.
#
#   cmake -S . -B build-bench -DRELAYTRUST_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release \
#         -DRELAYTRUST_BUILD_FRONTENDS=OFF
#   cmake --build build-bench --target relaytrust_bench
#   bench/spf/pyspf_compare.sh [path/to/relaytrust_bench] [seconds per side]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bench="${1:-$repo/build-bench/bench/relaytrust_bench}"
seconds="${2:-10}"
suite="${RELAYTRUST_SPF_SUITE:-$repo/../shared/conformance/spf/rfc7208-tests.yml}"
python=/usr/bin/python3  # Debian's interpreter: python3-spf is installed for it

[ -x "$bench" ] || { echo "pyspf_compare.sh: no benchmark binary at $bench" >&2; exit 2; }
[ -r "$suite" ] || { echo "pyspf_compare.sh: no suite at $suite" >&2; exit 2; }
"$python" -c 'import spf, yaml' 2>/dev/null ||
    { echo "pyspf_compare.sh: needs python3-spf and python3-yaml" >&2; exit 2; }

ours_json="$(RELAYTRUST_SPF_SUITE="$suite" "$bench" --benchmark_filter='^BM_SpfRfc7208Suite$' \
    --benchmark_min_time="$seconds" --benchmark_format=json 2>/dev/null)"
theirs_json="$("$python" "$here/pyspf_bench.py" "$suite" --seconds "$seconds")"

"$python" - "$ours_json" "$theirs_json" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
run = next(b for b in ours["benchmarks"] if b["name"] == "BM_SpfRfc7208Suite")
theirs = json.loads(sys.argv[2])
ours_rate = run["items_per_second"]
theirs_rate = theirs["evaluations_per_second"]
print("SPF evaluations/s over rfc7208-tests.yml (%d cases, in-memory zones, 1 thread)"
      % theirs["cases"])
print("  relaytrust : %12.0f  (%.2f us each)" % (ours_rate, 1e6 / ours_rate))
print("  pyspf      : %12.0f  (%.2f us each; %d/%d cases correct in this run)"
      % (theirs_rate, 1e6 / theirs_rate, theirs["cases_correct"], theirs["cases"]))
print("  ratio      : %12.1fx" % (ours_rate / theirs_rate))
print("  host       : %s CPUs, load average %s" % (ours["context"].get("num_cpus", "?"),
      " ".join(open("/proc/loadavg").read().split()[:3])))
PY
