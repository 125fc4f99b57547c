#!/bin/bash
# Queries of the connection log run on a worker through their own
# connection: a scan of a large log never stalls the loop (the loop's own
# gauge in /api/status says so), answers come in order on a kept-alive
# connection, and a query still sees every row logged before it.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

N=400000
gp_start; gp_stop			# the schema
sql "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
     INSERT INTO request_logs (timestamp, container_name, destination_host,
       destination_port, result, request)
     SELECT datetime('now', '-1 hours'), 'synth', 'host' || i || '.test', 443,
       'allowed', 'CONNECT' FROM s"
origin_start o; P=$ORIGIN_PORT
gp_start
rule add allow 127.0.0.1 --port "$P" >/dev/null

st=$(api GET /api/status)
check "$(jget "$st" 'd["loop"]["iterations"]') > 0" "status reports the loop's iterations"
like "$st" '"busy_max_ms":' "and its longest busy stretch"

# A substring search over every row: a scan, timed end to end.
q() { curl -s -o "$T/q.out" -w '%{time_total}' "http://$GP_API/api/logs?destination=$1&limit=5"; }
q nomatch-zz >/dev/null			# the worker's connection, opened
secs=$(q nomatch-zz)
is "$(jget "$(cat "$T/q.out")" 'd["total"]')" 0 "the scan found nothing, as asked"
scan_ms=$(python3 -c "print(int(float('$secs') * 1000))")
check "$scan_ms >= 20" "the scan of $N rows takes long enough to tell ($scan_ms ms)"
busy=$(jget "$(api GET /api/status)" 'd["loop"]["busy_max_ms"]')
check "$(python3 -c "print(int(float('$busy') < $scan_ms / 2))") == 1" \
	"the loop never stalled for it (longest busy stretch $busy ms, scan $scan_ms ms)"

# Rows logged just before a query are in its answer.
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -o /dev/null -x "http://$GP_HTTP" "http://127.0.0.1:$P/hello"
done
is "$(jget "$(api GET "/api/logs?destination=127.0.0.1&limit=50")" 'd["total"]')" 10 \
	"a query sees every row logged before it"
is "$(jget "$(api GET /api/logs/stats)" 'd["total_requests"]')" $((N + 10)) \
	"and so do the stats"

# Two deferred answers on one kept-alive connection, in order.
out=$(printf '%s\r\n' "GET /api/logs?destination=nomatch-zz&limit=1 HTTP/1.1" "Host: localhost" "" \
	"GET /api/logs/stats HTTP/1.1" "Host: localhost" "" \
	"GET /api/health HTTP/1.1" "Host: localhost" "Connection: close" "" |
	python3 "$LIB/rawclient.py" "${GP_API%:*}" "${GP_API##*:}" --timeout 20 --expect-close)
is "$(printf '%s' "$out" | grep -o 'HTTP/1.1 200' | wc -l)" 3 "pipelined: three answers"
is "$(printf '%s' "$out" | grep -o '"items"\|"total_requests"\|"status"' | tr '\n' ' ')" \
	'"items" "total_requests" "status" ' "in order: the log query, the stats, health"
done_testing
