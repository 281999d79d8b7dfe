# Shared pieces of the end-to-end sender-authentication tests (sourced, not run): the DNS zone
# and the throwaway unbound serving it, the test messages, the scenario table and the expected
# results, the same for relaytrust-milter (Postfix), relaytrust-hookd (Stalwart-shaped requests)
# and `relaytrust test`.
#
# The caller provides the process bookkeeping (tests/milter/lib.sh or tests/hookd/lib.sh) and
# registers E2E_UNBOUND_PID with it so that unbound is stopped on exit, pass or fail.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_POLICY=$E2E_DIR/auth-policy.jsonc
E2E_HOOK=$E2E_DIR/stalwart_hook.py
E2E_AUTHSERV=mx.e2e-relaytrust.net

# --- DNS -------------------------------------------------------------------------------------
#
# Ordinary-looking names on purpose: libunbound answers the special-use zones (test., invalid.,
# example., localhost., the reverse zones of RFC 1918 and of the documentation ranges) itself,
# so lookups under them would never reach this server.
#   sender-e2e.org    SPF authorises only 203.0.113.7 (through include: and a:), the original
#                     client the AV relay records; DMARC p=reject
#   softfail-e2e.org  SPF ~all (softfail, never enforced on its own), DMARC p=reject
#   local-e2e.org     SPF authorises 127.0.0.1 (direct delivery from the test's own address)
# Everything else under org. and net. does not exist (NXDOMAIN, as for the DMARC tree walk on
# the real Internet); anything outside is REFUSED, so unbound never needs the network.

e2e_write_unbound_conf() {  # DIR PORT
    local dir=$1 port=$2
    cat >"$dir/unbound.conf" <<EOF
server:
    interface: 127.0.0.1@$port
    port: $port
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-queries: yes
    do-ip6: no
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    auto-trust-anchor-file: ""
    trust-anchor-file: ""
    num-threads: 1

    local-zone: "org." static
    local-zone: "net." static

    local-zone: "sender-e2e.org." static
    local-data: 'sender-e2e.org. 300 IN TXT "v=spf1 include:_spf.sender-e2e.org -all"'
    local-data: '_spf.sender-e2e.org. 300 IN TXT "v=spf1 a:mail.sender-e2e.org -all"'
    local-data: 'mail.sender-e2e.org. 300 IN A 203.0.113.7'
    local-data: 'sender-e2e.org. 300 IN MX 10 mail.sender-e2e.org.'
    local-data: '_dmarc.sender-e2e.org. 300 IN TXT "v=DMARC1; p=reject; adkim=r; aspf=r"'

    local-zone: "softfail-e2e.org." static
    local-data: 'softfail-e2e.org. 300 IN TXT "v=spf1 ip4:203.0.113.7 ~all"'
    local-data: '_dmarc.softfail-e2e.org. 300 IN TXT "v=DMARC1; p=reject"'

    local-zone: "local-e2e.org." static
    local-data: 'local-e2e.org. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"'
    local-data: '_dmarc.local-e2e.org. 300 IN TXT "v=DMARC1; p=reject"'

    local-zone: "e2e-relaytrust.net." static
    local-data: 'mx.e2e-relaytrust.net. 300 IN A 127.0.0.1'

    local-zone: "." refuse
remote-control:
    control-enable: no
EOF
}

e2e_udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }

# e2e_start_unbound DIR PORT: writes the config, checks it, starts `unbound -d` in the
# background (a child of this shell) with its log in DIR/unbound.log, and waits until it serves.
# Sets E2E_UNBOUND_PID; the caller registers it for the exit trap.
e2e_start_unbound() {
    local dir=$1 port=$2 _
    mkdir -p "$dir"
    if e2e_udp_bound "$port" || ss -Hltn "sport = :$port" | grep -q .; then
        echo "FATAL: port $port (unbound) is already in use; another test run?" >&2
        exit 1
    fi
    e2e_write_unbound_conf "$dir" "$port"
    if ! unbound-checkconf "$dir/unbound.conf" >"$dir/unbound-checkconf.log" 2>&1; then
        echo "FATAL: unbound-checkconf refused the test's configuration:" >&2
        cat "$dir/unbound-checkconf.log" >&2
        exit 1
    fi
    unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 &
    E2E_UNBOUND_PID=$!
    for _ in $(seq 200); do
        grep -q 'start of service' "$dir/unbound.log" 2>/dev/null && e2e_udp_bound "$port" && return 0
        kill -0 "$E2E_UNBOUND_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "FATAL: unbound did not start on 127.0.0.1:$port:" >&2
    cat "$dir/unbound.log" >&2
    exit 1
}

# A port where no DNS server runs (checked): lookups there time out after auth.dns.timeout_ms.
e2e_dead_dns_port() {
    if e2e_udp_bound "$1"; then
        echo "FATAL: port $1 should be dead but something listens there" >&2
        exit 1
    fi
}

# --- messages --------------------------------------------------------------------------------

# The AV relay's own Received hop, naming the original client (what amavis writes on the way
# back to the MTA). The milter does not see Postfix's own Received header, and Stalwart does
# not put its own into the hook request, so this is the first Received the engine sees
# (origin_hops = 1).
e2e_relay_hop() {  # CLIENT-IP
    printf 'Received: from mail.sender-e2e.org (mail.sender-e2e.org [%s])\n\tby av-relay.e2e-relaytrust.net (amavisd-new, port 10024) with ESMTP id R%s;\n\tSun, 22 Nov 2026 10:00:00 +0000\n' \
        "$1" "${1//./}"
}

# e2e_message FILE SUBJECT FROM-ADDRESS [ORIGIN-IP]: a small message; with ORIGIN-IP the
# relay's Received hop naming that client goes on top.
e2e_message() {
    local file=$1 subject=$2 from=$3 origin=${4:-}
    {
        [ -n "$origin" ] && e2e_relay_hop "$origin"
        printf 'From: Sender <%s>\nTo: Bob <bob@e2e-relaytrust.net>\n' "$from"
        printf 'Subject: %s\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n' "$subject"
        printf 'Message-ID: <%s@e2e-relaytrust.net>\nMIME-Version: 1.0\n' "${subject// /-}"
        printf 'Content-Type: text/plain; charset=us-ascii\n\nHello Bob,\nthis is %s.\n' "$subject"
    } >"$file"
}

# e2e_header_values FILE NAME: every NAME header of FILE's header block, one unfolded value a
# line (continuation lines joined with one space; CR dropped).
e2e_header_values() {
    tr -d '\r' <"$1" | awk -v want="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" '
        /^$/ { if (cur != "") print cur; exit }
        /^[ \t]/ { if (cur != "") { sub(/^[ \t]+/, ""); cur = cur " " $0 }; next }
        {
            if (cur != "") print cur
            cur = ""
            i = index($0, ":")
            if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
                cur = substr($0, i + 1); sub(/^[ \t]+/, "", cur)
            }
        }'
}

# --- scenarios -------------------------------------------------------------------------------
#
# One line each: NAME|LISTENER|ORIGIN-IP|FROM|SPF|DMARC|ACTION|REPLY
#   LISTENER   policy listener (Postfix listener / hook path / --listener); its mode:
#              relay-in origin, mx strict, mx-relaxed relaxed
#   ORIGIN-IP  client named in the relay's Received hop ("-": direct delivery, no hop)
#   FROM       envelope sender and From: address
#   SPF DMARC  the results the engine must come to
#   ACTION     accept | reject | tempfail
#   REPLY      "code enhanced text" for reject/tempfail ("-" for accept)
# The connecting client is always 127.0.0.1 (the relay on relay-in, an unauthorised direct
# client on mx). dead-dns runs against a DNS port where nothing answers.
E2E_SCENARIOS=(
    "origin-pass|relay-in|203.0.113.7|alice@sender-e2e.org|pass|pass|accept|-"
    "origin-fail|relay-in|198.51.100.9|alice@sender-e2e.org|fail|fail|reject|550 5.7.1 DMARC policy of the original sender says reject"
    "strict-spf-fail|mx|-|alice@sender-e2e.org|fail|fail|reject|550 5.7.23 SPF validation failed"
    "strict-dmarc-reject|mx|-|dave@softfail-e2e.org|softfail|fail|reject|550 5.7.1 Rejected by the DMARC policy of the sender's domain"
    "strict-pass|mx|-|carol@local-e2e.org|pass|pass|accept|-"
    "relaxed-spf-fail|mx-relaxed|-|alice@sender-e2e.org|fail|fail|accept|-"
    "dead-dns|mx|-|alice@sender-e2e.org|temperror|temperror|tempfail|451 4.7.5 Sender authentication failed temporarily, try later"
)

# e2e_scenario LINE: sets NAME LISTENER ORIGIN FROM SPF DMARC ACTION REPLY, plus MODE (the
# listener's auth mode), IP (the address SPF is evaluated for) and HELO (the connecting
# client's HELO name).
e2e_scenario() {
    IFS='|' read -r NAME LISTENER ORIGIN FROM SPF DMARC ACTION REPLY <<<"$1"
    case $LISTENER in
        relay-in) MODE=origin HELO=av-relay.e2e-relaytrust.net ;;
        mx-relaxed) MODE=relaxed HELO=client.e2e-relaytrust.net ;;
        *) MODE=strict HELO=client.e2e-relaytrust.net ;;
    esac
    IP=127.0.0.1
    [ "$ORIGIN" != - ] && IP=$ORIGIN
    return 0
}

# The Authentication-Results value (unfolded) each accepted scenario must carry.
e2e_expected_ar() {
    case $1 in
        origin-pass)
            echo "$E2E_AUTHSERV; spf=pass (origin: client 203.0.113.7 seen by relay av-relay) smtp.mailfrom=sender-e2e.org smtp.helo=mail.sender-e2e.org; dkim=none (no signatures); dmarc=pass header.from=sender-e2e.org" ;;
        strict-pass)
            echo "$E2E_AUTHSERV; spf=pass (strict: client 127.0.0.1) smtp.mailfrom=local-e2e.org smtp.helo=client.e2e-relaytrust.net; dkim=none (no signatures); dmarc=pass header.from=local-e2e.org" ;;
        relaxed-spf-fail)
            echo "$E2E_AUTHSERV; spf=fail (relaxed: client 127.0.0.1) smtp.mailfrom=sender-e2e.org smtp.helo=client.e2e-relaytrust.net; dkim=none (no signatures); dmarc=fail (disposition=reject) header.from=sender-e2e.org" ;;
        *) return 1 ;;
    esac
}

# e2e_expected_result_header LISTENER: the X-Relaytrust-Result value of an accepted message.
e2e_expected_result_header() {
    local listener=$1 relay=""
    [ "$listener" = relay-in ] && relay="; relay=av-relay"
    echo "$E2E_AUTHSERV; action=accept; rule=none; listener=$listener; trusted=no$relay; spam=unknown; score=0.00; virus=no; stripped=0"
}

# e2e_start_dns_and_messages BASE_PORT DIR: unbound on BASE_PORT (DNS_PORT), a port nothing
# answers on BASE_PORT + 1 (DEAD_DNS_PORT), the scenario messages in DIR/msg. The caller's
# STARTED_PIDS gets unbound's pid, for its EXIT trap.
e2e_start_dns_and_messages() {
    DNS_PORT=$1
    DEAD_DNS_PORT=$(($1 + 1))
    e2e_dead_dns_port "$DEAD_DNS_PORT"
    e2e_start_unbound "$2/dns" "$DNS_PORT"
    STARTED_PIDS+=("$E2E_UNBOUND_PID")
    e2e_build_messages "$2/msg"
}

# e2e_build_messages DIR: DIR/NAME.eml for every scenario (Subject "e2e NAME").
e2e_build_messages() {
    local dir=$1 line NAME LISTENER ORIGIN FROM SPF DMARC ACTION REPLY MODE IP HELO
    mkdir -p "$dir"
    for line in "${E2E_SCENARIOS[@]}"; do
        e2e_scenario "$line"
        [ "$ORIGIN" = - ] && ORIGIN=
        e2e_message "$dir/$NAME.eml" "e2e $NAME" "$FROM" "$ORIGIN"
    done
}
