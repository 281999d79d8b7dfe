#!/bin/bash
# One sieve-examples script against messages relaytrust itself produced.
#
#   1. Every source message in messages/ goes through the real engine,
#      `relaytrust test --policy policy.jsonc --no-auth ARGS --output OUT` (messages.txt gives
#      ARGS and the exit code it must return), so the scripts see exactly what relaytrust
#      delivers: its X-Relaytrust-Result on top, untrusted verdict headers removed.
#   2. sievec (Pigeonhole) compiles the script, with a minimal dovecot.conf that includes the
#      documented sieve-examples/dovecot/90-sieve-relaytrust.conf (spamtest, virustest) and
#      makes the examples directory the :global include location.
#   3. sieve-test runs it on each message; its "Performed actions" and "Implicit keep" are
#      compared with expect/SCRIPT.txt.
#
# usage: sieve_test.sh RELAYTRUST SOURCE_DIR SCRIPT-NAME
# Needs sievec and sieve-test (Debian: dovecot-sieve). No daemon runs; as root, sieve-test
# drops to user nobody, so the work directory is made readable (and the scripts' directory
# writable, for the binaries Pigeonhole saves) for that user.
set -euo pipefail

RT_CLI=$1
SRC=$2
NAME=$3
HERE=$SRC/tests/sieve-examples
EXAMPLES=$SRC/sieve-examples
SCRIPT=$EXAMPLES/$NAME.sieve
EXPECT=$HERE/expect/$NAME.txt

for tool in sievec sieve-test; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "FATAL: $tool missing (Debian package dovecot-sieve; scripts/install-deps.sh)" >&2
        exit 1
    }
done
[ -x "$RT_CLI" ] || { echo "FATAL: $RT_CLI is not executable" >&2; exit 1; }
[ -f "$SCRIPT" ] || { echo "FATAL: no script $SCRIPT" >&2; exit 1; }
[ -f "$EXPECT" ] || { echo "FATAL: no expectations $EXPECT" >&2; exit 1; }

T=$(mktemp -d /tmp/relaytrust-sieve-test.XXXXXX)
cleanup() { local rc=$?; if [ -n "${RT_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi; exit "$rc"; }
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
chmod 755 "$T"
mkdir -p "$T/msg" "$T/scripts"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }

# --- 1. the messages, as relaytrust delivers them --------------------------------------------

while read -r msg want args; do
    [ -z "$msg" ] || [ "${msg:0:1}" = "#" ] && continue
    rc=0
    # shellcheck disable=SC2086  # ARGS is a word list by design
    "$RT_CLI" test --policy "$HERE/policy.jsonc" --no-auth --from alice@example.org \
        --rcpt bob@example.com $args --output "$T/msg/$msg.eml" "$HERE/messages/$msg.eml" \
        >"$T/msg/$msg.log" 2>&1 || rc=$?
    if [ "$rc" != "$want" ]; then
        fail "relaytrust test $msg: exit $rc, want $want"
        cat "$T/msg/$msg.log"
    elif [ "$(grep -c '^X-Relaytrust-Result:' "$T/msg/$msg.eml")" != 1 ]; then
        fail "relaytrust test $msg: not exactly one X-Relaytrust-Result"
    fi
done <"$HERE/messages/messages.txt"
[ "$FAILED" -eq 0 ] || { echo "$PASSED passed, $FAILED failed"; exit 1; }
echo "ok   relaytrust produced $(find "$T/msg" -name "*.eml" | wc -l) messages"

# --- 2. compile --------------------------------------------------------------------------------

cp "$EXAMPLES"/*.sieve "$T/scripts/"
USER_LINES=
if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody "$T/scripts"
    USER_LINES="mail_uid = nobody
mail_gid = $(id -gn nobody)"
fi
cat >"$T/dovecot.conf" <<EOF
# Minimal configuration for sievec and sieve-test: no daemon, no mail store.
base_dir = $T/run
state_dir = $T/state
mail_location = maildir:$T/maildir
log_path = /dev/stderr
$USER_LINES
!include $EXAMPLES/dovecot/90-sieve-relaytrust.conf
plugin {
  sieve_global = file:$T/scripts
}
EOF

if sievec -c "$T/dovecot.conf" "$T/scripts/$NAME.sieve" >"$T/sievec.log" 2>&1 &&
    ! grep -qiE 'error|warning' "$T/sievec.log"; then
    pass "sievec compiles $NAME.sieve"
else
    fail "sievec $NAME.sieve"
    cat "$T/sievec.log"
fi
# Scripts that do not use spamtest/virustest must need no configuration at all (README.md).
if ! grep -qE '"(spamtest|spamtestplus|virustest)"' "$EXAMPLES/$NAME.sieve"; then
    grep -v '^!include' "$T/dovecot.conf" >"$T/dovecot-stock.conf"
    if sievec -c "$T/dovecot-stock.conf" "$T/scripts/$NAME.sieve" "$T/$NAME.stock.svbin" \
        >"$T/sievec-stock.log" 2>&1 && ! grep -qiE 'error|warning' "$T/sievec-stock.log"; then
        pass "sievec compiles $NAME.sieve without the relaytrust Dovecot settings"
    else
        fail "sievec $NAME.sieve without the relaytrust Dovecot settings"
        cat "$T/sievec-stock.log"
    fi
fi
[ "$(id -u)" -eq 0 ] && chown -R nobody "$T/scripts"

# --- 3. run ------------------------------------------------------------------------------------

# The actions sieve-test reports, one line: "fileinto Junk", "vacation", "keep" (INBOX), ...
actions_of() {
    awk '
        /^Performed actions:/ { section = "performed"; next }
        /^Implicit keep:/     { section = "implicit"; next }
        /^START MESSAGE/      { skip = 1; next }
        /^END MESSAGE/        { skip = 0; next }
        skip { next }
        /^ \* store message in folder: / {
            folder = $0; sub(/^ \* store message in folder: /, "", folder)
            out = out (out == "" ? "" : "; ") (folder == "INBOX" ? "keep" : "fileinto " folder)
            next
        }
        /^ \* send vacation message/ { out = out (out == "" ? "" : "; ") "vacation"; next }
        /^ \* / { line = $0; sub(/^ \* /, "", line); out = out (out == "" ? "" : "; ") line }
        END { print out }
    ' "$1"
}

while read -r msg want; do
    [ -z "$msg" ] || [ "${msg:0:1}" = "#" ] && continue
    out=$T/$NAME.$msg.out
    rc=0
    sieve-test -c "$T/dovecot.conf" "$T/scripts/$NAME.sieve" "$T/msg/$msg.eml" >"$out" 2>&1 || rc=$?
    got=$(actions_of "$out")
    if [ "$rc" -eq 0 ] && [ "$got" = "$want" ] && grep -q 'final result: success' "$out" &&
        ! grep -qE ': (Error|Warning|Panic|Fatal):' "$out"; then
        pass "$msg: $got"
    else
        fail "$msg: got '$got' (sieve-test exit $rc), want '$want'"
        sed 's/^/    /' "$out"
        grep -A3 '^X-Relaytrust-Result:' "$T/msg/$msg.eml" | sed 's/^/    | /'
    fi
done <"$EXPECT"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
