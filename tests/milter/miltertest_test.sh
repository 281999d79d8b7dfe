#!/bin/bash
# Runs one miltertest Lua script against relaytrust-milter on a private unix socket (unix, not
# inet: miltertest writes each macro packet and command separately, which costs ~40 ms per
# step on TCP) with tests/milter/miltertest/policy.jsonc.
#
# usage: miltertest_test.sh SCRIPT.lua MILTER_BINARY SOURCE_DIR
set -euo pipefail

SCRIPT=$1
RT_MILTER=$2
RT_SOURCE_DIR=$3
RT_BASE_PORT=0  # no TCP ports here
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

rt_require miltertest

SOCK=$T/run/milter.sock
"$RT_MILTER" --foreground --log stderr --verbose --no-auth --socket "unix:$SOCK" --socket-mode 0600 \
    --policy "$HERE/miltertest/policy.jsonc" >"$T/log/milter.log" 2>&1 &
RT_MILTER_PID=$!
RT_PIDS+=("$RT_MILTER_PID")
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "FATAL: the milter did not create $SOCK" >&2; exit 1; }

if miltertest -D "sock=unix:$SOCK" -D "dir=$HERE/miltertest" -s "$SCRIPT" >"$T/log/miltertest.log" 2>&1; then
    rt_pass "$(basename "$SCRIPT"): $(tail -1 "$T/log/miltertest.log")"
else
    rt_fail "$(basename "$SCRIPT"): $(tail -1 "$T/log/miltertest.log")"
fi
rt_check "the milter is still running" rt_alive "$RT_MILTER_PID"
rt_check "no errors or warnings in the milter log" bash -c "! grep -Eq '(error|warning): ' '$T/log/milter.log'"
rt_check "every decision line has every field, in order" rt_decision_lines_well_formed
if [ "$(basename "$SCRIPT")" = several_messages.lua ]; then
    # Refusals before end of message: one line each, at the stage that refused.
    rt_check "HELO tempfail: one line, no sender yet" rt_log_has milter.log \
        ': stage=ehlo action=tempfail listener=mx client=192\.0\.2\.20 client_port=[0-9-]+ queue=NOQUEUE from=- to=- rule=busy-helo reply="421 4\.7\.0 Busy, try later" '
    rt_check "MAIL reject: one line with the sender" rt_log_has milter.log \
        ': stage=mail action=reject listener=relay-in client=127\.0\.0\.1 client_port=40000 queue=[^ ]+ from=<bulk@spammer\.example> to=- rule=bad-sender reply="553 5\.7\.1 Sender refused" '
    rt_check "RCPT tempfail: one line with the recipient" rt_log_has milter.log \
        ': stage=rcpt action=tempfail .* from=<alice@example\.org> to=<later@example\.net> rule=mailbox-busy reply="450 4\.2\.1 Mailbox busy, 100% full" '
    rt_check "RCPT discard: one line, no reply" rt_log_has milter.log \
        ': stage=rcpt action=discard .* to=<x@blackhole\.example> rule=blackhole reply=- '
    rt_check "one line per refusal: 1 ehlo, 1 mail, 2 rcpt" bash -c \
        "[ \$(grep -cE ': stage=(ehlo|mail|rcpt) ' '$T/log/milter.log') = 4 ]"
fi
rt_finish
