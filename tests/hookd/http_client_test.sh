#!/usr/bin/env bash
# A real client (curl, openssl s_client) against a running relaytrust-hookd over HTTPS with a
# self-signed certificate made here: keep-alive reuse, TLS versions, Bearer and Basic auth.
#   http_client_test.sh HOOKD_BINARY SHARED_DIR
set -u
HOOKD=$1
source "$(dirname "$0")/lib.sh"
ZONE="$(dirname "$0")/offline.zone.yml"  # no DNS traffic, no DNS timeouts
require_tools curl openssl
require_fixtures "${RELAYTRUST_SHARED_DIR:-$2}"

TOKEN="tok-$(openssl rand -hex 16)"
printf '%s\n' "$TOKEN" >"$WORK/token"
printf 'stalwart:basic-secret\n' >"$WORK/basic"
chmod 600 "$WORK/token" "$WORK/basic"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
    { echo "FATAL: openssl could not make a certificate"; exit 1; }

start_hookd TLS --dns-zone "$ZONE" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" \
    --bearer-token-file "$WORK/token" --basic-auth-file "$WORK/basic"
check_match "listens on https" "listening on https://127.0.0.1:$TLS_PORT" "$(cat "$TLS_LOG")"
BASE="https://127.0.0.1:$TLS_PORT"
CURL=(curl -sS --cacert "$WORK/cert.pem" --max-time 10)
AUTH="Authorization: Bearer $TOKEN"

# Keep-alive: three requests on one connection (num_connects counts new connections).
out=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{num_connects}\n' \
    -H "$AUTH" --data-binary @"$FIXTURES/derived/request-connect.json" "$BASE/hook/mx" \
    --next "${CURL[@]:1}" -o /dev/null -w '%{http_code} %{num_connects}\n' \
    -H "$AUTH" --data-binary @"$FIXTURES/derived/request-mail.json" "$BASE/hook/mx" \
    --next "${CURL[@]:1}" -o /dev/null -w '%{http_code} %{num_connects}\n' \
    -H "$AUTH" --data-binary @"$FIXTURES/derived/request-data.json" "$BASE/hook/mx")
check "three requests over one kept-alive TLS connection" "200 1
200 0
200 0" "$out"

body=$("${CURL[@]}" -H "$AUTH" -H 'Content-Type: application/json' \
    --data-binary @"$FIXTURES/derived/request-data.json" "$BASE/hook/mx")
check_match "data answer over TLS" '^\{"action":"accept","modifications":\[\{"type":"addHeader","name":"X-Relaytrust-Result"' "$body"

# TLS: the certificate is checked by the client, old protocol versions are refused.
"${CURL[@]:0:2}" --max-time 10 -o /dev/null "$BASE/healthz" 2>/dev/null
check "an untrusted certificate is refused by curl (exit 60)" 60 $?
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$TLS_PORT/healthz")
check "plain HTTP on the TLS port gets no HTTP answer" 000 "$code"
"${CURL[@]}" --tlsv1.1 --tls-max 1.1 -o /dev/null "$BASE/healthz" 2>/dev/null
check_match "TLS 1.1 is refused" '^[1-9][0-9]*$' "$?"
proto=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -brief </dev/null 2>&1 | sed -n 's/^Protocol version: //p')
check_match "negotiates TLS 1.2 or newer" '^TLSv1\.[23]$' "$proto"

# Auth: none, wrong, Bearer, Basic.
out=$("${CURL[@]}" -D - -o /dev/null --data-binary @"$FIXTURES/derived/request-connect.json" "$BASE/hook/mx")
check_match "no credentials: 401" '^HTTP/1.1 401' "$out"
check_match "401 names the scheme" 'WWW-Authenticate: Bearer realm="relaytrust-hookd"' "$out"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-$TOKEN" \
    --data-binary @"$FIXTURES/derived/request-connect.json" "$BASE/hook/mx")
check "wrong bearer token: 401" 401 "$code"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u stalwart:basic-secret \
    --data-binary @"$FIXTURES/derived/request-connect.json" "$BASE/hook/mx")
check "Basic auth: 200" 200 "$code"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u stalwart:nope \
    --data-binary @"$FIXTURES/derived/request-connect.json" "$BASE/hook/mx")
check "wrong Basic password: 401" 401 "$code"
check "healthz needs no auth" "ok" "$("${CURL[@]}" "$BASE/healthz")"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/metrics")
check "metrics need auth" 401 "$code"
metrics=$("${CURL[@]}" -H "$AUTH" "$BASE/metrics")
check_match "metrics count the requests by stage and action" \
    'relaytrust_hookd_requests_total\{stage="data",action="accept"\} [1-9]' "$metrics"
check_match "metrics count the auth failures" 'relaytrust_hookd_errors_total\{kind="unauthorized"\} [3-9]' "$metrics"

finish
