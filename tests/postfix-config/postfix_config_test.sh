#!/bin/bash
# `relaytrust postfix-config` end to end: generate main.cf and master.cf snippets for
# policy.jsonc.in, load them into a throwaway Postfix in place of the harness's own milter
# settings and smtpd services, run relaytrust-milter behind them, and send mail through every
# generated service:
#   mx           --listen-address for the default listener; forged verdict headers stripped
#   relay-in     {daemon_name}; trusted relay accepted and believed, a non-relay client refused
#                by the policy's connect rule; fail closed (tempfail) when the milter is down
#   relay-proxy  smtpd_upstream_proxy_protocol: the proxied client is judged; --restrict-relays
#                refuses a proxied non-relay client; fail open (accept) when the milter is down
#   relay-alt    no daemon_name: recognised by {daemon_port}; the relay network's exclusion
#                reaches Postfix's mynetworks in first-match order
#
# usage: postfix_config_test.sh RELAYTRUST MILTER SOURCE_DIR BASE_PORT
#   ports BASE..BASE+7 as tests/milter/lib.sh names them; EXTRA1 is relay-alt.
set -euo pipefail

RT_CLI=$1
RT_MILTER=$2  # used by lib.sh
RT_SOURCE_DIR=$3
RT_BASE_PORT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$RT_SOURCE_DIR/tests/milter/lib.sh"

PORT_ALT=$PORT_EXTRA1
PIPE="/usr/bin/python3 $RT_SOURCE_DIR/tests/milter/proxy_pipe.py"

rt_require postfix postconf smtp-sink swaks ss /usr/bin/python3
[ -x "$RT_CLI" ] || { echo "FATAL: $RT_CLI is not executable" >&2; exit 1; }
rt_ports_free $(seq "$RT_BASE_PORT" $((RT_BASE_PORT + 7)))

# --- generate ------------------------------------------------------------------------------

POLICY=$T/policy.jsonc
sed -e "s/@PORT_RELAY@/$PORT_RELAY/g" -e "s/@PORT_PROXY@/$PORT_PROXY/g" \
    -e "s/@PORT_ALT@/$PORT_ALT/g" "$HERE/policy.jsonc.in" >"$POLICY"
rt_check "test policy is valid" "$RT_CLI" check "$POLICY"

GEN=(postfix-config --policy "$POLICY" --milter "inet:127.0.0.1:$PORT_MILTER"
     --listen-address "mx=127.0.0.1:$PORT_MX" --restrict-relays)
"$RT_CLI" "${GEN[@]}" --main-cf >"$T/main.cf.part" 2>"$T/log/generate.log"
"$RT_CLI" "${GEN[@]}" --master-cf >"$T/master.cf.part" 2>>"$T/log/generate.log"
cp "$T/main.cf.part" "$T/master.cf.part" "$T/log/"  # shown by the teardown on failure
rt_check "generation wrote nothing to stderr" bash -c "[ ! -s '$T/log/generate.log' ]"

# --- load into Postfix ---------------------------------------------------------------------

rt_setup_postfix
# Out with the harness's own milter settings and smtpd services, in with the generated ones.
# shellcheck disable=SC2046  # one parameter name per word
postconf -c "$ETC" -X $(sed -n 's/^\([a-z_0-9]*\) =.*/\1/p' "$T/main.cf.part")
postconf -c "$ETC" -MX "127.0.0.1:$PORT_MX/inet" "127.0.0.1:$PORT_RELAY/inet" \
    "127.0.0.1:$PORT_PROXY/inet" "127.0.0.1:$PORT_NOMILTER/inet"
cat "$T/main.cf.part" >>"$ETC/main.cf"
cat "$T/master.cf.part" >>"$ETC/master.cf"
rt_check "postfix check accepts the generated configuration" \
    bash -c "postfix -c '$ETC' check >'$T/log/check.log' 2>&1 && [ ! -s '$T/log/check.log' ]"

# postconf reads back what the snippets set.
param() { postconf -c "$ETC" -h "$1"; }
svc() { postconf -c "$ETC" -Ph "127.0.0.1:$1/inet/$2"; }
rt_check "main.cf: smtpd_milters" [ "$(param smtpd_milters)" = "inet:127.0.0.1:$PORT_MILTER" ]
rt_check "main.cf: milter_protocol = 6" [ "$(param milter_protocol)" = 6 ]
rt_check "main.cf: non_smtpd_milters empty" [ -z "$(param non_smtpd_milters)" ]
rt_check "main.cf: milter_default_action = tempfail (default listener mx)" \
    [ "$(param milter_default_action)" = tempfail ]
rt_check "main.cf: connect macros include {daemon_port} and {client_addr}" \
    bash -c "postconf -c '$ETC' -h milter_connect_macros | grep -q '{daemon_port} {client_addr}'"
rt_check "master.cf: relay-in named by milter_macro_daemon_name" \
    [ "$(svc "$PORT_RELAY" milter_macro_daemon_name)" = relay-in ]
rt_check "master.cf: relay-in fails closed" [ "$(svc "$PORT_RELAY" milter_default_action)" = tempfail ]
rt_check "master.cf: relay-proxy fails open" [ "$(svc "$PORT_PROXY" milter_default_action)" = accept ]
rt_check "master.cf: relay-proxy speaks PROXY" \
    [ "$(svc "$PORT_PROXY" smtpd_upstream_proxy_protocol)" = haproxy ]
rt_check "master.cf: relay-alt restricted to its relays, exclusion first" \
    [ "$(svc "$PORT_ALT" mynetworks)" = '!127.0.0.2/32,127.0.0.0/29' ]
rt_check "master.cf: relay-alt has no daemon name (recognised by port)" \
    bash -c "! postconf -c '$ETC' -P '127.0.0.1:$PORT_ALT/inet/milter_macro_daemon_name' 2>/dev/null | grep -q ."
rt_check "master.cf: mx on --listen-address, named mx" \
    [ "$(svc "$PORT_MX" milter_macro_daemon_name)" = mx ]

rt_start_sink
rt_start_milter --policy "$POLICY"
rt_start_postfix
rt_wait_listen "$PORT_PROXY"
rt_wait_listen "$PORT_ALT"

# --- mail through each service -------------------------------------------------------------

relay_spam() {  # the relay's verdict headers above its own Received hop
    printf 'X-Spam-Flag: YES\\nX-Spam-Status: Yes, score=6.1 required=5.0 tests=BAYES_99\\n%s' \
        "$RT_RELAY_HOP"
}
result_of() { grep -m1 '^X-Relaytrust-Result:' "$1" || true; }
# expect_result SUBJECT REGEX: the delivered copy's result header matches.
expect_result() {
    local f
    if f=$(rt_in_sink "$1"); then
        rt_check "$1: $2" bash -c "grep -m1 '^X-Relaytrust-Result:' '$f' | grep -Eq -- '$2'"
        DELIVERED=$f
    else
        rt_fail "$1: not delivered to the sink"
        DELIVERED=
    fi
}

# mx: the default listener, on the address given with --listen-address.
rt_message "$T/msg/mx.eml" "via mx" 'X-Spam-Status: No, score=-50.0 required=5.0 tests=FORGED\nX-Spam-Flag: NO'
rt_expect "mx: delivered" "$PORT_MX" "$T/msg/mx.eml" 0 '^<- +250 .*queued as'
expect_result "via mx" '; listener=mx; trusted=no; spam=unknown; .*; stripped=2$'
[ -n "$DELIVERED" ] && rt_check "mx: forged verdict headers removed" \
    bash -c "! grep -qiE '^X-Spam-(Status|Flag):' '$DELIVERED'"

# relay-in: the trusted relay (127.0.0.1) is believed; anyone else is refused at connect.
rt_message "$T/msg/relay.eml" "via relay-in" "$(relay_spam)"
rt_expect "relay-in: trusted relay delivered" "$PORT_RELAY" "$T/msg/relay.eml" 0 '^<- +250 .*queued as'
expect_result "via relay-in" '; action=accept; rule=spam-tag; listener=relay-in; trusted=yes; relay=av-relay; spam=yes; score=6\.10;'
[ -n "$DELIVERED" ] && rt_check "relay-in: subject tagged" grep -q '^Subject: \[SPAM\] via relay-in$' "$DELIVERED"
rt_message "$T/msg/notrelay.eml" "relay-in from elsewhere"
rt_expect "relay-in: 127.0.0.2 refused at connect by the policy" "$PORT_RELAY" "$T/msg/notrelay.eml" 21 \
    '^<\*\* +554 ' --local-interface 127.0.0.2
rt_check "relay-in: refusal logged with the rule" rt_log_has milter.log \
    'stage=connect action=reject listener=relay-in client=127\.0\.0\.2[: ].*rule=relay-in-only-from-relay'
rt_check "relay-in: syslog_name from the snippet" rt_log_has maillog 'postfix/relay-in/smtpd\['

# relay-proxy: TCP peer 127.0.0.2, proxied client 127.0.0.1 (the relay) -> believed.
rt_message "$T/msg/proxy.eml" "via relay-proxy" "$(relay_spam)"
rt_expect "relay-proxy: proxied relay delivered" pipe "$T/msg/proxy.eml" 0 '^<- +250 .*queued as' \
    --pipe "$PIPE 127.0.0.2 127.0.0.1 $PORT_PROXY 'PROXY TCP4 127.0.0.1 203.0.113.25 40001 25'"
expect_result "via relay-proxy" '; listener=relay-proxy; trusted=yes; relay=av-relay; spam=yes; score=6\.10;'
rt_check "relay-proxy: the engine judged the proxied client" rt_log_has milter.log \
    'stage=data action=accept listener=relay-proxy client=127\.0\.0\.1(:| client_port=)40001 '
# A proxied client outside the relays' networks: --restrict-relays has Postfix refuse it.
rt_message "$T/msg/proxy-bad.eml" "relay-proxy from elsewhere"
rt_expect "relay-proxy: proxied 198.51.100.7 refused by the generated restriction" pipe \
    "$T/msg/proxy-bad.eml" 24 '^<\*\* +554 5\.7\.1 .*Client host rejected' \
    --pipe "$PIPE 127.0.0.1 127.0.0.1 $PORT_PROXY 'PROXY TCP4 198.51.100.7 203.0.113.25 40002 25'"

# relay-alt: recognised by port; 127.0.0.3 is in the relay pool, 127.0.0.2 is excluded.
rt_message "$T/msg/alt.eml" "via relay-alt" "$(relay_spam)"
rt_expect "relay-alt: 127.0.0.3 delivered" "$PORT_ALT" "$T/msg/alt.eml" 0 '^<- +250 .*queued as' \
    --local-interface 127.0.0.3
expect_result "via relay-alt" '; listener=relay-alt; trusted=yes; relay=alt-relay; spam=yes; score=6\.10;'
rt_message "$T/msg/alt-bad.eml" "relay-alt from the excluded address"
rt_expect "relay-alt: excluded 127.0.0.2 refused by the generated restriction" "$PORT_ALT" \
    "$T/msg/alt-bad.eml" 24 '^<\*\* +554 5\.7\.1 .*Client host rejected' --local-interface 127.0.0.2

# --- the milter down: milter_default_action per listener ---------------------------------

rt_stop_milter
rt_message "$T/msg/down-closed.eml" "relay-in without milter" "$(relay_spam)"
rt_expect "milter down: relay-in fails closed (4xx)" "$PORT_RELAY" "$T/msg/down-closed.eml" 23 \
    '^<\*\* +451 4\.7\.1 '
rt_message "$T/msg/down-open.eml" "relay-proxy without milter" "$(relay_spam)"
rt_expect "milter down: relay-proxy fails open (delivered)" pipe "$T/msg/down-open.eml" 0 \
    '^<- +250 .*queued as' \
    --pipe "$PIPE 127.0.0.2 127.0.0.1 $PORT_PROXY 'PROXY TCP4 127.0.0.1 203.0.113.25 40003 25'"
if f=$(rt_in_sink "relay-proxy without milter"); then
    rt_check "milter down: the unfiltered copy has no result header" \
        bash -c "! grep -q '^X-Relaytrust-Result:' '$f'"
else
    rt_fail "relay-proxy without milter: not delivered to the sink"
fi

rt_finish
