#!/bin/bash
# End to end, Postfix front end: a private Postfix (tests/milter/lib.sh) with relaytrust-milter
# started with --dns 127.0.0.1:PORT, a throwaway unbound serving the test zone there, and swaks
# as the client:
#   relay-in    (origin)  mail relayed by the trusted relay (127.0.0.1) for a sender whose SPF
#                         authorises the client named in the relay's Received header: delivered,
#                         spf=pass (origin: client 203.0.113.7 ...) in Authentication-Results;
#                         the same with an unauthorised client: refused by the policy's rule
#   mx          (strict)  direct delivery from 127.0.0.1, which the sender's SPF does not list:
#                         550 5.7.23; SPF softfail + DMARC p=reject: 550 5.7.1 (DMARC); an
#                         authorised sender: delivered with spf=pass
#   mx-relaxed  (relaxed) the same unauthorised delivery: spf=fail and dmarc=fail recorded,
#                         delivered
#   mx-deaddns  (strict)  a second milter whose DNS server does not exist: temperror, 451 within
#                         the deadline, no hang
#
# usage: milter_test.sh MILTER_BINARY SOURCE_DIR BASE_PORT
#   ports BASE..BASE+7 as tests/milter/lib.sh uses them (mx, relay-in, proxy, sink, milter,
#   nomilter, EXTRA1 = mx-relaxed, EXTRA2 = mx-deaddns), BASE+8 the dead-DNS milter, BASE+9
#   unbound, BASE+10 the DNS port where nothing listens.
set -euo pipefail

RT_MILTER=$1
RT_SOURCE_DIR=$2
RT_BASE_PORT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../milter/lib.sh"
. "$HERE/e2e_lib.sh"

PORT_RELAXED=$PORT_EXTRA1
PORT_DEADDNS=$PORT_EXTRA2
PORT_MILTER_DEADDNS=$((RT_BASE_PORT + 8))
PORT_DNS=$((RT_BASE_PORT + 9))
PORT_DEAD_DNS=$((RT_BASE_PORT + 10))

rt_require postfix smtp-sink swaks ss unbound unbound-checkconf
rt_ports_free $(seq "$RT_BASE_PORT" $((RT_BASE_PORT + 10)))
e2e_dead_dns_port "$PORT_DEAD_DNS"

# e2e_start_milter PORT DNS-PORT LOG-NAME: like rt_start_milter, but with sender
# authentication on (--dns instead of --no-auth) and the e2e policy.
e2e_start_milter() {
    "$RT_MILTER" --foreground --log stderr --verbose --socket "inet:127.0.0.1:$1" \
        --policy "$E2E_POLICY" --dns "127.0.0.1:$2" >>"$T/log/$3" 2>&1 &
    RT_PIDS+=("$!")
    rt_wait_listen "$1"
}

# e2e_send PORT FILE FROM HELO -> RC (swaks exit code), LAST (last server reply), MS (duration)
e2e_send() {
    local out start
    start=$(date +%s%N)
    out=$(swaks --server 127.0.0.1 --port "$1" --from "$3" --to bob@e2e-relaytrust.net \
        --helo "$4" --timeout 30 --data "@$2" 2>&1) && RC=0 || RC=$?
    MS=$((($(date +%s%N) - start) / 1000000))
    printf '%s\n' "$out" >>"$T/log/swaks.log"
    LAST=$(printf '%s\n' "$out" | grep -E '^<(-|\*\*) +[0-9]{3}[ -]' |
        grep -vE '^<(-|\*\*) +(221|354|250-)' | tail -1 || true)
}

RT_EXTRA_MASTER_CF="127.0.0.1:$PORT_RELAXED inet n - n - - smtpd
  -o syslog_name=postfix-test/mx-relaxed
  -o milter_macro_daemon_name=mx-relaxed
127.0.0.1:$PORT_DEADDNS inet n - n - - smtpd
  -o syslog_name=postfix-test/mx-deaddns
  -o milter_macro_daemon_name=mx
  -o smtpd_milters=inet:127.0.0.1:$PORT_MILTER_DEADDNS"

e2e_start_unbound "$T/dns" "$PORT_DNS"
RT_PIDS+=("$E2E_UNBOUND_PID")
cp "$T/dns/unbound.conf" "$T/log/unbound.conf"
ln -s "$T/dns/unbound.log" "$T/log/unbound.log"  # shown by the teardown on failure
e2e_build_messages "$T/msg"

rt_setup_postfix
rt_start_sink
e2e_start_milter "$PORT_MILTER" "$PORT_DNS" milter.log
e2e_start_milter "$PORT_MILTER_DEADDNS" "$PORT_DEAD_DNS" milter-deaddns.log
rt_start_postfix
rt_wait_listen "$PORT_RELAXED"
rt_wait_listen "$PORT_DEADDNS"

for line in "${E2E_SCENARIOS[@]}"; do
    e2e_scenario "$line"
    case $LISTENER in
        relay-in) port=$PORT_RELAY ;;
        mx-relaxed) port=$PORT_RELAXED ;;
        *) port=$PORT_MX ;;
    esac
    log=milter.log
    if [ "$NAME" = dead-dns ]; then port=$PORT_DEADDNS log=milter-deaddns.log; fi

    e2e_send "$port" "$T/msg/$NAME.eml" "$FROM" "$HELO"
    if [ "$ACTION" = accept ]; then
        if [ "$RC" = 0 ] && [[ "$LAST" =~ ^\<-\ +250\ .*queued\ as ]]; then
            rt_pass "$NAME: delivered ($LAST)"
        else
            rt_fail "$NAME: swaks rc=$RC last reply '$LAST'; expected rc=0 and '<- 250 ... queued as'"
        fi
        if f=$(rt_in_sink "e2e $NAME"); then
            want=$(e2e_expected_ar "$NAME")
            seen=$(e2e_header_values "$f" Authentication-Results)
            if [ "$seen" = "$want" ]; then
                rt_pass "$NAME: delivered copy has Authentication-Results: $seen"
            else
                rt_fail "$NAME: Authentication-Results: expected [$want], seen [$seen]"
            fi
            want=$(e2e_expected_result_header "$LISTENER")
            seen=$(e2e_header_values "$f" X-Relaytrust-Result)
            if [ "$seen" = "$want" ]; then
                rt_pass "$NAME: delivered copy has X-Relaytrust-Result: $seen"
            else
                rt_fail "$NAME: X-Relaytrust-Result: expected [$want], seen [$seen]"
            fi
        else
            rt_fail "$NAME: message not delivered to the sink"
        fi
    else
        if [ "$RC" = 26 ] && [ "$LAST" = "<** $REPLY" ]; then
            rt_pass "$NAME: swaks sees '$LAST' after DATA (rc=$RC)"
        else
            rt_fail "$NAME: swaks rc=$RC last reply '$LAST'; expected rc=26 and '<** $REPLY'"
        fi
        # Postfix logs the reply without its three-digit code.
        rt_check "$NAME: Postfix logged the milter's refusal" rt_log_has maillog \
            "milter-reject: END-OF-MESSAGE from [^ ]*\\[127\\.0\\.0\\.1\\]: $(printf '%s' "${REPLY#* }" | sed 's/\./\\./g');"
    fi
    rt_check "$NAME: milter logged action=$ACTION on listener $LISTENER" rt_log_has "$log" \
        "stage=data action=$ACTION listener=$LISTENER client=127\\.0\\.0\\.1[: ].* from=<$FROM>"
    if [ "$NAME" = dead-dns ]; then
        # auth.dns.timeout_ms is 1500, auth.deadline_ms 4000: no hang, whatever the DNS does.
        if [ "$MS" -lt 10000 ]; then
            rt_pass "$NAME: the whole SMTP session took $MS ms (< 10 s)"
        else
            rt_fail "$NAME: the SMTP session took $MS ms (expected < 10 s)"
        fi
    fi
done

rt_check "the refusals name the authentication reason in the milter log" rt_log_has milter.log \
    'action=reject listener=mx .*rule=auth reply="550 5\.7\.23 SPF validation failed"'
rt_check "unbound answered the milter's lookups (SPF include: of sender-e2e.org)" \
    rt_log_has unbound.log '127\.0\.0\.1 _spf\.sender-e2e\.org\. TXT IN'
rt_check "no libmilter or milter errors logged" \
    bash -c "! grep -Eq 'error:|warning:' '$T/log/milter.log' '$T/log/milter-deaddns.log'"
rt_finish
