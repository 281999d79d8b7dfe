#!/usr/bin/env bash
# Bad input gets the right status and never stops hookd serving others: truncated JSON, wrong
# types, a 10 MB body, missing/wrong auth, wrong method/path, slow clients; and the startup
# refusals (--no-auth off loopback, broken policy).
#   bad_input_test.sh HOOKD_BINARY SHARED_DIR
set -u
HOOKD=$1
source "$(dirname "$0")/lib.sh"
ZONE="$(dirname "$0")/offline.zone.yml"  # no DNS traffic, no DNS timeouts
require_tools curl timeout
require_fixtures "${RELAYTRUST_SHARED_DIR:-$2}"

TOKEN="tok-$$-$RANDOM$RANDOM"
printf '%s\n' "$TOKEN" >"$WORK/token"
chmod 600 "$WORK/token"
start_hookd H --dns-zone "$ZONE" --bearer-token-file "$WORK/token" --max-body 4194304 --threads 4 \
    --read-timeout 1000 --request-timeout 2000
URL="http://127.0.0.1:$H_PORT"
AUTH="Authorization: Bearer $TOKEN"
CONNECT="$FIXTURES/derived/request-connect.json"

# post BODY_FILE [curl args...] -> "CODE BODY"
post() {
    local file=$1
    shift
    curl -sS --max-time 10 -o "$WORK/reply" -w '%{http_code}' -H "$AUTH" "$@" \
        --data-binary @"$file" "$URL/hook/mx"
    printf ' %s' "$(cat "$WORK/reply")"
}
serving() {
    check "$1: still serving others" "200 {\"action\":\"accept\"}" "$(post "$CONNECT")"
}

head -c 100 "$FIXTURES/derived/request-data.json" >"$WORK/truncated.json"
out=$(post "$WORK/truncated.json")
check_match "truncated JSON: 400 with a one-line reason" '^400 malformed JSON at offset [0-9]+: .+$' "$out"
check "the reason is one line" 1 "$(wc -l <"$WORK/reply")"
serving "after truncated JSON"

sed 's/"port":50123/"port":"50123"/' "$CONNECT" >"$WORK/wrong-type.json"
check "wrong type: 400 naming the member" \
    "400 context.client.port: expected an integer 0..65535" "$(post "$WORK/wrong-type.json")"
printf '{"action":"accept"}' >"$WORK/not-a-request.json"
check "a JSON object that is not a request: 400" "400 request.context: missing" \
    "$(post "$WORK/not-a-request.json")"

head -c 10485760 /dev/zero | tr '\0' 'a' >"$WORK/10mb"
out=$(post "$WORK/10mb")
check_match "10 MB body: 413" '^413 request body larger than 4194304 bytes' "$out"
out=$(post "$WORK/10mb" -H 'Transfer-Encoding: chunked')
check_match "10 MB chunked body: 413" '^413 ' "$out"
serving "after 10 MB bodies"

code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$CONNECT" "$URL/hook/mx")
check "missing auth: 401" 401 "$code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$TOKEN" \
    --data-binary @"$CONNECT" "$URL/hook/mx")
check "wrong auth: 401" 401 "$code"

out=$(curl -sS -D - -o /dev/null -H "$AUTH" "$URL/hook/mx")
check_match "GET on a hook path: 405" '^HTTP/1.1 405' "$out"
check_match "405 says what is allowed" 'Allow: POST' "$out"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$AUTH" --data-binary @"$CONNECT" "$URL/nope")
check "unknown path: 404" 404 "$code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" "$URL/metrics")
check "DELETE /metrics: 405" 405 "$code"

# A POST without Content-Length or chunked framing (raw socket: curl always frames).
exec 3<>"/dev/tcp/127.0.0.1/$H_PORT"
printf 'POST /hook/mx HTTP/1.1\r\nHost: x\r\n%s\r\nConnection: close\r\n\r\n' "$AUTH" >&3
out=$(timeout 5 head -n 1 <&3 | tr -d '\r')
exec 3>&-
check "POST without a length: 411" "HTTP/1.1 411 Length Required" "$out"

# Slow body: 10 of 100 bytes, then silence. Others are served meanwhile; the slow one gets
# 408 once the read timeout (1 s) passes.
exec 3<>"/dev/tcp/127.0.0.1/$H_PORT"
printf 'POST /hook/mx HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 100\r\n\r\n0123456789' "$AUTH" >&3
serving "while a client stalls mid-body"
start=$SECONDS
out=$(timeout 8 head -n 1 <&3 | tr -d '\r')
exec 3>&-
check_match "stalled body: 408" '^HTTP/1.1 408 ' "$out"
check_match "408 within the timeouts" '^[0-3]$' "$((SECONDS - start))"

# Trickling body: a byte every 0.4 s never trips the 1 s read timeout, but the 2 s request
# timeout cuts it off.
exec 3<>"/dev/tcp/127.0.0.1/$H_PORT"
printf 'POST /hook/mx HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 100\r\n\r\n' "$AUTH" >&3
(for i in $(seq 15); do printf 'x' >&3 2>/dev/null || exit 0; sleep 0.4; done) &
trickler=$!
start=$SECONDS
out=$(timeout 8 head -n 1 <&3 | tr -d '\r')
kill "$trickler" 2>/dev/null
wait "$trickler" 2>/dev/null
exec 3>&-
check_match "trickled body: 408" '^HTTP/1.1 408 ' "$out"
check_match "cut off near the 2 s request timeout" '^[1-4]$' "$((SECONDS - start))"

# Slow headers: half a request line, then silence; the connection is closed after 1 s.
exec 3<>"/dev/tcp/127.0.0.1/$H_PORT"
printf 'POST /hook/mx HT' >&3
start=$SECONDS
timeout 8 cat <&3 >/dev/null
exec 3>&-
check_match "stalled headers: connection closed in time" '^[0-3]$' "$((SECONDS - start))"

# More stalled clients than threads (4): each is dropped on time and the queue keeps moving.
# (Those still queued when closed below end their headers with EOF and get a 401.)
for i in 1 2 3 4 5 6; do
    exec {fd}<>"/dev/tcp/127.0.0.1/$H_PORT"
    printf 'POST /hook/mx HTTP/1.1\r\n' >&$fd
    eval "stalled_$i=$fd"
done
start=$SECONDS
serving "with more stalled connections than threads"
check_match "served within a few read timeouts" '^[0-4]$' "$((SECONDS - start))"
for i in 1 2 3 4 5 6; do eval "exec {stalled_$i}>&-"; done

kill -0 "$H_PID" 2>/dev/null
check "hookd is still running" 0 $?
check "healthz" "ok" "$(curl -sS "$URL/healthz")"
metrics=$(curl -sS -H "$AUTH" "$URL/metrics")
check_match "metrics: bad requests" 'relaytrust_hookd_errors_total\{kind="bad_request"\} [3-9]' "$metrics"
check_match "metrics: too large" 'relaytrust_hookd_errors_total\{kind="too_large"\} 2' "$metrics"
check_match "metrics: unauthorized" 'relaytrust_hookd_errors_total\{kind="unauthorized"\} [2-9]' "$metrics"
check_match "metrics: timeouts" 'relaytrust_hookd_errors_total\{kind="timeout"\} [2-9]' "$metrics"

# Startup refusals.
out=$("$HOOKD" --no-auth --listen 0.0.0.0:0 2>&1)
check "--no-auth off loopback: exit 1" 1 $?
check_match "--no-auth off loopback: says why" 'no-auth is refused on a non-loopback address' "$out"
out=$("$HOOKD" --listen 127.0.0.1:0 2>&1)
check "no credentials and no --no-auth: exit 1" 1 $?
printf '{\n  "listeners": [ nonsense ]\n}\n' >"$WORK/broken.jsonc"
out=$("$HOOKD" --no-auth --listen 127.0.0.1:0 --policy "$WORK/broken.jsonc" 2>&1)
check "broken policy: exit 2" 2 $?
check_match "broken policy: file:line:col" "$WORK/broken.jsonc:[0-9]+:[0-9]+: " "$out"
out=$("$HOOKD" --no-auth --listen 127.0.0.1:0 --dns-zone "$WORK/missing.yml" 2>&1)
check "unreadable DNS zone file: exit 2" 2 $?
out=$("$HOOKD" --bearer-token-file "$WORK/missing-token" --listen 127.0.0.1:0 2>&1)
check "unreadable token file: exit 3" 3 $?

finish
