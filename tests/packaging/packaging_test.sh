#!/usr/bin/env bash
# packaging.deb: the Debian packages, end to end, on this machine.
#
#   packaging_test.sh BUILD_DIR SOURCE_DIR
#
# Builds relaytrust, relaytrust-milter and relaytrust-hookd .deb files from the build tree with
# cpack, installs them with apt-get, checks files, modes, conffiles, dependencies, the system
# user, the man pages and the units, then runs the installed daemons as their systemd units
# would (systemd is not running here): ExecStartPre, ExecStart and ExecReload read from the
# installed unit files with their Environment=/EnvironmentFile= expanded, as user relaytrust
# without privileges, in the RuntimeDirectory systemd would make. Then `apt-get purge` and a
# check that nothing is left. An EXIT trap stops the daemons and purges the packages whatever
# happens. Needs root; exits 77 (skipped) without it.
set -uo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: packaging.deb installs and purges Debian packages with apt-get: run it as root"
    exit 77
fi

BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(relaytrust relaytrust-milter relaytrust-hookd)
# Present while the packages may be installed by this test: lets a later run tell its own
# leftovers (a run killed by a timeout) from packages an admin installed.
MARK=/var/tmp/relaytrust-packaging-test.in-progress
APT=(apt-get -o DPkg::Lock::Timeout=300 -y -q)
UNIT_DIR=/lib/systemd/system
T0=$SECONDS

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }
check() {  # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
check_eq() {  # check_eq NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
check_match() {  # check_match NAME ERE TEXT
    if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1: '$3' does not match /$2/"; fi
}
fatal() { echo "FATAL: $*"; FAILED=$((FAILED + 1)); exit 1; }
quiet() { "$@" >/dev/null 2>&1; }
step() { echo "== $* ($((SECONDS - T0)) s)"; }

for tool in cpack apt-get dpkg-deb dpkg-query setpriv python3 curl miltertest ss groff man readelf flock; do
    command -v "$tool" >/dev/null || fatal "$tool is missing (scripts/install-deps.sh installs it)"
done

# One run at a time on a machine (two build trees, two ctest runs): the packages, the user and
# the ports are the machine's. The daemons do not inherit the lock (as_unit closes fd 9).
exec 9>/var/lock/relaytrust-packaging-test.lock
flock -w 500 9 || fatal "another packaging.deb run holds /var/lock/relaytrust-packaging-test.lock"

present_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
            "" | un*) ;;
            *) echo "$p" ;;
        esac
    done
}

# --- the machine must start clean; leftovers of an interrupted run of this test are removed --
if [ -e "$MARK" ]; then
    # A run killed outright (SIGKILL) may have left its daemons running as relaytrust.
    for pid in $(ps -o pid= -u relaytrust 2>/dev/null); do
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
            /usr/sbin/relaytrust-milter* | /usr/sbin/relaytrust-hookd*)
                echo "NOTE: stopping $(readlink "/proc/$pid/exe") (pid $pid), left by an interrupted run"
                kill -KILL "$pid" ;;
        esac
    done
fi
leftover=$(present_packages)
if [ -n "$leftover" ]; then
    [ -e "$MARK" ] || fatal "relaytrust packages are installed and not by this test ($(echo $leftover)):" \
        "it would purge them. Remove them first: apt-get purge $(echo $leftover)"
    echo "NOTE: purging $(echo $leftover), left by an interrupted run of this test"
    "${APT[@]}" purge $leftover >/dev/null || fatal "cannot purge the leftover packages"
fi
if getent passwd relaytrust >/dev/null || getent group relaytrust >/dev/null || [ -e /etc/relaytrust ]; then
    [ -e "$MARK" ] || fatal "a relaytrust user/group or /etc/relaytrust exists and not from this test;" \
        "the purge at the end would remove them"
    echo "NOTE: removing the relaytrust user/group and /etc/relaytrust left by an interrupted run"
    userdel relaytrust 2>/dev/null; groupdel relaytrust 2>/dev/null; rm -rf /etc/relaytrust
fi
[ -e "$MARK" ] && rm -rf /tmp/relaytrust-packaging.*  # the work directory of that run

WORK=$(mktemp -d /tmp/relaytrust-packaging.XXXXXX)
chmod 755 "$WORK"  # apt's _apt user reads the .deb files from here
PIDS=()
cleanup() {
    local pid left
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    left=$(present_packages)
    if [ -n "$left" ]; then
        echo "cleanup: purging $(echo $left)"
        "${APT[@]}" purge $left >/dev/null 2>&1 || dpkg --purge $left >/dev/null 2>&1
    fi
    rm -rf /run/relaytrust-milter
    [ -z "$(present_packages)" ] && rm -f "$MARK"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- build the packages ------------------------------------------------------------------------
step "cpack: building the packages from $BUILD_DIR"
[ -f "$BUILD_DIR/CPackConfig.cmake" ] || fatal "$BUILD_DIR/CPackConfig.cmake is missing: configure the build first"
t=$SECONDS
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
    { cat "$WORK/cpack.log"; fatal "cpack failed"; }
echo "   cpack took $((SECONDS - t)) s"
DEBS=()
for p in "${PACKAGES[@]}"; do
    deb=$(ls "$WORK"/pkg/"${p}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fatal "cpack made no $p package: $(ls "$WORK/pkg")"
    DEBS+=("$deb")
    echo "   $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
done
# Dependencies as dpkg-deb sees them, before apt does.
VERSION=$(dpkg-deb -f "${DEBS[0]}" Version)
check_match "relaytrust-milter depends on relaytrust of the same version and libmilter" \
    "relaytrust \(= ${VERSION}\).*libmilter|libmilter.*relaytrust \(= ${VERSION}\)" \
    "$(dpkg-deb -f "${DEBS[1]}" Depends)"
check_match "relaytrust-hookd depends on relaytrust of the same version and POCO" \
    "relaytrust \(= ${VERSION}\).*libpoco|libpoco.*relaytrust \(= ${VERSION}\)" \
    "$(dpkg-deb -f "${DEBS[2]}" Depends)"
check_match "relaytrust depends on adduser and libc (shlibdeps)" "adduser.*libc6|libc6.*adduser" \
    "$(dpkg-deb -f "${DEBS[0]}" Depends)"
dpkg-deb --fsys-tarfile "${DEBS[1]}" | tar -xO ./usr/sbin/relaytrust-milter >"$WORK/milter.bin"
check "binaries in the packages are stripped" bash -c "! readelf -S '$WORK/milter.bin' | grep -Eq '\.symtab|\.debug_info'"

# --- install -----------------------------------------------------------------------------------
step "apt-get install ${DEBS[*]##*/}"
touch "$MARK"
t=$SECONDS
"${APT[@]}" install "${DEBS[@]}" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; fatal "apt-get install failed"; }
echo "   apt-get install took $((SECONDS - t)) s"
for p in "${PACKAGES[@]}"; do
    check_eq "$p is installed" "ii " "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p")"
done

mode() { stat -c '%a %U:%G' "$1" 2>&1; }
check_eq "/usr/bin/relaytrust" "755 root:root" "$(mode /usr/bin/relaytrust)"
check_eq "/usr/sbin/relaytrust-milter" "755 root:root" "$(mode /usr/sbin/relaytrust-milter)"
check_eq "/usr/sbin/relaytrust-hookd" "755 root:root" "$(mode /usr/sbin/relaytrust-hookd)"
check_eq "/etc/relaytrust" "755 root:root" "$(mode /etc/relaytrust)"
check_eq "/etc/relaytrust/policy.jsonc" "644 root:root" "$(mode /etc/relaytrust/policy.jsonc)"
check "/etc/relaytrust/policy.jsonc is the default policy" \
    cmp -s /etc/relaytrust/policy.jsonc "$SOURCE_DIR/shared/policy/default-policy.jsonc"
check_eq "/etc/relaytrust/hookd.token (generated)" "640 root:relaytrust" "$(mode /etc/relaytrust/hookd.token)"
check_match "the token is 32 random bytes in hex" '^[0-9a-f]{64}$' "$(cat /etc/relaytrust/hookd.token)"
for d in milter hookd; do
    check_eq "/etc/default/relaytrust-$d" "644 root:root" "$(mode /etc/default/relaytrust-$d)"
    check_eq "$UNIT_DIR/relaytrust-$d.service" "644 root:root" "$(mode $UNIT_DIR/relaytrust-$d.service)"
done
check_eq "/usr/lib/sysusers.d/relaytrust.conf" "644 root:root" "$(mode /usr/lib/sysusers.d/relaytrust.conf)"
check_match "relaytrust's conffiles" "^ /etc/relaytrust/policy.jsonc [0-9a-f]{32}$" \
    "$(dpkg-query -W -f='${Conffiles}' relaytrust)"
check_match "relaytrust-milter's conffiles" "^ /etc/default/relaytrust-milter [0-9a-f]{32}$" \
    "$(dpkg-query -W -f='${Conffiles}' relaytrust-milter)"
check_match "relaytrust-hookd's conffiles" "^ /etc/default/relaytrust-hookd [0-9a-f]{32}$" \
    "$(dpkg-query -W -f='${Conffiles}' relaytrust-hookd)"

IFS=: read -r _ _ RT_UID RT_GID _ RT_HOME RT_SHELL < <(getent passwd relaytrust)
check "system user relaytrust exists (uid ${RT_UID:-none} < 1000)" test -n "${RT_UID:-}" -a "${RT_UID:-1000}" -lt 1000
check_eq "relaytrust's primary group" "relaytrust" "$(getent group "${RT_GID:-x}" | cut -d: -f1)"
check_eq "relaytrust's shell" "/usr/sbin/nologin" "${RT_SHELL:-}"
check "relaytrust's home ${RT_HOME:-} does not exist" test ! -e "${RT_HOME:-/nonexistent}"

# Minimal (Docker) images tell dpkg not to install man pages at all.
MAN_EXCLUDED=
if grep -rqsE '^path-exclude[= ]*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
    MAN_EXCLUDED=1
    echo "NOTE: dpkg excludes /usr/share/man here (/etc/dpkg/dpkg.cfg.d): installed man pages not checked"
fi
for page in relaytrust.1 relaytrust-policy.5 relaytrust-milter.8 relaytrust-hookd.8; do
    [ -z "$MAN_EXCLUDED" ] || break
    sec=${page##*.}
    file=/usr/share/man/man$sec/$page.gz
    check "man page $page installed" test -f "$file"
    check_eq "man -w ${page%.*}" "$file" "$(man -w "$sec" "${page%.*}" 2>&1)"
    check_eq "$page renders without groff warnings" "" \
        "$(zcat "$file" 2>&1 | groff -t -man -Tutf8 -ww -z 2>&1)"
done

for d in milter hookd; do
    check "relaytrust-$d.service is enabled (deb-systemd-helper)" \
        test -L "/etc/systemd/system/multi-user.target.wants/relaytrust-$d.service"
done
if command -v systemd-analyze >/dev/null; then
    out=$(systemd-analyze verify $UNIT_DIR/relaytrust-milter.service $UNIT_DIR/relaytrust-hookd.service 2>&1)
    [ -z "$MAN_EXCLUDED" ] || out=$(grep -v "Command 'man " <<<"$out")
    check_eq "systemd-analyze verify (both units)" "" "$out"
    for d in milter hookd; do
        # --threshold counts in tenths of the printed exposure level: 25 = 2.5.
        out=$(systemd-analyze security --offline=yes --threshold=25 $UNIT_DIR/relaytrust-$d.service 2>&1)
        status=$?
        level=$(grep -o 'exposure level.*' <<<"$out" | sed 's/.*: //')
        check "relaytrust-$d.service: systemd-analyze security exposure ${level:-?} (at most 2.5)" test $status -eq 0
    done
else
    echo "NOTE: systemd-analyze is not installed: units not verified"
fi

# --- run the installed daemons as their units would ----------------------------------------------
unit_get() { python3 "$HERE/unit_exec.py" "$UNIT_DIR/$1" "$2"; }
unit_argv() { MAINPID=${3:-} python3 "$HERE/unit_exec.py" "$UNIT_DIR/$1" --argv "$2"; }
# as_unit UNIT ARGV...: exec ARGV the way systemd runs the unit's commands: its User/Group
# with their groups, no new privileges, no capabilities, its UMask, cwd /, a clean environment
# with the unit's variables.
as_unit() {
    local unit=$1; shift
    local user group umask envs
    user=$(unit_get "$unit" User) group=$(unit_get "$unit" Group) umask=$(unit_get "$unit" UMask)
    mapfile -t envs < <(python3 "$HERE/unit_exec.py" "$UNIT_DIR/$unit" --env)
    exec 9>&-
    cd / && umask "$umask" &&
        exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
            USER="$user" LOGNAME="$user" HOME="$RT_HOME" SHELL="$RT_SHELL" "${envs[@]}" \
            setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
            --inh-caps=-all --bounding-set=-all -- "$@"
}
# run_exec UNIT KEY [MAINPID]: runs the unit's KEY command to its end.
run_exec() {
    local argv
    mapfile -d '' -t argv < <(unit_argv "$1" "$2" "${3:-}")
    [ ${#argv[@]} -gt 0 ] || { echo "no $2 in $1"; return 1; }
    (as_unit "$1" "${argv[@]}")
}
# start_unit UNIT LOG: ExecStartPre, then ExecStart in the background; sets MAINPID.
start_unit() {
    local unit=$1 log=$2 rundir mode argv
    if rundir=$(unit_get "$unit" RuntimeDirectory 2>/dev/null); then
        mode=$(unit_get "$unit" RuntimeDirectoryMode 2>/dev/null || echo 0755)
        install -d -o "$(unit_get "$unit" User)" -g "$(unit_get "$unit" Group)" -m "$mode" "/run/$rundir"
    fi
    out=$(run_exec "$unit" ExecStartPre 2>&1)
    check_match "$unit: ExecStartPre ($(unit_argv "$unit" ExecStartPre | tr '\0' ' '))" '^OK' "$out"
    mapfile -d '' -t argv < <(unit_argv "$unit" ExecStart)
    echo "   $unit: ExecStart ${argv[*]}"
    (as_unit "$unit" "${argv[@]}") >"$log" 2>&1 &
    MAINPID=$!
    PIDS+=("$MAINPID")
}
# stop_unit UNIT: SIGTERM (systemd's KillSignal), wait, check the exit status, remove the
# runtime directory as systemd does.
stop_unit() {
    local unit=$1 status rundir
    kill -TERM "$MAINPID"
    for _ in $(seq 150); do kill -0 "$MAINPID" 2>/dev/null || break; sleep 0.1; done
    wait "$MAINPID"
    status=$?
    PIDS=("${PIDS[@]/$MAINPID/}")
    check_eq "$unit: SIGTERM stops it with exit status 0" 0 "$status"
    if rundir=$(unit_get "$unit" RuntimeDirectory 2>/dev/null); then rm -rf "/run/$rundir"; fi
}
wait_for() {  # wait_for SECONDS COMMAND...
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        kill -0 "$MAINPID" 2>/dev/null || return 1
        sleep 0.1
    done
}
port_free() { [ -z "$(ss -ltnH "sport = :$1")" ]; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
socket_arg() {  # the --socket value of the unit's ExecStart
    unit_argv relaytrust-milter.service ExecStart | tr '\0' '\n' | sed -n '/^--socket$/{n;p}'
}
miltertest_sock() {  # Postfix syntax -> libmilter's, for miltertest
    case $1 in
        inet:*) local hp=${1#inet:}; echo "inet:${hp##*:}@${hp%:*}" ;;
        *) echo "$1" ;;
    esac
}
reload_unit() {  # reload_unit UNIT LOG PATTERN: ExecReload, then PATTERN must appear in LOG
    local out
    out=$(run_exec "$1" ExecReload "$MAINPID" 2>&1)
    check "$1: ExecReload ($(unit_argv "$1" ExecReload "$MAINPID" | tr '\0' ' '))" test -z "$out"
    check "$1: logs the reload" wait_for 10 grep -q -- "$3" "$2"
    sleep 0.3
    check "$1: still running after the reload" kill -0 "$MAINPID"
}

# relaytrust-milter, 1: the shipped settings (inet:127.0.0.1:8895).
step "relaytrust-milter as relaytrust-milter.service (shipped settings)"
SOCK=$(socket_arg)
port=${SOCK##*:}
if [ "${SOCK#inet:}" != "$SOCK" ] && ! port_free "$port"; then
    SOCK=inet:127.0.0.1:$(free_port)
    echo "NOTE: port $port is busy here; RELAYTRUST_MILTER_SOCKET=$SOCK in /etc/default/relaytrust-milter"
    echo "RELAYTRUST_MILTER_SOCKET=$SOCK" >>/etc/default/relaytrust-milter
fi
LOG=$WORK/milter-inet.log
start_unit relaytrust-milter.service "$LOG"
check "relaytrust-milter: listening on $SOCK" wait_for 20 grep -q "listening on $SOCK" "$LOG"
check "relaytrust-milter: runs as relaytrust" test "$(stat -c %U /proc/$MAINPID)" = relaytrust
check_eq "relaytrust-milter: no capabilities, no new privileges" "0000000000000000 1" \
    "$(awk '/^CapEff:/{e=$2} /^NoNewPrivs:/{n=$2} END{print e, n}' /proc/$MAINPID/status)"
out=$(miltertest -D "sock=$(miltertest_sock "$SOCK")" -s "$HERE/milter_check.lua" 2>&1)
status=$?
check "relaytrust-milter answers with the installed policy (miltertest)" test $status -eq 0
echo "$out" | sed 's/^/   /'
reload_unit relaytrust-milter.service "$LOG" "policy reloaded"
check "relaytrust-milter answers after the reload" \
    quiet miltertest -D "sock=$(miltertest_sock "$SOCK")" -s "$HERE/milter_check.lua"
stop_unit relaytrust-milter.service
if grep -Eiq 'warning|error' "$LOG"; then
    fail "relaytrust-milter: warnings or errors in its log:"
    sed 's/^/   log: /' "$LOG"
else
    pass "relaytrust-milter: no warnings or errors in its log"
fi

# relaytrust-milter, 2: a unix socket in the RuntimeDirectory, set in /etc/default.
step "relaytrust-milter as relaytrust-milter.service (unix socket from /etc/default/relaytrust-milter)"
echo "RELAYTRUST_MILTER_SOCKET=unix:/run/relaytrust-milter/milter.sock" >>/etc/default/relaytrust-milter
SOCK=$(socket_arg)
check_eq "EnvironmentFile overrides the socket" "unix:/run/relaytrust-milter/milter.sock" "$SOCK"
LOG=$WORK/milter-unix.log
start_unit relaytrust-milter.service "$LOG"
check "relaytrust-milter: socket created" wait_for 20 test -S /run/relaytrust-milter/milter.sock
check_eq "runtime directory as systemd makes it" "750 relaytrust:relaytrust" "$(mode /run/relaytrust-milter)"
check_eq "unix socket mode and owner" "660 relaytrust:relaytrust" "$(mode /run/relaytrust-milter/milter.sock)"
check "relaytrust-milter answers on the unix socket (miltertest)" \
    quiet miltertest -D "sock=$SOCK" -s "$HERE/milter_check.lua"
stop_unit relaytrust-milter.service

# relaytrust-hookd with the generated token.
step "relaytrust-hookd as relaytrust-hookd.service"
LISTEN=$(unit_argv relaytrust-hookd.service ExecStart | tr '\0' '\n' | sed -n '/^--listen$/{n;p}')
if ! port_free "${LISTEN##*:}"; then
    LISTEN=127.0.0.1:$(free_port)
    echo "NOTE: port 8686 is busy here; RELAYTRUST_HOOKD_LISTEN=$LISTEN in /etc/default/relaytrust-hookd"
    echo "RELAYTRUST_HOOKD_LISTEN=$LISTEN" >>/etc/default/relaytrust-hookd
fi
LOG=$WORK/hookd.log
start_unit relaytrust-hookd.service "$LOG"
BASE=http://$LISTEN
CURL=(curl -sS --max-time 10)
check "relaytrust-hookd: /healthz answers ok" wait_for 20 bash -c "[ \"\$(curl -s --max-time 2 $BASE/healthz)\" = ok ]"
check "relaytrust-hookd: runs as relaytrust" test "$(stat -c %U /proc/$MAINPID)" = relaytrust
check_eq "relaytrust-hookd: no capabilities, no new privileges" "0000000000000000 1" \
    "$(awk '/^CapEff:/{e=$2} /^NoNewPrivs:/{n=$2} END{print e, n}' /proc/$MAINPID/status)"
TOKEN=$(cat /etc/relaytrust/hookd.token)
request() {  # request LISTENER_PATH CLIENT_IP [CURL OPTIONS]
    local path=$1 ip=$2; shift 2
    "${CURL[@]}" "$@" -H 'Content-Type: application/json' --data-binary \
        "{\"context\":{\"stage\":\"connect\",\"client\":{\"ip\":\"$ip\",\"port\":50123,\"ptr\":null,\"helo\":null,\"activeConnections\":1},\"server\":{\"name\":\"Stalwart\",\"port\":25,\"ip\":\"::\"},\"protocol\":{\"version\":1}}}" \
        "$BASE$path"
}
check_eq "relaytrust-hookd: a hook request without the token gets 401" 401 \
    "$(request /hook/mx 192.0.2.1 -o /dev/null -w '%{http_code}')"
check_eq "relaytrust-hookd: mx connect with the generated token is accepted" '{"action":"accept"}' \
    "$(request /hook/mx 192.0.2.1 -H "Authorization: Bearer $TOKEN")"
check_match "relaytrust-hookd: relay-in from outside is refused (installed policy)" \
    '"action":"reject".*"status":554' "$(request /hook/relay-in 192.0.2.1 -H "Authorization: Bearer $TOKEN")"
check_match "relaytrust-hookd: /metrics with the token" '^relaytrust_hookd_policy_generation 1$' \
    "$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$BASE/metrics")"
reload_unit relaytrust-hookd.service "$LOG" "policy reloaded (generation 2)"
check_match "relaytrust-hookd: policy generation 2 after the reload" '^relaytrust_hookd_policy_generation 2$' \
    "$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$BASE/metrics")"
check_eq "relaytrust-hookd: still answers after the reload" '{"action":"accept"}' \
    "$(request /hook/mx 192.0.2.1 -H "Authorization: Bearer $TOKEN")"
stop_unit relaytrust-hookd.service
grep -Ei 'warning|error' "$LOG" | sed 's/^/   NOTE hookd log: /'

# --- purge -----------------------------------------------------------------------------------
step "apt-get purge ${PACKAGES[*]}"
t=$SECONDS
"${APT[@]}" purge "${PACKAGES[@]}" >"$WORK/purge.log" 2>&1 ||
    { cat "$WORK/purge.log"; fail "apt-get purge failed"; }
echo "   apt-get purge took $((SECONDS - t)) s"
check_eq "no relaytrust package left, not even its configuration" "" "$(present_packages)"
left=()
for path in /usr/bin/relaytrust /usr/sbin/relaytrust-milter /usr/sbin/relaytrust-hookd \
    /etc/relaytrust /etc/default/relaytrust-milter /etc/default/relaytrust-hookd \
    $UNIT_DIR/relaytrust-milter.service $UNIT_DIR/relaytrust-hookd.service \
    /usr/lib/sysusers.d/relaytrust.conf /run/relaytrust-milter \
    /usr/share/man/man1/relaytrust.1.gz /usr/share/man/man5/relaytrust-policy.5.gz \
    /usr/share/man/man8/relaytrust-milter.8.gz /usr/share/man/man8/relaytrust-hookd.8.gz \
    /usr/share/doc/relaytrust /usr/share/doc/relaytrust-milter /usr/share/doc/relaytrust-hookd \
    /etc/systemd/system/*/relaytrust-* /var/lib/systemd/deb-systemd-helper-enabled/*relaytrust* \
    /var/lib/systemd/deb-systemd-helper-enabled/*/relaytrust-* \
    /var/lib/systemd/deb-systemd-helper-masked/relaytrust-*; do
    [ -e "$path" ] || [ -L "$path" ] && left+=("$path")
done
check_eq "no file left" "" "${left[*]}"
check "user relaytrust removed" bash -c '! getent passwd relaytrust >/dev/null'
check "group relaytrust removed" bash -c '! getent group relaytrust >/dev/null'
if [ -n "${RT_UID:-}" ]; then
    check_eq "no process of uid $RT_UID left" "" "$(ps -o pid= -u "$RT_UID" 2>/dev/null)"
    check_eq "no file of uid $RT_UID / gid $RT_GID left in /etc /run /var" "" \
        "$(find /etc /run /var -xdev \( -uid "$RT_UID" -o -gid "$RT_GID" \) -print 2>/dev/null | head -5)"
fi

echo "packaging.deb took $((SECONDS - T0)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
