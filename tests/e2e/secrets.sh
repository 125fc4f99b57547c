#!/bin/bash
# Userinfo in URLs (http://user:password@host/) never reaches the
# connection log, the database, events, the server log or pending.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
GP_SETTINGS='{"pendingTimeout":2}'
origin_start o
gp_start
rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
O="http://127.0.0.1:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$O"; ok $? "baseline"
AH=${GP_API%:*}; AP=${GP_API##*:}
python3 "$LIB/wsclient.py" "$AH" "$AP" < /dev/null > "$T/ws.out" 2>&1 &
WS=$!; PIDS="$PIDS $WS"
wait_for 5 grep -q '"type":"connected"' "$T/ws.out"; ok $? "event stream open"

out=$(curl -s --max-time 10 -x "http://$GP_HTTP" "http://agent:S3cretPassw0rd@127.0.0.1:$ORIGIN_PORT/hello")
is "$out" "hello from origin" "a URL with userinfo is served"
# An unmatched one is held (listed in pending), then times out.
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://agent:S3cretPassw0rd@held.example:81/x"
# A malformed one is logged as a bad target.
printf "GET http://agent:S3cretPassw0rd@example.com:99999/ HTTP/1.1\r\n\r\n" |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" >/dev/null
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE destination_host='held.example'" 1
ok $? "rows written"
logs=$(api GET /api/logs)
like "$logs" "GET http://127.0.0.1:$ORIGIN_PORT/hello" "the request is logged without its userinfo"
! printf '%s' "$logs" | grep -q S3cret; ok $? "/api/logs: no password"
! api GET /api/pending | grep -q S3cret; ok $? "/api/pending: no password"
! grep -q S3cret "$T/ws.out"; ok $? "WebSocket events: no password"
! grep -q S3cret "$T/serve.log"; ok $? "server log: no password"
grep -q "bad target" "$T/serve.log"; ok $? "(the bad target was logged)"
gp_stop
! grep -aq S3cret "$GP_DATA"/greyproxy.db*; ok $? "database files: no password"
! grep -q 'agent:' "$GP_DATA"/greyproxy.db 2>/dev/null; ok $? "database: no user name either"
done_testing
