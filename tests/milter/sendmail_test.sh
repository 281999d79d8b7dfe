#!/bin/bash
# relaytrust-milter behind a real Sendmail 8.17 (recipe: ../shared/reference/sendmail-recipe.md).
#
# Sendmail cannot be installed next to Postfix (both provide mail-transport-agent), so the test
# downloads Debian's sendmail-bin/-base/-cf .debs once (apt-get download, cached), unpacks them,
# builds a private .cf with m4 and runs the daemon from the unpacked tree as root, inside its own
# mount namespace with a private /etc/hosts that gives the host a dotted name (otherwise every
# sendmail command sleeps 60 s first). Nothing on the machine is changed.
#
# Exit 77 (ctest: skipped) only when the packages cannot be fetched or the mount namespace
# cannot be made; the message says which. Every other problem fails the test.
#
# usage: sendmail_test.sh MILTER_BINARY SOURCE_DIR BASE_PORT
set -euo pipefail

RT_MILTER=$1
RT_SOURCE_DIR=$2
RT_BASE_PORT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

rt_require m4 swaks smtp-sink ss apt-get dpkg-deb unshare perl

PORT_SM_RELAY=$PORT_MX       # Name=relay-in
PORT_SM_MX=$PORT_RELAY       # Name=mx
rt_ports_free "$PORT_SM_RELAY" "$PORT_SM_MX" "$PORT_SINK" "$PORT_MILTER"

skip() { echo "SKIP: $*"; RT_SKIPPED=1; exit 77; }

# --- the unpacked Sendmail (cached between runs) --------------------------------------------
CACHE=${RT_SENDMAIL_CACHE:-/var/tmp/relaytrust-test-sendmail}
SMROOT=$CACHE/root
SM=$SMROOT/usr/libexec/sendmail/sendmail
if [ ! -x "$SM" ]; then
    rm -rf "$CACHE"
    mkdir -p "$CACHE/debs"
    chown _apt "$CACHE/debs" 2>/dev/null || true
    if ! (cd "$CACHE/debs" && apt-get download sendmail-bin sendmail-base sendmail-cf) >"$T/log/apt.log" 2>&1; then
        cat "$T/log/apt.log"
        skip "cannot download sendmail-bin, sendmail-base and sendmail-cf from the Debian mirror (apt-get download failed; see above)"
    fi
    mkdir -p "$SMROOT"
    for d in "$CACHE"/debs/*.deb; do dpkg-deb -x "$d" "$SMROOT"; done
fi
if ldd "$SM" | grep 'not found'; then
    echo "FATAL: the unpacked sendmail misses shared libraries (install-deps.sh installs libwrap0 and libldap-2.5-0)" >&2
    exit 1
fi
RT_SENDMAIL_BIN=$SM

# --- private /etc/hosts: sendmail needs a dotted host name or sleeps 60 s per command ---------
h=$(hostname)
{ cat /etc/hosts; printf '127.0.1.1\t%s.localdomain %s\n::1\t%s.localdomain %s\n' "$h" "$h" "$h" "$h"; } >"$T/hosts"
smx() { unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts" "$@"; }
smx true 2>"$T/log/unshare.log" || {
    cat "$T/log/unshare.log"
    skip "cannot bind-mount a private /etc/hosts in a new mount namespace (needs CAP_SYS_ADMIN)"
}

# --- configuration ----------------------------------------------------------------------------
mkdir -p "$T/etc" "$T/mqueue"
chmod 700 "$T/mqueue"
CFG=$T/etc/sendmail.cf
cat >"$T/etc/sendmail.mc" <<EOF
divert(-1)dnl
# Throwaway sendmail for the relaytrust-milter test.
divert(0)dnl
VERSIONID(\`relaytrust milter test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mta.example.test')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`MAIL_SETTINGS_DIR', \`$T/etc/')dnl
define(\`QUEUE_DIR', \`$T/mqueue')dnl
define(\`confPID_FILE', \`$T/run/sendmail.pid')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`ALIAS_FILE', \`$T/etc/aliases')dnl
define(\`HELP_FILE', \`$T/etc/helpfile')dnl
define(\`confCW_FILE', \`-o $T/etc/local-host-names')dnl
define(\`confCR_FILE', \`-o $T/etc/relay-domains')dnl
define(\`confDEAD_LETTER_DROP', \`$T/run/dead.letter')dnl
define(\`confSERVICE_SWITCH_FILE', \`$T/etc/service.switch')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`promiscuous_relay')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`MAIL_HUB', \`esmtp:[127.0.0.1]')dnl
define(\`LOCAL_RELAY', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $PORT_SINK')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PORT_SINK')dnl
define(\`confTO_CONNECT', \`10s')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confQUEUE_LA', \`100')dnl
define(\`confREFUSE_LA', \`100')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$PORT_SM_RELAY, Addr=127.0.0.1, Name=relay-in')dnl
DAEMON_OPTIONS(\`Port=$PORT_SM_MX, Addr=127.0.0.1, Name=mx')dnl
dnl No confMILTER_MACROS_*: the milter asks for its macros with smfi_setsymlist.
INPUT_MAIL_FILTER(\`relaytrust', \`S=inet:$PORT_MILTER@127.0.0.1, F=T, T=S:10s;R:20s;E:1m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
CFDIR=$SMROOT/usr/share/sendmail/cf
m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$T/etc/sendmail.mc" >"$CFG" 2>"$T/log/m4.log"
cp "$SMROOT/etc/mail/helpfile" "$T/etc/helpfile"
printf 'hosts\tfiles\naliases\tfiles\n' >"$T/etc/service.switch"
printf 'postmaster: root\nMAILER-DAEMON: postmaster\nroot: postmaster@sink.example\n' >"$T/etc/aliases"

# --- start: sink, milter, sendmail (foreground daemon, a child of this shell) ------------------
rt_start_sink
rt_start_milter
smx "$SM" -C "$CFG" -L relaytrust-sm-test -bD -q1m >"$T/log/sendmail.out" 2>&1 &
RT_PIDS+=("$!")
rt_wait_listen "$PORT_SM_RELAY"
rt_wait_listen "$PORT_SM_MX"

spam_headers() {  # SCORE YES|No
    printf 'X-Spam-Flag: %s\\nX-Spam-Status: %s, score=%s required=5.0 tests=BAYES_99,URIBL_BLACK\\n%s' \
        "$([ "$2" = Yes ] && echo YES || echo NO)" "$2" "$1" "$RT_RELAY_HOP"
}

# 1. Trusted relay spam, score 15: 550 after the final dot.
rt_message "$T/msg/reject.eml" "sm relay spam reject" "$(spam_headers 15.0 Yes)"
rt_expect "sendmail: trusted spam 15 rejected" "$PORT_SM_RELAY" "$T/msg/reject.eml" 26 \
    '^<\*\* +550 5\.7\.1 Message rejected as spam'

# 2. Forged verdict headers on the public listener: delivered without them.
rt_message "$T/msg/forged.eml" "sm public forged" \
    'X-Spam-Status: No, score=-50.0 required=5.0 tests=ALL_TRUSTED\nX-Spam-Flag: NO\nX-Spam-Status: Yes, score=99.0 required=5.0 tests=FORGED'
rt_expect "sendmail: forged headers on mx delivered" "$PORT_SM_MX" "$T/msg/forged.eml" 0 '^<- +250 '
if f=$(rt_in_sink "sm public forged"); then
    rt_check "sendmail: forged X-Spam-Status and X-Spam-Flag gone" \
        bash -c "! grep -Eqi '^X-Spam-(Status|Flag):' '$f'"
    rt_check "sendmail: result header listener=mx, 3 stripped" \
        grep -Eq '^X-Relaytrust-Result: [^ ].*listener=mx; trusted=no; spam=unknown; score=0\.00; virus=no; stripped=3$' "$f"
else
    rt_fail "sendmail: forged message not delivered"
fi

# 3. relay-in from a non-relay address: refused at connect.
rt_message "$T/msg/notrelay.eml" "sm not from relay"
rt_send "$PORT_SM_RELAY" "$T/msg/notrelay.eml" --local-interface 127.0.0.2
if [ "$RC" != 0 ] && printf '%s' "$LAST" | grep -Eq '^<\*\* +5[0-9][0-9] '; then
    rt_pass "sendmail: relay-in from 127.0.0.2 refused: rc=$RC $LAST"
else
    rt_fail "sendmail: relay-in from 127.0.0.2 not refused: rc=$RC $LAST"
fi
rt_check "sendmail: connect refusal decided by the engine" rt_log_has milter.log \
    ': stage=connect action=reject listener=relay-in client=127\.0\.0\.2 client_port=[0-9]+ queue=NOQUEUE from=- to=- rule=relay-in-only-from-relay '

# 4. Score 8.5: quarantined, i.e. an hf file in the queue.
rt_message "$T/msg/hold.eml" "sm relay spam quarantine" "$(spam_headers 8.5 Yes)"
rt_expect "sendmail: trusted spam 8.5 accepted" "$PORT_SM_RELAY" "$T/msg/hold.eml" 0 '^<- +250 '
rt_check "sendmail: quarantined message waits as hf file" bash -c "ls '$T'/mqueue/hf* >/dev/null 2>&1"
rt_check "sendmail: listed by -bp -qQ with relaytrust's reason" \
    bash -c "$(declare -f smx); T='$T'; smx '$SM' -C '$CFG' -bp -qQ | grep -q 'QUARANTINE: relaytrust rule spam-quarantine'"

# 5. Score 6.1: subject tag and result header in the delivered copy.
rt_message "$T/msg/tag.eml" "sm relay spam tag" "$(spam_headers 6.1 Yes)"
rt_expect "sendmail: trusted spam 6.1 delivered" "$PORT_SM_RELAY" "$T/msg/tag.eml" 0 '^<- +250 '
if f=$(rt_in_sink "sm relay spam tag"); then
    rt_check "sendmail: subject tagged" grep -q '^Subject: \[SPAM\] sm relay spam tag$' "$f"
    rt_check "sendmail: result header trusted relay" \
        grep -Eq '^X-Relaytrust-Result: [^ ].*action=accept; rule=spam-tag; listener=relay-in; trusted=yes; relay=av-relay; spam=yes; score=6\.10' "$f"
    rt_check "sendmail: relay's verdict kept" grep -q '^X-Spam-Status: Yes, score=6.1 ' "$f"
else
    rt_fail "sendmail: tag message not delivered"
fi

rt_check "sendmail: connect macros arrive through smfi_setsymlist" rt_log_has milter.log \
    'connect: .*\{daemon_name\}=relay-in \{daemon_addr\}=127\.0\.0\.1 \{daemon_port\}='"$PORT_SM_RELAY"' \{client_addr\}=127\.0\.0\.1 \{client_port\}=[0-9]+'
rt_check "sendmail: every decision line has every field, in order" rt_decision_lines_well_formed
rt_finish
