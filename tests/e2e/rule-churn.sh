#!/bin/bash
# Rule edits change the compiled set in place, without reloading every
# row; removed rules linger as inert entries until they outnumber the
# live ones, when one reload packs the set.  Through many edits, across
# that reload and an update that lands on it, decisions follow the
# store exactly.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

fake_dns keep.churn.test=127.0.0.1 flip.churn.test=127.0.0.1 filler-7.churn.test=127.0.0.1
origin_start o; P=$ORIGIN_PORT
GP_SETTINGS='{"pendingTimeout":1,"privateNetworkProtection":false}'
gp_start --dns-upstream "$DNS_UP"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://$GP_HTTP" "http://$1:$P/hello"; }
status_rules() { jget "$(api GET /api/status)" 'd["rules"]'; }

N=1500
python3 - "$N" > "$T/ingest.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"destination_pattern": "filler-%d.churn.test" % i, "action": "allow"}
         for i in range(n)]
items.append({"destination_pattern": "keep.churn.test", "action": "allow"})
items.append({"destination_pattern": "flip.churn.test", "action": "deny"})
print(json.dumps(items))
PY
r=$(api POST /api/rules/ingest --data-binary @"$T/ingest.json")
is "$(jget "$r" 'd["imported"]')" $((N + 2)) "ingest: every rule stored"
is "$(status_rules)" $((N + 2)) "and compiled"
is "$(code filler-7.churn.test)" 200 "a filler rule allows"
is "$(code flip.churn.test)" 403 "the deny rule refuses"

api GET '/api/rules?limit=10000' > "$T/rules.json"
listed() {	# listed PYTHON-CONDITION-ON-x: the ids of the rules it holds for
	python3 -c 'import json,sys; print(" ".join(str(x["id"]) for x in json.load(open(sys.argv[1]))["items"] if eval(sys.argv[2])))' "$T/rules.json" "$1"
}
ids=$(listed 'x["destination_pattern"].startswith("filler-")')
flip=$(listed 'x["destination_pattern"] == "flip.churn.test"')
set -- $ids
is "$#" "$N" "every filler listed"

# 1 024 deletions: inert entries, no reload yet.
urls=(); for id in "${@:1:1024}"; do urls+=("http://$GP_API/api/rules/$id"); done
curl -s -X DELETE --max-time 60 "${urls[@]}" > /dev/null
is "$(status_rules)" $((N + 2 - 1024)) "1 024 deletions in place"
# The 1 025th removal is an update: it crosses the threshold, the set is
# reloaded from the store, and the rule's new form must be in it once.
r=$(api PUT "/api/rules/$flip" -d '{"destination_pattern":"flip.churn.test","action":"allow"}')
is "$(api_status)" 200 "an update on the threshold"
is "$(status_rules)" $((N + 2 - 1024)) "the reload counts each live rule once"
is "$(code flip.churn.test)" 200 "the update's new form decides"
is "$(code keep.churn.test)" 200 "untouched rules still decide"
api GET '/api/rules?limit=10000' > "$T/rules.json"
if [ -n "$(listed 'x["destination_pattern"] == "filler-7.churn.test"')" ]; then
	is "$(code filler-7.churn.test)" 200 "a kept filler still allows"
else
	is "$(code filler-7.churn.test)" 403 "a deleted filler no longer allows"
fi

urls=(); for id in "${@:1025}"; do urls+=("http://$GP_API/api/rules/$id"); done
curl -s -X DELETE --max-time 60 "${urls[@]}" > /dev/null
is "$(status_rules)" 2 "every filler gone"
is "$(code filler-7.churn.test)" 403 "none of them allows"
is "$(code keep.churn.test)" 200 "the rule kept still allows"
r=$(api DELETE "/api/rules/$flip")
is "$(code flip.churn.test)" 403 "a deleted allow no longer allows"
gp_stop
done_testing
