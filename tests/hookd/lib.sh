# Helpers for the process-level hookd tests. Sourced, not run.
# Every process a test starts is recorded and stopped on exit, pass or fail.

FAILURES=0
STARTED_PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/relaytrust-hookd-test.XXXXXX")

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

skip() {
    echo "SKIP: $*"
    exit 77
}

require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || skip "$tool is not installed"
    done
}

require_fixtures() {
    FIXTURES="$1/reference/stalwart-fixtures"
    [ -f "$FIXTURES/derived/request-data.json" ] ||
        skip "Stalwart fixtures not found at $FIXTURES (expected ../shared next to the repository)"
}

# start_hookd NAME ARGS... : starts hookd on a free loopback port; sets NAME_PID, NAME_PORT,
# NAME_LOG.
start_hookd() {
    local name=$1
    shift
    local log="$WORK/$name.log" pid port i
    "$HOOKD" --listen 127.0.0.1:0 "$@" 2>"$log" &
    pid=$!
    STARTED_PIDS+=("$pid")
    for i in $(seq 100); do
        port=$(sed -n 's|.*listening on https\{0,1\}://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "FATAL: hookd did not start:"
        cat "$log"
        exit 1
    fi
    printf -v "${name}_PID" %s "$pid"
    printf -v "${name}_PORT" %s "$port"
    printf -v "${name}_LOG" %s "$log"
}

# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        echo "FAIL: $1: expected [$2], got [$3]"
        FAILURES=$((FAILURES + 1))
    fi
}

# check_match DESCRIPTION EXTENDED_REGEX TEXT
check_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: [$3] does not match /$2/"
        FAILURES=$((FAILURES + 1))
    fi
}

finish() {
    if [ "$FAILURES" -ne 0 ]; then
        echo "$FAILURES check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
