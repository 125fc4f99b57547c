#!/bin/bash
# The TUI's lists hold the newest rules (10 000), log rows and
# transactions (500 each); their filter also searches the server, so
# the oldest of more is found by typing part of it: a rule of 10 050
# (the view says it holds the newest), a log row and a transaction of
# 2 100 (more than the lists keep from live events: 2 000 and 1 000).
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
P=$ORIGIN_PORT
tui_core
wait_for 5 on_screen "1 Pending"; ok $? "drawn"

# 10 050 rules in one ingest; the first is the oldest.
python3 -c '
import json
r = [{"destination_pattern": "oldest-needle.example", "action": "deny",
      "notes": "imported first"}]
r += [{"destination_pattern": "h%d.example" % i} for i in range(10049)]
print(json.dumps(r))' > "$T/rules.json"
out=$(curl -s -X POST --data-binary @"$T/rules.json" "http://$GP_API/api/rules/ingest")
is "$(jget "$out" 'd["imported"]')" 10050 "10 050 rules imported"

# The API's search: what the filter matches, over every rule.
s=$(curl -s "http://$GP_API/api/rules?search=OLDEST-needle")
is "$(jget "$s" 'd["total"]')" 1 "search: one rule, case-insensitive"
is "$(jget "$s" 'd["items"][0]["destination_pattern"]')" oldest-needle.example "the oldest"
s=$(curl -s "http://$GP_API/api/rules?search=imported%20first")
is "$(jget "$s" 'd["total"]')" 1 "search reaches the notes"
want=$(python3 -c 'import json,sys; print(sum("h100" in r["destination_pattern"] for r in json.load(open(sys.argv[1]))))' "$T/rules.json")
s=$(curl -s "http://$GP_API/api/rules?search=h100&limit=5")
is "$(jget "$s" 'd["total"]')" "$want" "search counts every match ($want)"
is "$(jget "$s" 'len(d["items"])')" 5 "and pages them"
s=$(curl -s "http://$GP_API/api/rules?search=nothing-like-it")
is "$(jget "$s" 'd["total"]')" 0 "no match: total 0"

keys 2
wait_for 10 on_screen "newest 10000 of 10050"; ok $? "the view says it holds the newest 10 000 of 10 050"
keys G
wait_for 5 on_screen "h49.example"; ok $? "its end is the 10 000th newest"
not_on_screen "oldest-needle"; ok $? "the oldest is not in the list"
keys / o l d e s t - n e e
wait_for 10 on_screen "oldest-needle.example"; ok $? "the filter finds it on the server"
like "$(screen | grep 'oldest-needle')" "deny" "with its action"
keys Enter
wait_for 5 on_screen "/oldest-nee: 1 of 1"; ok $? "one match"
keys Escape
wait_for 10 on_screen "newest 10000 of 10050"; ok $? "Esc: the newest again"
not_on_screen "oldest-needle"; ok $? "and the search's result is gone"

# --- Activity and Traffic: 2 100 requests, the first one sought -------
curl -s -o /dev/null -X POST -d '{"destination_pattern":"127.0.0.1","action":"allow"}' "http://$GP_API/api/rules"
urls="http://127.0.0.1:$P/needle-path?first=1"
for i in $(seq 1 2099); do urls="$urls http://127.0.0.1:$P/headers?$i"; done
# shellcheck disable=SC2086
curl -s -x "http://$GP_HTTP" $urls > /dev/null; ok $? "2 100 requests through the proxy"
wait_for 30 sql_ge "SELECT count(*) FROM http_transactions" 2100; ok $? "2 100 transactions stored"
wait_for 30 sql_ge "SELECT count(*) FROM request_logs WHERE destination_host = '127.0.0.1'" 2100; ok $? "and 2 100 log rows"

s=$(curl -s "http://$GP_API/api/transactions?search=NEEDLE-path")
is "$(jget "$s" 'd["total"]')" 1 "transactions: search, case-insensitive, in the URL"
s=$(curl -s "http://$GP_API/api/transactions?search=needle&method=POST")
is "$(jget "$s" 'd["total"]')" 0 "with the other filters"
s=$(curl -s "http://$GP_API/api/logs?search=needle-path")
is "$(jget "$s" 'd["total"]')" 1 "logs: search in the request line"

keys 4
wait_for 10 on_screen "/headers?2099"; ok $? "Traffic lists the newest"
keys / n e e d l e - p
wait_for 10 on_screen "/needle-path"; ok $? "Traffic: the filter finds the first of 2 100 on the server"
keys Enter Escape
wait_for 10 on_screen "/headers?2099"; ok $? "Esc: the newest again"

keys 3
wait_for 10 on_screen "allowed HTTP"; ok $? "Activity lists the newest"
keys / n e e d l e - p
wait_for 10 on_screen "/needle-p: 1 of 1"; ok $? "Activity: one row of 2 100 matches, found on the server"
keys Enter Enter
wait_for 10 on_screen "needle-path"; ok $? "its details: the request"
keys Escape Escape

keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
