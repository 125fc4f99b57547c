#!/bin/bash
# A decision covers everything it should, at once: any new or changed
# rule re-judges the pending queue, whatever its source (CLI, API,
# ingest, a scoped approval), and every entry that leaves is announced.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/fakedns.py" --port-file "$T/up.port" --count-file "$T/up.json" \
	--a cli.par.test=127.0.0.1 --a api.par.test=127.0.0.1 \
	--a x.par.test=127.0.0.1 --a y.par.test=127.0.0.1 \
	--a d.deny.test=127.0.0.1 --a z.other.test=127.0.0.1 2>>"$T/fakedns.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
origin_start o; P=$ORIGIN_PORT
origin_start o2; P2=$ORIGIN_PORT
# The local-network guard is tested elsewhere; here every origin is on
# loopback, so it is off until the last case.
GP_SETTINGS='{"pendingTimeout":30,"privateNetworkProtection":false}'
gp_start --dns-upstream "127.0.0.1:$(cat "$T/up.port")"
AH=${GP_API%:*}; AP=${GP_API##*:}
python3 "$LIB/wsclient.py" "$AH" "$AP" < /dev/null > "$T/ws.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 grep -q '"type":"connected"' "$T/ws.out"; ok $? "event stream open"

held() {	# held NAME URL: curl through the proxy in the background
	( curl -s -o /dev/null -w '%{http_code}' --max-time 25 -x "http://$GP_HTTP" "$2" > "$T/$1" ) &
	eval "$1_pid=$!"; PIDS="$PIDS $!"
}
waiting() {	# waiting HOST PORT
	[ "$(jget "$(api GET /api/pending)" "sum(e['waiting'] for e in d['items'] if e['destination_host']=='$1' and e['destination_port']==$2)")" -ge 1 ] 2>/dev/null
}
pid_of() { jget "$(api GET /api/pending)" "[e['id'] for e in d['items'] if e['destination_host']=='$1' and e['destination_port']==$2][0]"; }
events() { grep -c "\"type\":\"pending_request.$1\"" "$T/ws.out"; }
answered_in() {	# answered_in NAME SECONDS: the held curl ends in time
	local pid; eval "pid=\$$1_pid"
	local i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt $(( $2 * 20 )) ]; do sleep 0.05; i=$((i + 1)); done
	! kill -0 "$pid" 2>/dev/null
}

# --- the CLI -------------------------------------------------------------
held c1 "http://cli.par.test:$P/hello"
wait_for 10 waiting cli.par.test "$P"; ok $? "held"
rule add allow cli.par.test >/dev/null
answered_in c1 1; ok $? "greyproxy rule add: the held client is released within a second"
is "$(cat "$T/c1")" 200 "and gets the origin's answer"
wait_for 5 eval '[ "$(events allowed)" -ge 1 ]'; ok $? "the entry's leaving is announced"
like "$(grep 'pending_request.allowed' "$T/ws.out" | tail -1)" '"decided_by":"rule"' "as decided by a rule"

# --- POST /api/rules -------------------------------------------------------
held c2 "http://api.par.test:$P/hello"
wait_for 10 waiting api.par.test "$P"; ok $? "held"
api POST /api/rules -d '{"destination_pattern":"api.par.test","action":"allow"}' >/dev/null
answered_in c2 1; ok $? "POST /api/rules: released at once"
is "$(cat "$T/c2")" 200 "with the origin's answer"

# --- an any-port approval releases every port of the host ------------------
held c3 "http://127.0.0.1:$P/hello"
held c4 "http://127.0.0.1:$P2/hello"
wait_for 10 waiting 127.0.0.1 "$P"; ok $? "held on one port"
wait_for 10 waiting 127.0.0.1 "$P2"; ok $? "and on another"
before=$(events allowed)
api POST "/api/pending/$(pid_of 127.0.0.1 "$P")/allow" -d '{"scope":"any_port"}' >/dev/null
answered_in c3 1; ok $? "the approved entry is released"
answered_in c4 1; ok $? "the other port is released by the same decision"
is "$(cat "$T/c3") $(cat "$T/c4")" "200 200" "both reach their origins"
wait_for 5 eval '[ "$(events allowed)" -ge $((before + 2)) ]'; ok $? "an event for each entry"

# --- a parent-domain approval releases the siblings -----------------------
held c5 "http://x.par.test:$P/hello"
held c6 "http://y.par.test:$P/hello"
wait_for 10 waiting x.par.test "$P"; ok $? "x held"
wait_for 10 waiting y.par.test "$P"; ok $? "y held"
before=$(events allowed)
api POST "/api/pending/$(pid_of x.par.test "$P")/allow" -d '{"scope":"subdomain_wildcard"}' >/dev/null
answered_in c6 1; ok $? "*.par.test releases y too"
is "$(cat "$T/c5") $(cat "$T/c6")" "200 200" "both answered"
wait_for 5 eval '[ "$(events allowed)" -ge $((before + 2)) ]'; ok $? "events for both"
is "$(jget "$(api GET /api/pending)" 'd["total"]')" 0 "nothing left waiting"

# --- ingest ------------------------------------------------------------------
held c7 "http://z.other.test:$P/hello"
wait_for 10 waiting z.other.test "$P"; ok $? "held"
before=$(events allowed)
r=$(api POST /api/rules/ingest -d '[{"destination_pattern":"z.other.test","action":"allow"}]')
is "$(jget "$r" 'd["pending_cleaned"]')" 1 "ingest: one entry released"
answered_in c7 1; ok $? "the client goes on"
wait_for 5 eval '[ "$(events allowed)" -ge $((before + 1)) ]'; ok $? "announced"

# --- a deny rule refuses what waits -----------------------------------------
held c8 "http://d.deny.test:$P/hello"
wait_for 10 waiting d.deny.test "$P"; ok $? "held"
before=$(events dismissed)
rule add deny d.deny.test >/dev/null
answered_in c8 3; ok $? "a deny rule answers the held client"
is "$(cat "$T/c8")" 403 "403"
wait_for 5 eval '[ "$(events dismissed)" -ge $((before + 1)) ]'; ok $? "announced as dismissed"

# --- a rule is not an approval: the local-network guard still applies -------
api PUT /api/settings -d '{"privateNetworkProtection":true}' >/dev/null
# (Another identity: 127.0.0.1 itself was allowed for unknown-127.0.0.1.)
( curl -s -D "$T/c9.h" -o /dev/null --max-time 25 --proxy-user guard:x -x "http://$GP_HTTP" "http://y2.localhost:$P/hello" ) &
c9_pid=$!; PIDS="$PIDS $c9_pid"
wait_for 10 waiting y2.localhost "$P"; ok $? "a local destination is held"
api POST /api/rules -d '{"destination_pattern":"*.localhost","action":"allow"}' >/dev/null
# A wildcard rule does not open the local network: releasing the client
# would only have it refused (blocked-by-policy), so it keeps waiting
# for a person.
! answered_in c9 2; ok $? "a wildcard rule leaves a local destination waiting"
waiting y2.localhost "$P"; ok $? "still held, for a person"
api POST "/api/pending/$(pid_of y2.localhost "$P")/allow" -d '{"scope":"once"}' >/dev/null
answered_in c9 5; ok $? "a person's answer releases it"
grep -q "^HTTP/1.1 200" "$T/c9.h"; ok $? "to the origin"

# --- a wildcard allow that matches a local literal asks a person ----------
# (before: allowed by the rule, then refused at connect by the guard)
( curl -s -D "$T/c10.h" -o /dev/null --max-time 25 --proxy-user guard:x -x "http://$GP_HTTP" "http://y3.localhost:$P/hello" ) &
c10_pid=$!; PIDS="$PIDS $c10_pid"
wait_for 10 waiting y3.localhost "$P"; ok $? "matched by *.localhost, yet held for a person"
is "$(jget "$(api GET /api/pending)" "[e['local_network'] for e in d['items'] if e['destination_host']=='y3.localhost'][0]")" True "flagged local"
api POST "/api/pending/$(pid_of y3.localhost "$P")/deny" -d '{"scope":"once"}' >/dev/null
answered_in c10 5; ok $? "a person's refusal answers it"
grep -qi "X-Proxy-Error: blocked-by-denylist" "$T/c10.h"; ok $? "refused"
api PUT /api/settings -d '{"defaultAction":"block"}' >/dev/null
curl -s -D "$T/c11.h" -o /dev/null --max-time 10 --proxy-user guard:x -x "http://$GP_HTTP" "http://y4.localhost:$P/hello"
grep -qi "X-Proxy-Error: blocked-by-policy" "$T/c11.h"; ok $? "with unmatched requests blocked, it is refused at once: blocked-by-policy"
api PUT /api/settings -d '{"defaultAction":"pending"}' >/dev/null
done_testing
