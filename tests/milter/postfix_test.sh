#!/bin/bash
# relaytrust-milter against a real Postfix: the engine issue's scenarios end to end.
#
# usage: postfix_test.sh GROUP MILTER_BINARY SOURCE_DIR BASE_PORT
#   core   trusted spam reject, forged headers stripped, relay-in refused from a non-relay
#          address, quarantine into the hold queue, subject tag and result header; one
#          decision line per message with every field, and the same decisions in /metrics
#   proxy  PROXY protocol: the engine judges the proxied client address, not the TCP peer
#   reload SIGHUP swaps the policy; a broken file keeps the old one and names file:line:col;
#          the policy generation and reload counters in /metrics and the decision lines
#   tls    STARTTLS and SASL AUTH: the TLS macros of the second HELO and {auth_authen} reach
#          the engine (tls-policy.jsonc)
set -euo pipefail

GROUP=$1
RT_MILTER=$2
RT_SOURCE_DIR=$3
RT_BASE_PORT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

rt_require postfix postqueue postcat smtp-sink swaks ss openssl saslpasswd2 curl /usr/bin/python3
rt_ports_free $(seq "$RT_BASE_PORT" $((RT_BASE_PORT + 7)))

spam_headers() {  # SCORE YES|No -> the relay's verdict headers above its own Received hop
    printf 'X-Spam-Flag: %s\\nX-Spam-Status: %s, score=%s required=5.0 tests=BAYES_99,URIBL_BLACK\\n\\tautolearn=no version=4.0.0\\n%s' \
        "$([ "$2" = Yes ] && echo YES || echo NO)" "$2" "$1" "$RT_RELAY_HOP"
}

# A 30 KB folded header and 1000 headers, 99 of them forged X-Spam-Status lines.
big_header_message() {
    {
        printf 'X-Long:'
        local k
        for k in $(seq 400); do printf ' %s\n' "$(printf 'x%.0s' $(seq 73))"; done
        for k in $(seq 998); do
            if [ $((k % 10)) = 0 ]; then
                printf 'X-Spam-Status: No, score=-%d.0 required=5.0 tests=FORGED_%d\n' "$k" "$k"
            else
                printf 'X-Filler-%d: value %d\n' "$k" "$k"
            fi
        done
        printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: many headers\n\nbody\n'
    } >"$1"
}

result_header_above_postfix_received() {
    rt_headers_of "$1" | grep -A1 '^X-Relaytrust-Result:' | tail -1 |
        grep -q '^Received: from client\.example\.org .*'
}

nothing_decided_yet() { rt_metrics && [ "$(rt_metric_sum relaytrust_milter_decisions_total)" = 0 ]; }

# ---------------------------------------------------------------------------------------------
core() {
    rt_setup_postfix
    rt_start_sink
    rt_start_milter --metrics "127.0.0.1:$PORT_METRICS"
    rt_start_postfix
    rt_check "metrics endpoint up, nothing decided yet" nothing_decided_yet
    local qids=()

    # 1. The trusted relay says spam, score 15: the 5xx reaches the SMTP client.
    rt_message "$T/msg/reject.eml" "relay spam reject" "$(spam_headers 15.0 Yes)"
    rt_expect "trusted spam 15 is rejected" "$PORT_RELAY" "$T/msg/reject.eml" 26 \
        '^<\*\* +550 5\.7\.1 Message rejected as spam'
    rt_check "reject logged: one line, every field" rt_log_has milter.log \
        ': stage=data action=reject listener=relay-in client=127\.0\.0\.1 client_port=[0-9]+ queue=[0-9A-Za-z]+ from=<sender@example\.org> to=- rule=spam-reject reply="550 5\.7\.1 Message rejected as spam" relay=av-relay trusted=yes spam=yes score=15\.00 virus=no stripped=0 spf=none dkim=none dmarc=none edits=0 engine_us=[0-9]+ generation=1 failure=- reasons="rule .spam-reject. matched[^"]*"$'

    # 2. Forged verdict headers on the public listener: delivered, every forged copy removed,
    #    and a forged "spam" can no more get mail refused than a forged "ham" can get it in.
    rt_message "$T/msg/forged.eml" "public forged" \
        'X-Spam-Status: No, score=-50.0 required=5.0 tests=ALL_TRUSTED\nX-Spam-Flag: NO\nX-Relaytrust-Result: mx.test.example; action=accept; trusted=yes\nX-Spam-Status: Yes, score=99.0 required=5.0 tests=FORGED'
    rt_expect "forged headers on the public listener: delivered" "$PORT_MX" "$T/msg/forged.eml" 0 \
        '^<- +250 .*queued as'
    qids+=("$QID")
    rt_check "forged: decision line says mx, untrusted, 4 stripped" rt_log_has milter.log \
        ": stage=data action=accept listener=mx client=127\\.0\\.0\\.1 client_port=[0-9]+ queue=$QID from=<sender@example\\.org> to=- rule=none reply=- relay=- trusted=no spam=unknown score=- virus=no stripped=4 spf=none dkim=none dmarc=none edits=[0-9]+ engine_us=[0-9]+ generation=1 failure=- reasons="
    local f
    if f=$(rt_in_sink "public forged"); then
        rt_check "forged X-Spam-Status gone from the delivered copy" \
            bash -c "! grep -qi '^X-Spam-Status:' '$f'"
        rt_check "forged X-Spam-Flag gone" bash -c "! grep -qi '^X-Spam-Flag:' '$f'"
        rt_check "exactly one X-Relaytrust-Result, ours" \
            bash -c "[ \$(grep -ci '^X-Relaytrust-Result:' '$f') = 1 ]"
        rt_check "result header: listener=mx, untrusted, 4 stripped" \
            grep -Eq '^X-Relaytrust-Result: [^ ].*; action=accept; rule=none; listener=mx; trusted=no; spam=unknown; score=0\.00; virus=no; stripped=4$' "$f"
    else
        rt_fail "forged: message not delivered to the sink"
    fi

    # 3. relay-in from an address that is not the relay: refused when the client connects.
    rt_message "$T/msg/notrelay.eml" "not from relay"
    rt_expect "relay-in from 127.0.0.2 refused at connect" "$PORT_RELAY" "$T/msg/notrelay.eml" 21 \
        '^<\*\* +554 ' --local-interface 127.0.0.2
    rt_check "connect refusal logged: NOQUEUE, nothing known past connect" rt_log_has milter.log \
        ': stage=connect action=reject listener=relay-in client=127\.0\.0\.2 client_port=[0-9]+ queue=NOQUEUE from=- to=- rule=relay-in-only-from-relay reply="554 5\.7\.1 This port accepts mail only from the AV relay" relay=- trusted=- spam=- score=- virus=- stripped=- spf=- dkim=- dmarc=- edits=0 engine_us=[0-9]+ generation=1 failure=- reasons='
    rt_check "Postfix logged the milter's 554 at CONNECT" rt_log_has maillog \
        'milter-reject: CONNECT from .*127\.0\.0\.2.*: 554 5\.7\.1 This port accepts mail only from the AV relay'

    # 4. Score 8.5: quarantine, i.e. the message waits in Postfix's hold queue (nothing lost).
    rt_message "$T/msg/hold.eml" "relay spam quarantine" "$(spam_headers 8.5 Yes)"
    rt_expect "trusted spam 8.5 accepted for quarantine" "$PORT_RELAY" "$T/msg/hold.eml" 0 \
        '^<- +250 .*queued as'
    local hold_qid=$QID
    qids+=("$QID")
    rt_check "quarantined message is in the hold queue ($hold_qid)" \
        bash -c "postqueue -c '$ETC' -j | grep -F '\"queue_id\": \"$hold_qid\"' | grep -q '\"queue_name\": \"hold\"'"
    rt_check "hold queue file exists" bash -c "[ -n \"\$(find '$SPOOL/hold' -type f -name '$hold_qid')\" ]"
    rt_check "held copy carries the result header and the trusted verdict" \
        bash -c "postcat -c '$ETC' -hq '$hold_qid' | grep -q '^X-Relaytrust-Result: .*action=quarantine; rule=spam-quarantine; listener=relay-in; trusted=yes; relay=av-relay; spam=yes; score=8.50' &&
                 postcat -c '$ETC' -hq '$hold_qid' | grep -q '^X-Spam-Status: Yes, score=8.5'"
    rt_check "Postfix logged milter-hold" rt_log_has maillog "$hold_qid: milter-hold: END-OF-MESSAGE"
    rt_check "quarantine decision logged with the queue ID and the relay's verdict" rt_log_has milter.log \
        ": stage=data action=quarantine listener=relay-in client=127\\.0\\.0\\.1 client_port=[0-9]+ queue=$hold_qid from=<sender@example\\.org> to=- rule=spam-quarantine reply=- relay=av-relay trusted=yes spam=yes score=8\\.50 virus=no stripped=0 spf=none dkim=none dmarc=none edits=[0-9]+ engine_us=[0-9]+ generation=1 failure=- reasons="

    # 5. Score 6.1: delivered with the subject tag and the result header.
    rt_message "$T/msg/tag.eml" "relay spam tag" "$(spam_headers 6.1 Yes)"
    rt_expect "trusted spam 6.1 delivered" "$PORT_RELAY" "$T/msg/tag.eml" 0 '^<- +250 .*queued as'
    qids+=("$QID")
    if f=$(rt_in_sink "relay spam tag"); then
        rt_check "subject tagged, one space after the colon" grep -q '^Subject: \[SPAM\] relay spam tag$' "$f"
        rt_check "result header: trusted relay, spam, score 6.10" \
            grep -Eq '^X-Relaytrust-Result: [^ ].*; action=accept; rule=spam-tag; listener=relay-in; trusted=yes; relay=av-relay; spam=yes; score=6\.10; virus=no; stripped=0$' "$f"
        rt_check "the relay's own verdict header is kept" grep -q '^X-Spam-Status: Yes, score=6.1 ' "$f"
    else
        rt_fail "tag: message not delivered to the sink"
    fi

    # 6. Very long and very many headers through Postfix: all 99 forged copies go.
    big_header_message "$T/msg/big.eml"
    rt_expect "30 KB header and 1000 headers delivered" "$PORT_MX" "$T/msg/big.eml" 0 '^<- +250 .*queued as'
    qids+=("$QID")
    if f=$(rt_in_sink "many headers"); then
        rt_check "1000 headers: no forged X-Spam-Status left" bash -c "! grep -qi '^X-Spam-Status:' '$f'"
        rt_check "1000 headers: result header counts 99 stripped" grep -q '^X-Relaytrust-Result: .*listener=mx; trusted=no; .*stripped=99$' "$f"
        rt_check "1000 headers: the 30 KB header arrives whole" \
            bash -c "[ \$(sed -n '/^X-Long:/,/^X-Filler-1:/p' '$f' | tr -cd x | wc -c) = 29200 ]"
        rt_check "1000 headers: fillers kept" bash -c "[ \$(grep -c '^X-Filler-' '$f') = 899 ]"
    else
        rt_fail "1000 headers: message not delivered to the sink"
    fi

    # 7. Ham from the relay: delivered untouched apart from the result header.
    rt_message "$T/msg/ham.eml" "relay ham" "$(spam_headers 1.2 No)"
    rt_expect "trusted ham delivered" "$PORT_RELAY" "$T/msg/ham.eml" 0 '^<- +250 .*queued as'
    qids+=("$QID")
    if f=$(rt_in_sink "relay ham"); then
        rt_check "ham: subject untouched, spam=no" \
            bash -c "grep -q '^Subject: relay ham$' '$f' && grep -q '^X-Relaytrust-Result: .*trusted=yes; relay=av-relay; spam=no; score=1.20' '$f'"
    else
        rt_fail "ham: message not delivered to the sink"
    fi

    # What Postfix 3.7 shows the milter: NOT its own Received header (the first header seen is
    # the message's own first line), while smfi_insheader(0) lands above that hidden Received.
    # The connect macros arrive through smfi_setsymlist although main.cf keeps Postfix's default
    # milter_connect_macros.
    rt_check "Postfix hides its own Received header from the milter" rt_log_has milter.log \
        ': headers seen: \[X-Spam-Flag: NO\] \[X-Spam-Status: No, score=1\.2 '
    if f=$(rt_in_sink "relay ham"); then
        rt_check "inserted result header sits right above Postfix's own Received" \
            result_header_above_postfix_received "$f"
    fi
    rt_check "connect macros requested with smfi_setsymlist arrive" rt_log_has milter.log \
        'connect: .* j=mx\.test\.example \{daemon_name\}=relay-in \{daemon_addr\}=127\.0\.0\.1 \{daemon_port\}='"$PORT_RELAY"' \{client_addr\}=127\.0\.0\.1 \{client_port\}=[0-9]+ \{client_name\}='
    rt_check "no libmilter or milter errors logged" bash -c "! grep -Eq 'error:|warning:' '$T/log/milter.log'"

    # Observability: 7 SMTP sessions, 7 decisions (6 ends of message, 1 connect refusal), each
    # one log line and each counted once in /metrics.
    rt_check "7 decision lines for 7 decisions" bash -c "[ $(rt_decision_lines) = 7 ]"
    local q
    for q in "${qids[@]}"; do
        rt_check "exactly one decision line for queue ID $q" \
            bash -c "[ \$(grep -cE ': stage=data .* queue=$q ' '$T/log/milter.log') = 1 ]"
    done
    # Postfix closes its milter connection when the SMTP session ends, a moment after swaks.
    local _
    for _ in $(seq 50); do
        rt_metrics && [ "$(rt_metric relaytrust_milter_connections_active)" = 0 ] && break
        sleep 0.1
    done
    rt_check "/metrics is Prometheus text 0.0.4" \
        grep -qi '^Content-Type: text/plain; version=0\.0\.4' "$T/log/metrics.headers"
    rt_check "decisions: 1 reject at data" rt_metric_is 'relaytrust_milter_decisions_total{stage="data",action="reject"}' 1
    rt_check "decisions: 4 accepts at data" rt_metric_is 'relaytrust_milter_decisions_total{stage="data",action="accept"}' 4
    rt_check "decisions: 1 quarantine at data" rt_metric_is 'relaytrust_milter_decisions_total{stage="data",action="quarantine"}' 1
    rt_check "decisions: 1 reject at connect" rt_metric_is 'relaytrust_milter_decisions_total{stage="connect",action="reject"}' 1
    rt_check "decisions: 7 in all, as many as log lines" \
        bash -c "[ $(rt_metric_sum relaytrust_milter_decisions_total) = 7 ]"
    rt_check "no failure verdicts, no errors" \
        bash -c "[ $(rt_metric_sum relaytrust_milter_failure_verdicts_total) = 0 ] && [ $(rt_metric_sum relaytrust_milter_errors_total) = 0 ]"
    rt_check "engine timed at connect for 7 sessions" rt_metric_is 'relaytrust_milter_engine_duration_seconds_count{stage="connect"}' 7
    rt_check "engine timed at data for 6 messages" rt_metric_is 'relaytrust_milter_engine_duration_seconds_count{stage="data"}' 6
    rt_check "histogram +Inf bucket equals its count" rt_metric_is 'relaytrust_milter_engine_duration_seconds_bucket{stage="data",le="+Inf"}' 6
    rt_check "auth results counted per end of message (none: --no-auth)" \
        rt_metric_is 'relaytrust_milter_auth_results_total{method="spf",result="none"}' 6
    rt_check "7 MTA connections counted" rt_metric_is relaytrust_milter_connections_total 7
    rt_check "no MTA connection left open" rt_metric_is relaytrust_milter_connections_active 0
    rt_check "policy generation 1" rt_metric_is relaytrust_milter_policy_generation 1
    rt_check "policy loaded fine" rt_metric_is relaytrust_milter_policy_last_reload_success 1
    rt_check "/healthz answers ok" bash -c "[ \"\$(curl -fsS --max-time 5 http://127.0.0.1:$PORT_METRICS/healthz)\" = ok ]"
    rt_check "/metrics refuses POST with 405" \
        bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:$PORT_METRICS/metrics) = 405 ]"
}

# ---------------------------------------------------------------------------------------------
proxy() {
    rt_setup_postfix
    rt_start_sink
    rt_start_milter
    rt_start_postfix
    local pipe="/usr/bin/python3 $HERE/proxy_pipe.py"

    # The TCP peer is 127.0.0.1 (the relay's address) but the proxied client is TEST-NET: the
    # engine must refuse, because it judges {client_addr}, which Postfix sets from PROXY.
    rt_message "$T/msg/p1.eml" "proxied untrusted"
    rt_expect "proxied 198.51.100.7 refused at connect on relay-in" pipe "$T/msg/p1.eml" 21 '^<\*\* +554 ' \
        --pipe "$pipe 127.0.0.1 127.0.0.1 $PORT_PROXY 'PROXY TCP4 198.51.100.7 203.0.113.25 40000 25'"
    rt_check "engine saw the proxied client 198.51.100.7:40000" rt_log_has milter.log \
        ': stage=connect action=reject listener=relay-in client=198\.51\.100\.7 client_port=40000 queue=NOQUEUE '

    # The other way round: TCP peer 127.0.0.2 (not a relay), proxied client 127.0.0.1 (the
    # relay): accepted, and the relay's verdict is trusted.
    rt_message "$T/msg/p2.eml" "proxied trusted" "$(spam_headers 6.1 Yes)"
    rt_expect "proxied 127.0.0.1 from peer 127.0.0.2 accepted" pipe "$T/msg/p2.eml" 0 '^<- +250 .*queued as' \
        --pipe "$pipe 127.0.0.2 127.0.0.1 $PORT_PROXY 'PROXY TCP4 127.0.0.1 203.0.113.25 40001 25'"
    local f
    if f=$(rt_in_sink "proxied trusted"); then
        rt_check "proxied relay's verdict trusted: tag and result header" \
            bash -c "grep -q '^Subject: \[SPAM\] proxied trusted$' '$f' && grep -q '^X-Relaytrust-Result: .*listener=relay-in; trusted=yes; relay=av-relay; spam=yes; score=6.10' '$f'"
    else
        rt_fail "proxied trusted: message not delivered to the sink"
    fi
    rt_check "engine saw the proxied client 127.0.0.1:40001" rt_log_has milter.log \
        ': stage=data action=accept listener=relay-in client=127\.0\.0\.1 client_port=40001 '
    rt_check "{daemon_addr}/{daemon_port} are the proxied destination" rt_log_has milter.log \
        '\{daemon_addr\}=203\.0\.113\.25 \{daemon_port\}=25 \{client_addr\}=127\.0\.0\.1 \{client_port\}=40001'

    # Same relay address without PROXY on the public listener: never trusted there.
    rt_message "$T/msg/p3.eml" "relay address on mx" "$(spam_headers 15.0 Yes)"
    rt_expect "relay's verdict on the public listener is not believed" "$PORT_MX" "$T/msg/p3.eml" 0 '^<- +250 .*queued as'
}

# reload_metrics GENERATION RELOADS_OK RELOADS_FAILED LAST_OK: /metrics agrees.
reload_metrics() {
    rt_metrics &&
        rt_metric_is relaytrust_milter_policy_generation "$1" &&
        rt_metric_is 'relaytrust_milter_policy_reloads_total{result="ok"}' "$2" &&
        rt_metric_is 'relaytrust_milter_policy_reloads_total{result="error"}' "$3" &&
        rt_metric_is relaytrust_milter_policy_last_reload_success "$4"
}

three_accepts() {
    rt_metrics &&
        rt_metric_is 'relaytrust_milter_decisions_total{stage="data",action="accept"}' 3 &&
        [ "$(rt_metric_sum relaytrust_milter_decisions_total)" = 3 ] && [ "$(rt_decision_lines)" = 3 ]
}

# ---------------------------------------------------------------------------------------------
reload() {
    local policy=$T/policy.jsonc
    cp "$RT_SOURCE_DIR/shared/policy/default-policy.jsonc" "$policy"
    rt_setup_postfix
    rt_start_sink
    rt_start_milter --policy "$policy" --metrics "127.0.0.1:$PORT_METRICS"
    rt_start_postfix
    local f

    rt_check "start: policy generation 1, no reloads yet" reload_metrics 1 0 0 1
    rt_message "$T/msg/r1.eml" "reload one" "$(spam_headers 6.1 Yes)"
    rt_expect "before reload: delivered" "$PORT_RELAY" "$T/msg/r1.eml" 0 '^<- +250 '
    rt_check "before reload: the decision names generation 1" rt_log_has milter.log \
        ": stage=data action=accept .* queue=$QID .* generation=1 "
    f=$(rt_in_sink "reload one") && rt_check "before reload: tag [SPAM]" grep -q '^Subject: \[SPAM\] reload one$' "$f" ||
        rt_fail "reload one not delivered"

    sed -i 's/"subject_tag": "\[SPAM\] "/"subject_tag": "[JUNK] "/' "$policy"
    kill -HUP "$RT_MILTER_PID"
    rt_check "SIGHUP: policy reloaded" bash -c "for i in \$(seq 100); do grep -q 'policy reloaded: $policy' '$T/log/milter.log' && exit 0; sleep 0.05; done; exit 1"
    rt_check "milter still running after SIGHUP (libmilter alone would stop)" rt_alive "$RT_MILTER_PID"
    rt_message "$T/msg/r2.eml" "reload two" "$(spam_headers 6.1 Yes)"
    rt_expect "after reload: delivered" "$PORT_RELAY" "$T/msg/r2.eml" 0 '^<- +250 '
    rt_check "after reload: generation 2 in the decision line" rt_log_has milter.log \
        ": stage=data action=accept .* queue=$QID .* generation=2 "
    rt_check "after reload: generation 2, 1 reload ok in /metrics" reload_metrics 2 1 0 1
    f=$(rt_in_sink "reload two") && rt_check "after reload: new tag [JUNK]" grep -q '^Subject: \[JUNK\] reload two$' "$f" ||
        rt_fail "reload two not delivered"

    # A broken file: the error names file:line:column, the old policy stays in force.
    sed -i 's/"action": "quarantine"/"action": "quarantine", "no_such_key": 1/' "$policy"
    kill -HUP "$RT_MILTER_PID"
    rt_check "broken policy: reload failed, old policy kept" bash -c "for i in \$(seq 100); do grep -q 'policy reload failed, keeping the previous policy' '$T/log/milter.log' && exit 0; sleep 0.05; done; exit 1"
    rt_check "broken policy: error names file:line:col" rt_log_has milter.log "error: $policy:[0-9]+:[0-9]+: "
    rt_check "broken policy: reload error counted, generation stays 2, last reload failed" \
        reload_metrics 2 1 1 0
    rt_message "$T/msg/r3.eml" "reload three" "$(spam_headers 6.1 Yes)"
    rt_expect "after failed reload: still delivered" "$PORT_RELAY" "$T/msg/r3.eml" 0 '^<- +250 '
    rt_check "after failed reload: decided by generation 2" rt_log_has milter.log \
        ": stage=data action=accept .* queue=$QID .* generation=2 "
    f=$(rt_in_sink "reload three") && rt_check "after failed reload: previous policy ([JUNK]) still used" grep -q '^Subject: \[JUNK\] reload three$' "$f" ||
        rt_fail "reload three not delivered"
    rt_check "milter alive after two SIGHUPs" rt_alive "$RT_MILTER_PID"
    rt_check "3 messages, 3 decisions counted, 3 decision lines" three_accepts
}

# ---------------------------------------------------------------------------------------------
tls() {
    rt_setup_postfix
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$ETC/key.pem" -out "$ETC/cert.pem" \
        -days 2 -subj /CN=mx.test.example >>"$T/log/setup.log" 2>&1
    chmod 600 "$ETC/key.pem"
    postconf -c "$ETC" -e "smtpd_tls_security_level = may" "smtpd_tls_cert_file = $ETC/cert.pem" \
        "smtpd_tls_key_file = $ETC/key.pem" "smtpd_sasl_auth_enable = yes" \
        "smtpd_sasl_type = cyrus" "smtpd_sasl_path = smtpd" "smtpd_tls_auth_only = yes"
    # Debian's smtpd reads <config_directory>/sasl/smtpd.conf; the database must be postfix's.
    mkdir -p "$ETC/sasl" "$T/sasl"
    printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n' \
        "$T/sasl/sasldb2" >"$ETC/sasl/smtpd.conf"
    echo -n secret | saslpasswd2 -p -c -f "$T/sasl/sasldb2" -u test.example testuser
    chown postfix "$T/sasl/sasldb2"
    rt_start_sink
    rt_start_milter --policy "$HERE/tls-policy.jsonc"
    rt_start_postfix

    rt_message "$T/msg/plain.eml" "tls plain"
    rt_expect "no STARTTLS: the MAIL-stage rule refuses" "$PORT_MX" "$T/msg/plain.eml" 23 \
        '^<\*\* +530 5\.7\.0 Must issue a STARTTLS command first' --from needs-tls@example.org
    rt_message "$T/msg/tls.eml" "tls on"
    rt_expect "STARTTLS: accepted" "$PORT_MX" "$T/msg/tls.eml" 0 '^<~ +250 .*queued as' \
        --from needs-tls@example.org -tls
    local f
    if f=$(rt_in_sink "tls on"); then
        rt_check "the engine saw TLS ({tls_version} from the second HELO)" \
            grep -q '^X-Test-Tls: tls seen by relaytrust$' "$f"
    else
        rt_fail "tls: message not delivered to the sink"
    fi
    rt_check "milter logged the TLS session's decision" rt_log_has milter.log \
        ': stage=data action=accept listener=mx client=127\.0\.0\.1 client_port=[0-9]+ queue=[0-9A-Za-z]+ from=<needs-tls@example\.org> to=- rule=tls-seen '

    rt_message "$T/msg/auth.eml" "tls auth"
    rt_expect "STARTTLS + AUTH PLAIN: accepted" "$PORT_MX" "$T/msg/auth.eml" 0 '^<~ +250 .*queued as' \
        -tls --auth PLAIN --auth-user testuser@test.example --auth-password secret
    if f=$(rt_in_sink "tls auth"); then
        rt_check "the engine saw the SASL login ({auth_authen})" \
            grep -q '^X-Test-Auth: login seen by relaytrust$' "$f"
    else
        rt_fail "auth: message not delivered to the sink"
    fi
}

case "$GROUP" in
    core | proxy | reload | tls) "$GROUP" ;;
    *) echo "unknown group $GROUP" >&2; exit 2 ;;
esac
rt_check "every decision line has every field, in order" rt_decision_lines_well_formed
rt_finish
