# Shared harness for the relaytrust-milter integration tests (sourced, not run).
#
# Starts a private Postfix under a fresh directory in /tmp (recipe:
# ../shared/reference/postfix-recipe.md): its own config, queue and log, listeners on loopback
# high ports only, smtp-sink as the next hop keeping every delivered message, and
# relaytrust-milter in the foreground as a child of the test. An EXIT trap stops all of it and
# waits for every process, pass or fail.
#
# The caller sets RT_MILTER (the binary), RT_BASE_PORT (first of 8 consecutive ports) and
# RT_SOURCE_DIR (the repository), then calls rt_setup_postfix, rt_start, the checks, rt_finish.

set -euo pipefail

: "${RT_MILTER:?RT_MILTER must name the relaytrust-milter binary}"
: "${RT_BASE_PORT:?RT_BASE_PORT must be set}"
: "${RT_SOURCE_DIR:?RT_SOURCE_DIR must name the repository}"

PORT_MX=$RT_BASE_PORT             # public listener ("mx": default listener of the policy)
PORT_RELAY=$((RT_BASE_PORT + 1))  # relay-in listener (-o milter_macro_daemon_name=relay-in)
PORT_PROXY=$((RT_BASE_PORT + 2))  # relay-in behind PROXY protocol (haproxy v1)
PORT_SINK=$((RT_BASE_PORT + 3))   # smtp-sink, the next hop
PORT_MILTER=$((RT_BASE_PORT + 4)) # relaytrust-milter
PORT_NOMILTER=$((RT_BASE_PORT + 5))
PORT_EXTRA1=$((RT_BASE_PORT + 6))
PORT_EXTRA2=$((RT_BASE_PORT + 7))

RT_PASSED=0
RT_FAILED=0
RT_PIDS=()        # children of this shell, stopped in reverse order
RT_SENDMAIL_BIN=  # set by the Sendmail test: leftover processes of that binary are ours too

# --- tools -------------------------------------------------------------------------------

rt_require() {
    local missing=() tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "FATAL: missing tools: ${missing[*]} (CI installs them with scripts/install-deps.sh)" >&2
        exit 1
    fi
    [ -x "$RT_MILTER" ] || { echo "FATAL: $RT_MILTER is not executable" >&2; exit 1; }
    if [ "$(id -u)" -ne 0 ]; then
        echo "FATAL: the Postfix tests run a private Postfix instance and need root" >&2
        exit 1
    fi
}
export PATH="$PATH:/usr/sbin:/sbin"

# --- results -----------------------------------------------------------------------------

rt_pass() { RT_PASSED=$((RT_PASSED + 1)); echo "ok   $1"; }
rt_fail() { RT_FAILED=$((RT_FAILED + 1)); echo "FAIL $1"; }
# rt_check NAME COMMAND...: passes when the command succeeds.
rt_check() {
    local name=$1; shift
    if "$@"; then rt_pass "$name"; else rt_fail "$name"; fi
}

rt_finish() {
    echo "$RT_PASSED passed, $RT_FAILED failed"
    [ "$RT_FAILED" -eq 0 ]
}

# --- processes ---------------------------------------------------------------------------

rt_listening() { ss -Hltn "sport = :$1" | grep -q .; }
rt_wait_listen() {
    local _
    for _ in $(seq 200); do rt_listening "$1" && return 0; sleep 0.05; done
    echo "nothing listens on port $1" >&2
    return 1
}
# A zombie counts as gone: PID 1 here may reap late.
rt_alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [ "${st:0:1}" != Z ]; }
rt_wait_gone() {
    local _
    for _ in $(seq "${2:-200}"); do rt_alive "$1" || return 0; sleep 0.05; done
    return 1
}

rt_ports_free() {
    local p
    for p in "$@"; do
        if rt_listening "$p"; then
            echo "FATAL: port $p is already in use; another test run?" >&2
            exit 1
        fi
    done
}

# Stops one child: TERM, up to 10 s (libmilter needs up to 5 s), then KILL; always reaped.
rt_stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    if ! rt_wait_gone "$pid" 200; then
        echo "pid $pid ignored SIGTERM; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

rt_stop_postfix() {
    [ -n "${ETC:-}" ] || return 0
    if [ -f "$SPOOL/pid/master.pid" ]; then
        local master
        master=$(tr -d ' \n' <"$SPOOL/pid/master.pid")
        postfix -c "$ETC" stop >/dev/null 2>&1 || true
        if [ -n "$master" ] && ! rt_wait_gone "$master" 200; then
            kill -9 "$master" 2>/dev/null || true
        fi
    fi
}

# Every process whose working directory or executable lies in the test directory is ours
# (Postfix daemons run in its queue directory). Nothing else is touched.
rt_kill_leftovers() {
    local p pid cwd exe found=()
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = "$$" ] && continue
        cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
        exe=$(readlink "$p/exe" 2>/dev/null) || exe=
        if [[ "$cwd" == "$T"* ]] || { [ -n "$RT_SENDMAIL_BIN" ] && [ "$exe" = "$RT_SENDMAIL_BIN" ]; }; then
            echo "stopping leftover process $pid ($exe)" >&2
            kill "$pid" 2>/dev/null || true
            found+=("$pid")
        fi
    done
    for pid in "${found[@]}"; do
        rt_wait_gone "$pid" 40 || kill -9 "$pid" 2>/dev/null || true
    done
    return 0
}

rt_teardown() {
    local rc=$?
    set +e
    trap - EXIT
    rt_stop_postfix
    local i
    for ((i = ${#RT_PIDS[@]} - 1; i >= 0; i--)); do rt_stop_pid "${RT_PIDS[$i]}"; done
    [ -n "${RT_EXTRA_TEARDOWN:-}" ] && $RT_EXTRA_TEARDOWN
    rt_kill_leftovers
    if { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; } || [ "$RT_FAILED" -ne 0 ]; then
        for f in "$T"/log/*; do
            [ -f "$f" ] || continue
            echo "----- last lines of $f"
            tail -n 40 "$f"
        done
    fi
    if [ -n "${RT_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
    exit "$rc"
}

T=$(mktemp -d /tmp/relaytrust-milter-test.XXXXXX)
chmod 755 "$T"  # smtp-sink and the Postfix daemons (user postfix) must reach their files
trap rt_teardown EXIT
# A signal ends the test through the EXIT trap too (bash skips it for untrapped signals).
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
mkdir -p "$T/log" "$T/run" "$T/sink" "$T/msg"
chown postfix "$T/sink"

# --- relaytrust-milter -------------------------------------------------------------------

# rt_start_milter [ARGS...]: foreground, verbose, on inet:127.0.0.1:$PORT_MILTER unless ARGS
# name another --socket. --no-auth: these tests bring no DNS server, and SPF/DKIM/DMARC must not
# query the machine's resolver from a test.
rt_start_milter() {
    local socket="inet:127.0.0.1:$PORT_MILTER"
    "$RT_MILTER" --foreground --log stderr --verbose --no-auth --socket "$socket" "$@" \
        >>"$T/log/milter.log" 2>&1 &
    RT_MILTER_PID=$!
    RT_PIDS+=("$RT_MILTER_PID")
    rt_wait_listen "$PORT_MILTER"
}

# --- the milter's metrics endpoint and decision lines ----------------------------------------

# Start the milter with --metrics 127.0.0.1:$PORT_METRICS to use these.
PORT_METRICS=$PORT_EXTRA1

# rt_metrics: fetches /metrics into $T/log/metrics.txt (kept for the failure report).
rt_metrics() {
    curl -fsS --max-time 5 -D "$T/log/metrics.headers" "http://127.0.0.1:$PORT_METRICS/metrics" \
        >"$T/log/metrics.txt"
}
# rt_metric 'NAME{LABELS}' -> its value in the last fetch, or "missing".
rt_metric() {
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "missing" : v) }' "$T/log/metrics.txt"
}
# rt_metric_is 'NAME{LABELS}' VALUE: true when the last fetch has exactly that value.
rt_metric_is() {
    local got
    got=$(rt_metric "$1")
    [ "$got" = "$2" ] || { echo "  $1 is $got, want $2" >&2; return 1; }
}
# rt_metric_sum PREFIX: the sum over every sample whose name{labels} starts with PREFIX.
rt_metric_sum() {
    awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$T/log/metrics.txt"
}
# rt_decision_lines: how many decision lines the milter has logged (info or warning level).
rt_decision_lines() {
    grep -cE 'relaytrust-milter\[[0-9]+\]: (warning: )?stage=' "$T/log/milter.log" || true
}

# Every field of a decision line, in order (docs/milter.md, "Log lines"). Quoted values may
# hold escaped quotes.
RT_Q='"([^"\\]|\\.)*"'
RT_DECISION_RE="stage=(connect|ehlo|mail|rcpt|data) action=(accept|reject|tempfail|discard|quarantine)"
RT_DECISION_RE+=" listener=[^ \"]+ client=[^ \"]+ client_port=([0-9]+|-) queue=[^ \"]+"
RT_DECISION_RE+=" from=($RT_Q|[^ \"]+) to=($RT_Q|[^ \"]+) rule=($RT_Q|[^ \"]+) reply=(-|$RT_Q)"
RT_DECISION_RE+=" relay=($RT_Q|[^ \"]+) trusted=(yes|no|-) spam=(yes|no|unknown|-)"
RT_DECISION_RE+=" score=(-?[0-9]+\.[0-9]{2}|-) virus=(yes|no|-) stripped=([0-9]+|-)"
RT_DECISION_RE+=" spf=[a-z-]+ dkim=[a-z-]+ dmarc=[a-z-]+ edits=[0-9]+ engine_us=[0-9]+"
RT_DECISION_RE+=" generation=[0-9]+ failure=(-|open|closed)( note=($RT_Q|[^ \"]+))?"
RT_DECISION_RE+=" reasons=($RT_Q|[^ \"]+)$"
# rt_decision_lines_well_formed: every decision line has every field in order.
rt_decision_lines_well_formed() {
    local bad
    bad=$(grep -E 'relaytrust-milter\[[0-9]+\]: (warning: )?stage=' "$T/log/milter.log" |
        sed -E 's/^.*relaytrust-milter\[[0-9]+\]: (warning: )?//' | grep -vE "^$RT_DECISION_RE" || true)
    [ -z "$bad" ] || { printf 'malformed decision line: %s\n' "$bad" >&2; return 1; }
}

rt_stop_milter() {
    rt_stop_pid "$RT_MILTER_PID"
    local keep=() p
    for p in "${RT_PIDS[@]}"; do [ "$p" != "$RT_MILTER_PID" ] && keep+=("$p"); done
    RT_PIDS=("${keep[@]}")
}

# --- Postfix -----------------------------------------------------------------------------

ETC=$T/etc
SPOOL=$T/spool

rt_setup_postfix() {
    mkdir -p "$ETC" "$SPOOL"
    cat >"$ETC/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $T/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
maillog_file_prefixes = /tmp
maillog_file = $T/log/maillog
relayhost = [127.0.0.1]:$PORT_SINK
smtp_tls_security_level = none
smtpd_tls_security_level = none
# PTR lookups of TEST-NET clients must not wait for a resolver that may not answer.
smtpd_peername_lookup = no
# relaytrust-milter asks for its macros itself (smfi_setsymlist): Postfix's default lists stay.
smtpd_milters = inet:127.0.0.1:$PORT_MILTER
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
message_size_limit = 0
EOF
    cat >"$ETC/master.cf" <<EOF
127.0.0.1:$PORT_MX inet n - n - - smtpd
  -o syslog_name=postfix-test/mx
127.0.0.1:$PORT_RELAY inet n - n - - smtpd
  -o syslog_name=postfix-test/relay-in
  -o milter_macro_daemon_name=relay-in
127.0.0.1:$PORT_PROXY inet n - n - - smtpd
  -o syslog_name=postfix-test/proxied
  -o milter_macro_daemon_name=relay-in
  -o smtpd_upstream_proxy_protocol=haproxy
  -o mynetworks=0.0.0.0/0
127.0.0.1:$PORT_NOMILTER inet n - n - - smtpd
  -o syslog_name=postfix-test/nomilter
  -o smtpd_milters=
${RT_EXTRA_MASTER_CF:-}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    touch "$T/log/maillog"
    chown postfix "$T/log/maillog"  # postsuper/postlogd log as postfix
    postfix -c "$ETC" check >>"$T/log/setup.log" 2>&1
}

rt_start_sink() {
    smtp-sink -u postfix -h sink.test.example -d "$T/sink/%Y%m%d%H%M%S." \
        "127.0.0.1:$PORT_SINK" 256 >"$T/log/sink.log" 2>&1 &
    RT_PIDS+=("$!")
    rt_wait_listen "$PORT_SINK"
}

rt_start_postfix() {
    postfix -c "$ETC" start >>"$T/log/setup.log" 2>&1
    rt_wait_listen "$PORT_MX"
    rt_wait_listen "$PORT_RELAY"
}

# --- sending and looking -----------------------------------------------------------------

# rt_message FILE SUBJECT [HEADER-LINES]: a small message whose Subject is the test's marker.
# HEADER-LINES (with \n between lines) go on top, as a relay would have written them.
rt_message() {
    local file=$1 subject=$2 top=${3:-}
    {
        [ -n "$top" ] && printf '%b\n' "$top"
        printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\n'
        printf 'Subject: %s\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n' "$subject"
        printf 'Message-ID: <%s@example.org>\n\nHello Bob,\nthis is %s.\n' "${subject// /-}" "$subject"
    } >"$file"
}

# The relay's own Received hop (what amavis/rspamd write when they pass mail on).
RT_RELAY_HOP='Received: from sender.example.org (sender.example.org [203.0.113.7])\n\tby av-relay.test.example (amavisd-new) with ESMTP id R1;\n\tSun, 22 Nov 2026 10:00:00 +0000'

# rt_send PORT FILE [SWAKS-ARGS...] -> RC (swaks exit code), LAST (last server reply), QID.
# PORT "pipe" leaves the transport to a --pipe argument.
rt_send() {
    local port=$1 file=$2
    shift 2
    local out target=(--server 127.0.0.1 --port "$port")
    [ "$port" = pipe ] && target=()
    out=$(swaks "${target[@]}" --from sender@example.org --to bob@example.net \
        --helo client.example.org --timeout 30 --data "@$file" "$@" 2>&1) && RC=0 || RC=$?
    printf '%s\n' "$out" >>"$T/log/swaks.log"
    # swaks marks server lines <- (plain), <~ (TLS), <** and <~* (errors).
    LAST=$(printf '%s\n' "$out" | grep -E '^<(-|~|\*\*|~\*) +[0-9]{3}[ -]' |
        grep -vE '^<(-|~|\*\*|~\*) +(221|354|220 .*TLS|250-)' | tail -1 || true)
    QID=$(printf '%s\n' "$out" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -1)
}

# rt_expect NAME PORT FILE RC REPLY-REGEX [SWAKS-ARGS...]
rt_expect() {
    local name=$1 port=$2 file=$3 want_rc=$4 regex=$5
    shift 5
    rt_send "$port" "$file" "$@"
    if [ "$RC" = "$want_rc" ] && printf '%s' "$LAST" | grep -Eq -- "$regex"; then
        rt_pass "$name: rc=$RC $LAST"
    else
        rt_fail "$name: rc=$RC (want $want_rc) last reply '$LAST' (want /$regex/)"
    fi
}

# rt_in_sink SUBJECT -> path of the delivered copy (waits up to 15 s: delivery is asynchronous).
rt_in_sink() {
    local f _
    for _ in $(seq 150); do
        f=$(grep -l -- "^Subject: .*$1\$" "$T"/sink/* 2>/dev/null | head -1) || true
        [ -n "$f" ] && { echo "$f"; return 0; }
        sleep 0.1
    done
    return 1
}

# The header block of a sink copy, folded lines joined, without smtp-sink's own X- lines.
rt_headers_of() { sed -n '1,/^\r\?$/p' "$1" | tr -d '\r'; }

rt_log_has() { grep -Eq -- "$2" "$T/log/$1"; }
