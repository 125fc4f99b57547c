#!/bin/bash
# The Rules view holds the newest 10 000 rules; with more (an imported
# list), it says so, and its filter searches every rule on the server:
# the oldest rule of 10 050 is found by typing part of it.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

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

keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
