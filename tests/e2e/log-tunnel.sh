#!/bin/bash
# A tunnel's row in the connection log is written when it opens and
# completed when it closes: a connection that stays open (a stream, a
# WebSocket, a long download) is listed while it runs, as the original
# lists it from the decision; its bytes and duration arrive with its
# end, on the same row (request_log.created, then .updated, one id);
# and a kill -9 while it runs keeps its row.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; P=$ORIGIN_PORT
gp_start
rule add allow 127.0.0.1 --port "$P" >/dev/null
ws_events

declare -A HOLD
# hold MODE USER: a tunnel (socks or connect) to the origin, held open
# until $T/go-USER exists; then one request through it, then closed.
hold() {
	python3 "$LIB/hold.py" "$1" "$2" "$GP_HTTP" "$GP_SOCKS" "$P" "$T/go-$2" > "$T/hold-$2.out" 2>&1 &
	HOLD[$2]=$!; PIDS="$PIDS $!"
}
row() {	# row USER EXPR: EXPR over the user's rows (d: the list)
	jget "$(api GET "/api/logs?container=$1&limit=10")" "$2"
}

for mode in socks connect; do
	u="holder-$mode"
	hold "$mode" "$u"
	wait_for 10 grep -q open "$T/hold-$u.out"; ok $? "$mode: the tunnel is open"
	wait_for 5 test "$(row "$u" 'd["total"]')" = 1; ok $? "$mode: listed while open"
	is "$(row "$u" 'd["items"][0]["result"]')" allowed "$mode: allowed"
	is "$(row "$u" 'd["items"][0]["bytes_down"]')" 0 "$mode: nothing relayed yet"
	is "$(row "$u" 'd["items"][0].get("open")')" True "$mode: marked open in /api/logs"
	id=$(row "$u" 'd["items"][0]["id"]')
	wait_for 5 grep -q "\"request_log.created\".*\"container_name\":\"$u\"" "$T/ws.out"; ok $? "$mode: announced when it opened"
	like "$(grep "\"request_log.created\".*\"container_name\":\"$u\"" "$T/ws.out")" "\"id\":$id[,}]" "$mode: with the row's id"
	like "$(grep "\"request_log.created\".*\"container_name\":\"$u\"" "$T/ws.out")" "\"open\":true" "$mode: marked open"
	touch "$T/go-$u"
	wait "${HOLD[$u]}"; is $? 0 "$mode: a request through it, then closed"
	wait_for 5 test "$(row "$u" 'd["items"][0]["bytes_down"]')" -gt 0 2>/dev/null; ok $? "$mode: completed with its bytes when it closed"
	is "$(row "$u" 'd["total"]')" 1 "$mode: still one row"
	is "$(row "$u" 'd["items"][0]["id"]')" "$id" "$mode: the same row"
	is "$(row "$u" 'd["items"][0].get("open")')" None "$mode: no longer open"
	check "$(row "$u" 'd["items"][0]["response_time_ms"]') >= 0" "$mode: with its duration"
	check "$(row "$u" 'd["items"][0]["bytes_up"]') > 0" "$mode: and its bytes up"
	wait_for 5 grep -q "\"request_log.updated\".*\"id\":$id[,}]" "$T/ws.out"; ok $? "$mode: announced again, by id, when it closed"
	unlike "$(grep "\"request_log.updated\".*\"id\":$id[,}]" "$T/ws.out")" "\"open\"" "$mode: no longer open"
done
st=$(api GET /api/logs/stats)
is "$(jget "$st" 'd["total_requests"]')" "$(sql 'SELECT count(*) FROM request_logs')" "stats count each tunnel once"

# kill -9 while a tunnel runs: its row, written at the opening, stays.
hold socks holder-killed
wait_for 10 grep -q open "$T/hold-holder-killed.out"; ok $? "a third tunnel open"
wait_for 5 test "$(row holder-killed 'd["total"]')" = 1; ok $? "listed (so written)"
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
touch "$T/go-holder-killed"
is "$(sql "SELECT count(*) FROM request_logs WHERE container_name = 'holder-killed'")" 1 "after kill -9 its row is there"
gp_start
hold socks holder-after
wait_for 10 grep -q open "$T/hold-holder-after.out"; ok $? "after a restart, a tunnel"
wait_for 5 test "$(row holder-after 'd["total"]')" = 1; ok $? "gets a row"
check "$(row holder-after 'd["items"][0]["id"]') > $(sql "SELECT id FROM request_logs WHERE container_name = 'holder-killed'")" "with a new id, after those written"
touch "$T/go-holder-after"
done_testing
