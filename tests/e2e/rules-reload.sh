#!/bin/bash
# The server reloads its rules when another process changes them (the
# CLI on the same data directory), and only then: the connection log's
# own writer thread, hit counts and the server's own edits never cause a
# reload (at 100 000 rules one costs ~150 ms of the loop).
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; P=$ORIGIN_PORT
gp_start
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://$GP_HTTP" "http://127.0.0.1:$1/hello"; }
reloads() { grep -c "reloading rules" "$T/serve.log"; }
logged() { jget "$(api GET /api/logs/stats)" 'd["total_requests"]'; }

api POST /api/rules -d "{\"destination_pattern\":\"127.0.0.1\",\"port_pattern\":\"$P\"}" >/dev/null
is "$(api_status)" 200 "a rule through the API"
for i in $(seq 20); do code "$P" >/dev/null; done
is "$(code "$P")" 200 "it allows"
# The writer commits rows and hit counts on its own connection; the
# watch (every 250 ms) sees another connection's commits each time.
wait_for 10 eval '[ "$(logged)" -ge 21 ]'
ok $? "the requests are logged (by the writer thread)"
wait_for 10 eval '[ "$(sql "SELECT hit_count FROM rules LIMIT 1")" -ge 21 ]'
ok $? "and the rule's hits counted"
# An absence: nothing to wait for but the watch's ticks (every 250 ms),
# two of them after the last commit.
sleep 0.6
is "$(reloads)" 0 "no reload for the log's writes or the server's own rule"

# Another process adds a rule: the next watch tick reloads, once.
"$GREYPROXY" rule --data-dir "$GP_DATA" add deny 127.0.0.1 --port "$P" >/dev/null
wait_for 10 eval '[ "$(reloads)" -ge 1 ]'
ok $? "a rule added by another process is seen"
# Loaded and compiled on a worker, then swapped in.
wait_for 10 eval '[ "$(code "$P")" = 403 ]'
ok $? "and decides (deny wins the tie)"
for i in $(seq 10); do code "$P" >/dev/null; done
wait_for 10 eval '[ "$(logged)" -ge 32 ]'
sleep 0.6
is "$(reloads)" 1 "one reload for it, none for the log after"

# An edit by another process made between two of the server's own: the
# server's own do not hide it.
id=$(jget "$(api GET '/api/rules?action=deny')" 'd["items"][0]["id"]')
"$GREYPROXY" rule --data-dir "$GP_DATA" rm "$id" >/dev/null
api POST /api/rules -d '{"destination_pattern":"other.test"}' >/dev/null
wait_for 10 eval '[ "$(code "$P")" = 200 ]'
ok $? "the other process's removal still reloads after an own edit"
done_testing
