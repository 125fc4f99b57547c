#!/bin/bash
# Bulk decisions (POST /api/pending/bulk-allow, bulk-dismiss): every
# listed entry answered, their rules stored in one transaction before
# any answer, a rule shared by several entries stored once, unknown ids
# skipped; and a burst of held connections released by one call.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
gp_start
P=$ORIGIN_PORT

pending_waiting() {	# pending_waiting N: N connections wait
	[ "$(jget "$(api GET /api/pending/count)" 'd["waiting"]')" -ge "$1" ]
}
pending_id() {	# pending_id HOST
	jget "$(api GET '/api/pending?limit=1000')" "[e['id'] for e in d['items'] if e['destination_host']=='$1'][0]"
}
bg_curl() {	# bg_curl NAME HOST: the status code into $T/NAME
	( curl -s -o /dev/null -w '%{http_code}' --max-time 30 -x "http://$GP_HTTP" \
		"http://$2:$P/hello" > "$T/$1" ) &
	PIDS="$PIDS $!"
	eval "${1}_pid=$!"
}

bg_curl a a.bulk.localhost
bg_curl b b.bulk.localhost
bg_curl c c.other.localhost
bg_curl d d.other.localhost
wait_for 10 pending_waiting 4; ok $? "four requests held"
ia=$(pending_id a.bulk.localhost) ib=$(pending_id b.bulk.localhost)
ic=$(pending_id c.other.localhost) id=$(pending_id d.other.localhost)

# Two entries, one call, the object form with a scope and notes.
r=$(api POST /api/pending/bulk-allow -d "{\"ids\":[$ia,$ib,424242],\"scope\":\"exact\",\"notes\":\"batch\"}")
is "$(api_status)" 200 "bulk-allow answers 200"
is "$(jget "$r" 'd["allowed"]')" 2 "two allowed; the unknown id is skipped"
wait "$a_pid" "$b_pid"
is "$(cat "$T/a") $(cat "$T/b")" "200 200" "both held requests released"
is "$(sql "SELECT count(*) FROM rules WHERE notes = 'batch' AND action = 'allow'")" 2 \
	"one rule each, with the notes"
is "$(sql "SELECT count(*) FROM rules WHERE destination_pattern = 'a.bulk.localhost' AND port_pattern = '$P'")" 1 \
	"the exact scope: host and port"

# Two entries whose scope makes the same rule: stored once, both answered.
r=$(api POST /api/pending/bulk-allow -d "{\"ids\":[$ic,$id,$ic],\"scope\":\"subdomain_wildcard\"}")
is "$(jget "$r" 'd["allowed"]')" 2 "two allowed (a repeated id counts once)"
wait "$c_pid" "$d_pid"
is "$(cat "$T/c") $(cat "$T/d")" "200 200" "both released"
is "$(sql "SELECT count(*) FROM rules WHERE destination_pattern = '*.other.localhost'")" 1 \
	"the shared rule is stored once"

# The list form (exact scope), and bulk-dismiss.
bg_curl e e.list.localhost
bg_curl f f.gone.localhost
wait_for 10 pending_waiting 2
ie=$(pending_id e.list.localhost) if=$(pending_id f.gone.localhost)
is "$(jget "$(api POST /api/pending/bulk-allow -d "[$ie]")" 'd["allowed"]')" 1 "the list form"
wait "$e_pid"; is "$(cat "$T/e")" 200 "released"
is "$(jget "$(api POST /api/pending/bulk-dismiss -d "[$if]")" 'd["dismissed"]')" 1 "bulk-dismiss"
wait "$f_pid"; is "$(cat "$T/f")" 403 "a dismissed request is refused"
is "$(sql "SELECT count(*) FROM rules WHERE destination_pattern LIKE '%gone%'")" 0 "and leaves no rule"

api POST /api/pending/bulk-allow -d '{"ids":[1],"scope":"sideways"}' >/dev/null
is "$(api_status)" 400 "an unknown scope: 400"
api POST /api/pending/bulk-allow -d '{"nothing":1}' >/dev/null
is "$(api_status)" 400 "no ids: 400"

# A burst: 300 connections to 300 new destinations, released by one call,
# every one answered; the rules are there after kill -9.
cat > "$T/burst.py" <<'PY'
import json, socket, sys, time, urllib.request
proxy, api, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
h, p = proxy.rsplit(":", 1)
held = []
for i in range(n):
    s = socket.create_connection((h, int(p)), timeout=30)
    s.sendall(("CONNECT h%d.burst.localhost:%d HTTP/1.1\r\n\r\n" % (i, port)).encode())
    held.append(s)
def get(path):
    return json.load(urllib.request.urlopen("http://%s%s" % (api, path)))
t0 = time.time()
while get("/api/pending/count")["waiting"] < n and time.time() - t0 < 20:
    time.sleep(0.05)
ids = [e["id"] for e in get("/api/pending?limit=1000")["items"]
       if e["destination_host"].endswith(".burst.localhost")]
req = urllib.request.Request("http://%s/api/pending/bulk-allow" % api, method="POST",
                             data=json.dumps({"ids": ids, "scope": "exact"}).encode())
allowed = json.load(urllib.request.urlopen(req))["allowed"]
ok = 0
for s in held:
    try:
        ok += s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        pass
    s.close()
print(len(ids), allowed, ok)
PY
out=$(python3 "$T/burst.py" "$GP_HTTP" "$GP_API" "$P" 300)
is "$out" "300 300 300" "300 held destinations: all listed, all allowed in one call, all answered 200"
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
is "$(sql "SELECT count(*) FROM rules WHERE destination_pattern LIKE '%.burst.localhost'")" 300 \
	"their 300 rules survive kill -9"
done_testing
