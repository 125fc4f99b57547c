#!/bin/bash
# The connection log is written by a thread with its own connection:
# every decision is logged and a query reads what was logged before it;
# under a burst, kill -9 loses no acknowledged rule and leaves the
# database intact; after a restart the writer goes on.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; P=$ORIGIN_PORT
GP_SETTINGS='{"privateNetworkProtection":false}'
gp_start
rule add allow 127.0.0.1 >/dev/null
stats() { jget "$(api GET /api/logs/stats)" "d[\"$1\"]"; }
urls() { local i; for ((i = 0; i < $1; i++)); do printf 'url = "http://127.0.0.1:%s/hello?%s"\noutput = /dev/null\n' "$P" "$2$i"; done; }

# Read-your-writes: 200 requests done, 200 rows counted.
urls 200 a > "$T/a.cfg"
curl -s -K "$T/a.cfg" -x "http://$GP_HTTP" --max-time 60
is "$(stats total_requests)" 200 "every request is logged and counted at once"
is "$(jget "$(api GET '/api/logs?limit=1')" 'd["total"]')" 200 "and listed"

# A burst from four clients; rules added meanwhile are acknowledged;
# then kill -9 while rows are in flight.
for k in 1 2 3 4; do
	urls 600 "b$k-" > "$T/b$k.cfg"
	curl -s -K "$T/b$k.cfg" -x "http://$GP_HTTP" --max-time 120 2>/dev/null &
	PIDS="$PIDS $!"; eval "burst$k=$!"
done
acked=0
for i in $(seq 1 20); do
	c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d "{\"destination_pattern\":\"acked$i.test\"}" "http://$GP_API/api/rules")
	[ "$c" = 200 ] && acked=$((acked + 1))
done
is "$acked" 20 "20 rules acknowledged during the burst"
wait_for 20 eval '[ "$(jget "$(api GET /api/status)" "d[\"allowed\"]")" -ge 700 ]'
ok $? "the burst is under way"
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
for k in 1 2 3 4; do eval "kill \$burst$k" 2>/dev/null; done
is "$(sql 'PRAGMA integrity_check')" ok "after kill -9 mid-burst: integrity ok"
is "$(sql "SELECT count(*) FROM rules WHERE destination_pattern LIKE 'acked%.test'")" 20 \
	"every acknowledged rule is there"
rows=$(sql 'SELECT count(*) FROM request_logs')
check "$rows >= 200 && $rows <= 200 + 2400" "the log holds what was written ($rows rows)"

gp_start
before=$(stats total_requests)
is "$before" "$rows" "after the restart the stats count the stored rows"
urls 50 c > "$T/c.cfg"
curl -s -K "$T/c.cfg" -x "http://$GP_HTTP" --max-time 60
is "$(stats total_requests)" $((before + 50)) "the writer goes on after a restart"
gp_stop
is "$(sql 'SELECT count(*) FROM request_logs')" $((before + 50)) "a clean stop writes the last rows"
done_testing
