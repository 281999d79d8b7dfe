#!/usr/bin/env bash
# End to end, CLI: `relaytrust test --dns 127.0.0.1:PORT` against a throwaway unbound serving the
# test zone gives the same results as the milter and hookd: origin-mode spf=pass for the client
# the relay recorded, strict spf=fail / DMARC p=reject as 5xx (exit 10), relaxed fail recorded
# but accepted, and a dead DNS server as temperror -> 451 (exit 11) without hanging.
#
#   cli_test.sh RELAYTRUST_BINARY BASE_PORT     (ports BASE: unbound, BASE+1: dead DNS)
set -u
RELAYTRUST=$1
BASE_PORT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../hookd/lib.sh"  # WORK, STARTED_PIDS, check, check_match, finish, EXIT cleanup
source "$HERE/e2e_lib.sh"
trap 'exit 143' TERM
trap 'exit 130' INT
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ] || [ "$FAILURES" -ne 0 ]; then
        echo "----- last lines of the unbound log"
        tail -n 30 "$WORK/dns/unbound.log" 2>/dev/null
    fi
    cleanup
    exit "$rc"
}
trap on_exit EXIT

command -v unbound >/dev/null || [ -x /usr/sbin/unbound ] || { echo "FATAL: unbound is not installed (scripts/install-deps.sh)"; exit 1; }
export PATH="$PATH:/usr/sbin:/sbin"
[ -x "$RELAYTRUST" ] || { echo "FATAL: $RELAYTRUST is not executable"; exit 1; }

e2e_start_dns_and_messages "$BASE_PORT" "$WORK"

check "the policy is valid" 0 "$("$RELAYTRUST" check "$E2E_POLICY" >/dev/null 2>&1; echo $?)"

for line in "${E2E_SCENARIOS[@]}"; do
    e2e_scenario "$line"
    dns=$DNS_PORT
    [ "$NAME" = dead-dns ] && dns=$DEAD_DNS_PORT
    out_file=$WORK/out-$NAME.eml
    start=$(date +%s%N)
    "$RELAYTRUST" test --dns "127.0.0.1:$dns" --policy "$E2E_POLICY" --listener "$LISTENER" \
        --remote-ip 127.0.0.1 --helo "$HELO" --from "$FROM" --rcpt bob@e2e-relaytrust.net \
        --output "$out_file" "$WORK/msg/$NAME.eml" >"$WORK/$NAME.out" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    out=$(cat "$WORK/$NAME.out")

    case $ACTION in accept) want_rc=0 ;; reject) want_rc=10 ;; tempfail) want_rc=11 ;; esac
    check "$NAME: exit code ($ACTION)" "$want_rc" "$rc"
    check_match "$NAME: auth results spf=$SPF dmarc=$DMARC in $MODE mode for $IP" \
        "auth: spf=$SPF \($MODE, ip ${IP//./\\.}\) dkim=none \(relaxed\) dmarc=$DMARC \($MODE, " "$out"
    if [ "$ACTION" = accept ]; then
        check "$NAME: data stage accepts" "data:    accept" "$(grep '^data:' "$WORK/$NAME.out")"
        if [ -f "$out_file" ]; then
            check "$NAME: Authentication-Results of the --output message" \
                "$(e2e_expected_ar "$NAME")" "$(e2e_header_values "$out_file" Authentication-Results)"
            check "$NAME: X-Relaytrust-Result of the --output message" \
                "$(e2e_expected_result_header "$LISTENER")" \
                "$(e2e_header_values "$out_file" X-Relaytrust-Result)"
        else
            check "$NAME: --output written" "yes" "no"
        fi
    else
        check "$NAME: data stage answers $REPLY" "data:    $ACTION $REPLY" \
            "$(grep '^data:' "$WORK/$NAME.out")"
        check "$NAME: no --output for a refused message" "absent" \
            "$([ -e "$out_file" ] && echo present || echo absent)"
    fi
    if [ "$NAME" = dead-dns ]; then
        # auth.dns.timeout_ms is 1500, auth.deadline_ms 4000: well under 10 s, never a hang.
        check_match "$NAME: answered within the deadline (${ms} ms)" '^[0-9]{1,4}$' "$ms"
    fi
    [ "$rc" = "$want_rc" ] || { echo "----- output of $NAME"; cat "$WORK/$NAME.out"; }
done

# The lookups went through the real server: the include: and a: of sender-e2e.org, the DMARC
# records, and the tree walk's _dmarc.org (NXDOMAIN from the static org. zone).
log=$(cat "$WORK/dns/unbound.log")
for q in "_spf.sender-e2e.org. TXT" "mail.sender-e2e.org. A" "_dmarc.sender-e2e.org. TXT" \
    "_dmarc.softfail-e2e.org. TXT" "local-e2e.org. TXT"; do
    check_match "unbound answered $q" "127\.0\.0\.1 ${q//./\\.} IN" "$log"
done

finish
