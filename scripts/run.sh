#!/usr/bin/env bash
# The README's first command: install dependencies, build, validate the embedded default
# policy, and run relaytrust-milter and relaytrust-hookd on it in the foreground (loopback
# only; logs on stderr). Ctrl-C or SIGTERM stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
BUILD_DIR=build bash scripts/build.sh

build/cli/relaytrust check

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -x build/milter/relaytrust-milter ]; then
    build/milter/relaytrust-milter --foreground --log stderr &
    pids+=($!)
fi
if [ -x build/hookd/relaytrust-hookd ]; then
    build/hookd/relaytrust-hookd --no-auth &
    pids+=($!)
fi
if [ ${#pids[@]} -eq 0 ]; then
    echo "run.sh: no daemon was built" >&2
    exit 1
fi
echo "run.sh: running ${#pids[@]} daemon(s) on the embedded default policy; Ctrl-C stops them"
wait -n "${pids[@]}"
