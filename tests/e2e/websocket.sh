#!/bin/bash
# WebSocket events and commands: handshake, pending and log events as they
# happen, allow through a command, ping/pong, fragmentation,
# subscriptions, bad input.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
gp_start
O="http://127.0.0.1:$ORIGIN_PORT"
AH=${GP_API%:*}; AP=${GP_API##*:}

ws_open() {	# ws_open NAME [wsclient args]: fd 3 writes commands
	mkfifo "$T/$1.in"
	python3 "$LIB/wsclient.py" "$AH" "$AP" "${@:2}" < "$T/$1.in" > "$T/$1.out" 2>&1 &
	PIDS="$PIDS $!"
	exec 3>"$T/$1.in"
}
seen() { grep -q -- "$2" "$T/$1.out"; }	# seen NAME REGEX
line() { grep -m1 -- "$2" "$T/$1.out"; }

ws_open a
wait_for 5 seen a '^HANDSHAKE 101'; ok $? "handshake: 101"
wait_for 5 seen a '"type":"connected"'; ok $? "connected message"

echo '{"command":"ping"}' >&3
wait_for 5 seen a '"type":"pong"'; ok $? "ping command: pong"
echo 'PING' >&3
wait_for 5 seen a '^PONG$'; ok $? "ping frame: pong frame"
echo 'FRAG {"command":"ping","x":1}' >&3
two_pongs() { [ "$(grep -c '"type":"pong"' "$T/a.out")" -ge 2 ]; }
wait_for 5 two_pongs; ok $? "fragmented message reassembled"

( curl -s -o "$T/c1" --max-time 20 -x "http://$GP_HTTP" "$O/hello" ) &
c1=$!; PIDS="$PIDS $c1"
wait_for 10 seen a '"type":"pending_request.created"'; ok $? "pending_request.created event"
wait_for 5 seen a '"type":"waiters.changed"'; ok $? "waiters.changed event"
id=$(line a 'pending_request.created' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
like "$(line a 'pending_request.created')" '"destination_host":"127.0.0.1"' "event carries the PendingRequest"
echo "{\"command\":\"allow\",\"pending_id\":$id,\"scope\":\"exact\"}" >&3
wait_for 5 seen a '"type":"command_success"'; ok $? "allow command: command_success"
like "$(line a command_success)" '"rule_id":[0-9]+' "command_success carries the rule id"
wait_for 5 seen a '"type":"pending_request.allowed"'; ok $? "pending_request.allowed event"
wait "$c1"; is "$(cat "$T/c1")" "hello from origin" "allowed over the WebSocket: request released"
wait_for 5 seen a '"type":"request_log.created"'; ok $? "log event as it happens"
like "$(line a request_log.created)" '"result":"allowed"' "log event fields"
wait_for 5 seen a '"type":"rule.created"'; ok $? "rule.created event"

echo '{"command":"allow","pending_id":999999}' >&3
wait_for 5 seen a 'pending request not found'; ok $? "allow of an unknown id: error"
echo 'this is not json' >&3
wait_for 5 seen a 'expected {'; ok $? "bad JSON: error message"
echo '{"command":"fly"}' >&3
wait_for 5 seen a 'unknown command'; ok $? "unknown command: error"
echo '{"command":"subscribe"}' >&3
wait_for 5 seen a 'missing or unknown event_type'; ok $? "subscribe without event_type: error"

# Subscriptions: after subscribing, only those types arrive.
exec 3>&-
ws_open b
wait_for 5 seen b '"type":"connected"'
echo '{"command":"subscribe","event_type":"rule.deleted"}' >&3
wait_for 5 seen b '"type":"subscribed"'; ok $? "subscribe acknowledged"
curl -s -o /dev/null -x "http://$GP_HTTP" "$O/hello"
rid=$(sql "SELECT id FROM rules LIMIT 1")
api DELETE "/api/rules/$rid" >/dev/null
wait_for 5 seen b '"type":"rule.deleted"'; ok $? "subscribed event delivered"
ok "$(grep -c 'request_log.created' "$T/b.out")" "unsubscribed events filtered"

# Close handshake, then bad frames and handshakes.
echo 'CLOSE' >&3
wait_for 5 seen b '^CLOSE 1000'; ok $? "close frame answered"
exec 3>&-
ws_open c
wait_for 5 seen c '"type":"connected"'
echo 'RAW 81050102030405' >&3	# unmasked client frame: protocol error
wait_for 5 seen c '^CLOSE 1002'; ok $? "unmasked client frame: closed with 1002"
exec 3>&-
ws_open d --origin http://evil.example
wait_for 5 seen d '^HANDSHAKE 403'; ok $? "cross-site WebSocket refused"
exec 3>&-
ws_open e --origin null
wait_for 5 seen e '^HANDSHAKE 403'; ok $? "WebSocket from Origin: null refused"
exec 3>&-
ws_open f --origin http://localhost:9
wait_for 5 seen f '^HANDSHAKE 403'; ok $? "WebSocket from another loopback port refused"
exec 3>&-
out=$(printf 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n' |
	python3 "$LIB/rawclient.py" "$AH" "$AP" --expect-close)
like "$out" "^HTTP/1.1 400" "handshake without a key: 400"
out=$(printf 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n' |
	python3 "$LIB/rawclient.py" "$AH" "$AP" --expect-close)
like "$out" "^HTTP/1.1 426" "old WebSocket version: 426"
kill -0 "$GP_PID"; ok $? "server alive after bad WebSocket input"
done_testing
