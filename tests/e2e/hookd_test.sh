#!/usr/bin/env bash
# End to end, Stalwart front end: relaytrust-hookd started with --dns 127.0.0.1:PORT (a
# throwaway unbound serving the test zone) gets the requests Stalwart 0.16 POSTs at each stage
# (connect, ehlo, mail, rcpt, data; shapes of ../shared/reference/stalwart-fixtures/derived,
# built by stalwart_hook.py) on /hook/relay-in, /hook/mx and /hook/mx-relaxed, and must answer
# what the milter answers Postfix: origin-mode spf=pass as an Authentication-Results addHeader,
# strict SPF fail / DMARC p=reject as reject with a 5xx response, relaxed fail recorded, and a
# dead DNS server as reject with 451 within the deadline.
#
#   hookd_test.sh HOOKD_BINARY BASE_PORT     (ports BASE: unbound, BASE+1: dead DNS; hookd
#                                            listens on a free port)
set -u
HOOKD=$1
BASE_PORT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../hookd/lib.sh"  # WORK, STARTED_PIDS, start_hookd, check, check_match, finish
source "$HERE/e2e_lib.sh"
trap 'exit 143' TERM
trap 'exit 130' INT
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ] || [ "$FAILURES" -ne 0 ]; then
        local f
        for f in "$WORK"/H.log "$WORK"/DEADDNS.log "$WORK"/dns/unbound.log; do
            [ -f "$f" ] || continue
            echo "----- last lines of $f"
            tail -n 30 "$f"
        done
    fi
    cleanup
    exit "$rc"
}
trap on_exit EXIT

export PATH="$PATH:/usr/sbin:/sbin"
for tool in curl unbound unbound-checkconf ss /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "FATAL: $tool is missing (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$HOOKD" ] || { echo "FATAL: $HOOKD is not executable"; exit 1; }

e2e_start_dns_and_messages "$BASE_PORT" "$WORK"

# --no-auth: no HTTP authentication (allowed on loopback only). Sender authentication is on.
start_hookd H --policy "$E2E_POLICY" --dns "127.0.0.1:$DNS_PORT" --no-auth --verbose
start_hookd DEADDNS --policy "$E2E_POLICY" --dns "127.0.0.1:$DEAD_DNS_PORT" --no-auth --verbose

# post PORT PATH REQUEST-FILE -> "HTTP-CODE" ; the answer is in $WORK/answer.json
post() {
    curl -sS --max-time 30 -o "$WORK/answer.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @"$3" "http://127.0.0.1:$1$2"
}

for line in "${E2E_SCENARIOS[@]}"; do
    e2e_scenario "$line"
    port=$H_PORT
    [ "$NAME" = dead-dns ] && port=$DEADDNS_PORT
    path=/hook/$LISTENER
    for stage in connect ehlo mail rcpt data; do
        req=$WORK/req-$NAME-$stage.json
        /usr/bin/python3 "$E2E_HOOK" request --stage "$stage" --client-ip 127.0.0.1 \
            --helo "$HELO" --from "$FROM" --rcpt bob@e2e-relaytrust.net \
            --eml "$WORK/msg/$NAME.eml" >"$req"
        start=$(date +%s%N)
        code=$(post "$port" "$path" "$req")
        ms=$((($(date +%s%N) - start) / 1000000))
        answer=$(/usr/bin/python3 "$E2E_HOOK" show "$WORK/answer.json" 2>&1)
        if [ "$stage" != data ]; then
            check "$NAME: $stage on $path accepted" "200 action=accept" "$code $answer"
            continue
        fi
        check "$NAME: data answered with HTTP 200" 200 "$code"
        if [ "$ACTION" = accept ]; then
            check "$NAME: data action" "action=accept" "$(grep '^action=' <<<"$answer")"
            check "$NAME: Authentication-Results added" \
                "header Authentication-Results: $(e2e_expected_ar "$NAME")" \
                "$(grep '^header Authentication-Results:' <<<"$answer")"
            check "$NAME: X-Relaytrust-Result added" \
                "header X-Relaytrust-Result: $(e2e_expected_result_header "$LISTENER")" \
                "$(grep '^header X-Relaytrust-Result:' <<<"$answer")"
        else
            # Stalwart has no tempfail action: a 4xx reply with reject.
            check "$NAME: data refused with $REPLY" "action=reject
response=$REPLY" "$(grep -E '^(action|response)=' <<<"$answer")"
        fi
        if [ "$NAME" = dead-dns ]; then
            check_match "$NAME: answered within the deadline (${ms} ms)" '^[0-9]{1,4}$' "$ms"
        fi
    done
done

# What the engine logged for the refusals: listener, client and the authentication reason.
log=$(cat "$H_LOG")
check_match "hookd logged the strict SPF refusal with its reason" \
    'listener=mx .*strict SPF: fail for sender-e2e\.org' "$log"
check_match "hookd logged the origin DMARC refusal" \
    'listener=relay-in .*rule=origin-dmarc-reject' "$log"
check_match "the dead-DNS hookd logged the temperror" 'strict SPF: temperror' "$(cat "$DEADDNS_LOG")"

# relay-in from an address that is not the relay: refused at connect, before any DNS.
/usr/bin/python3 "$E2E_HOOK" request --stage connect --client-ip 198.51.100.9 >"$WORK/req-notrelay.json"
code=$(post "$H_PORT" /hook/relay-in "$WORK/req-notrelay.json")
check "relay-in from 198.51.100.9 refused at connect" \
    "200 action=reject
response=554 5.7.1 This port accepts mail only from the AV relay" \
    "$code $(/usr/bin/python3 "$E2E_HOOK" show "$WORK/answer.json")"

check_match "unbound answered hookd's lookups" '127\.0\.0\.1 _spf\.sender-e2e\.org\. TXT IN' \
    "$(cat "$WORK/dns/unbound.log")"

finish
