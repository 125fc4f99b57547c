#!/bin/bash
# Pending approvals: held connections, allow/deny with scopes, timeout,
# many waiters released at once, persistence across restarts.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
gp_start
O="http://127.0.0.1:$ORIGIN_PORT"

pending_count() { jget "$(api GET /api/pending)" 'd["total"]'; }
pending_has() {	# pending_has HOST [WAITING]
	local j; j=$(api GET /api/pending)
	python3 -c 'import json,sys
d=json.loads(sys.argv[1])
ok=[e for e in d["items"] if e["destination_host"]==sys.argv[2] and (len(sys.argv)<4 or e["waiting"]>=int(sys.argv[3]))]
sys.exit(0 if ok else 1)' "$j" "$@"
}
pending_id() {	# pending_id HOST PORT
	jget "$(api GET /api/pending)" "[e['id'] for e in d['items'] if e['destination_host']=='$1' and e['destination_port']==$2][0]"
}
bg_curl() {	# bg_curl NAME URL [curl args]: status code into $T/NAME
	local name=$1 url=$2; shift 2
	( curl -s -o "$T/$name.body" -w '%{http_code}' --max-time 30 -x "http://$GP_HTTP" "$@" "$url" > "$T/$name" ) &
	PIDS="$PIDS $!"
	eval "${name}_pid=$!"
}

# An unmatched destination waits; allow releases it.
start=$(date +%s)
bg_curl c1 "$O/hello"
wait_for 10 pending_has 127.0.0.1 1; ok $? "held request appears in /api/pending"
j=$(api GET /api/pending)
is "$(jget "$j" 'd["items"][0]["local_network"]')" True "loopback destination flagged local_network"
is "$(jget "$j" 'd["items"][0]["container_name"]')" unknown-127.0.0.1 "identity of a client without a user"
id=$(pending_id 127.0.0.1 "$ORIGIN_PORT")
r=$(api POST "/api/pending/$id/allow" -d '{"scope":"exact","duration":"permanent"}')
is "$(api_status)" 200 "allow answers 200"
is "$(jget "$r" 'd["destination_pattern"] + " " + d["port_pattern"] + " " + d["action"]')" \
	"127.0.0.1 $ORIGIN_PORT allow" "allow returns the exact rule"
wait "$c1_pid"
is "$(cat "$T/c1")" 200 "released request gets the origin's 200"
is "$(cat "$T/c1.body")" "hello from origin" "released request gets the body"
check "$(( $(date +%s) - start )) <= 8" "released promptly, not at a timeout"
is "$(pending_count)" 0 "decided entry leaves the queue"
is "$(jget "$(api GET '/api/rules?destination=127.0.0.1')" 'd["total"]')" 1 "rule exists afterwards"
is "$(proxy_status "$O/hello")" 200 "next request allowed at once by the rule"

# Deny answers 403 and stores a deny rule.
bg_curl c2 "http://localhost:$ORIGIN_PORT/hello"
wait_for 10 pending_has localhost 1; ok $? "second destination held"
id=$(pending_id localhost "$ORIGIN_PORT")
api POST "/api/pending/$id/deny" -d '{}' >/dev/null
is "$(api_status)" 200 "deny answers 200"
wait "$c2_pid"
is "$(cat "$T/c2")" 403 "denied request gets 403"
is "$(proxy_error "http://localhost:$ORIGIN_PORT/hello")" blocked-by-denylist "deny rule stored"

# Twenty concurrent waiters, one entry, one decision.
pids=""
for i in $(seq 1 20); do
	( curl -s -o /dev/null -w '%{http_code}' --max-time 30 -x "http://$GP_HTTP" \
		"http://many.localhost:$ORIGIN_PORT/hello" > "$T/m$i" ) &
	pids="$pids $!"; PIDS="$PIDS $!"
done
wait_for 15 pending_has many.localhost 20; ok $? "twenty waiters on one entry"
is "$(jget "$(api GET /api/pending)" 'len([e for e in d["items"] if e["destination_host"]=="many.localhost"])')" 1 \
	"one pending entry for twenty connections"
id=$(pending_id many.localhost "$ORIGIN_PORT")
# The hostname resolves to loopback: approving it is the person's choice.
api POST "/api/pending/$id/allow" -d '{"scope":"any_port"}' >/dev/null
for p in $pids; do wait "$p"; done
is "$(cat "$T"/m* | tr -d '\n')" "$(printf '200%.0s' $(seq 1 20))" "all twenty released with 200"
is "$(jget "$(api GET '/api/rules?destination=many.localhost')" 'd["items"][0]["port_pattern"]')" "*" \
	"any_port scope stores port *"

# Scope once: released, nothing stored.
bg_curl c3 "http://once.localhost:$ORIGIN_PORT/hello"
wait_for 10 pending_has once.localhost 1
id=$(pending_id once.localhost "$ORIGIN_PORT")
r=$(api POST "/api/pending/$id/allow" -d '{"scope":"once"}')
is "$(jget "$r" 'd["rule"]')" None "scope once returns no rule"
wait "$c3_pid"
is "$(cat "$T/c3")" 200 "scope once releases the connection"
is "$(jget "$(api GET '/api/rules?destination=once.localhost')" 'd["total"]')" 0 "scope once stores no rule"

# Subdomain scope and a duration.
bg_curl c4 "http://api.sub.localhost:$ORIGIN_PORT/hello"
wait_for 10 pending_has api.sub.localhost 1
id=$(pending_id api.sub.localhost "$ORIGIN_PORT")
r=$(api POST "/api/pending/$id/allow" -d '{"scope":"subdomain_wildcard","duration":"1h"}')
is "$(jget "$r" 'd["destination_pattern"] + " " + d["rule_type"]')" "*.sub.localhost temporary" \
	"subdomain scope with a duration"
wait "$c4_pid"; is "$(cat "$T/c4")" 200 "subdomain approval releases the request"

# Bad decisions.
api POST /api/pending/999999/allow -d '{}' >/dev/null; is "$(api_status)" 404 "unknown pending id: 404"
api POST /api/pending/abc/allow -d '{}' >/dev/null; is "$(api_status)" 400 "non-numeric id: 400"
bg_curl c5 "http://bad.example.invalid/"
wait_for 10 pending_has bad.example.invalid 1
id=$(pending_id bad.example.invalid 80)
api POST "/api/pending/$id/allow" -d '{"scope":"sideways"}' >/dev/null
is "$(api_status)" 400 "unknown scope: 400"
api POST "/api/pending/$id/allow" -d '{"duration":"forever"}' >/dev/null
is "$(api_status)" 400 "unknown duration: 400"

# Dismiss: refused, no rule.
api DELETE "/api/pending/$id" >/dev/null; is "$(api_status)" 200 "dismiss answers 200"
wait "$c5_pid"; is "$(cat "$T/c5")" 403 "dismissed request gets 403"

# Timeout.
api PUT /api/settings -d '{"pendingTimeout":1}' >/dev/null
is "$(proxy_error "http://slow.localhost:$ORIGIN_PORT/")" blocked-by-pending-timeout \
	"no decision in time: blocked-by-pending-timeout"

# SOCKS5 waits too; a client that gives up releases its waiter.
api PUT /api/settings -d '{"pendingTimeout":60}' >/dev/null
( curl -s --max-time 30 --socks5-hostname "$GP_SOCKS" -U agent:proxy \
	"http://sock.localhost:$ORIGIN_PORT/hello" > "$T/s1" ) &
s1=$!; PIDS="$PIDS $s1"
wait_for 10 pending_has sock.localhost 1; ok $? "SOCKS5 CONNECT held"
is "$(jget "$(api GET /api/pending)" '[e["container_name"] for e in d["items"] if e["destination_host"]=="sock.localhost"][0]')" \
	agent "SOCKS5 user is the pending identity"
id=$(pending_id sock.localhost "$ORIGIN_PORT")
api POST "/api/pending/$id/allow" -d '{}' >/dev/null
wait "$s1"; is "$(cat "$T/s1")" "hello from origin" "SOCKS5 released by allow"
( curl -s --max-time 30 -x "http://$GP_HTTP" "http://gone.localhost:$ORIGIN_PORT/" >/dev/null ) &
g=$!; PIDS="$PIDS $g"
wait_for 10 pending_has gone.localhost 1
kill "$g"; wait "$g" 2>/dev/null
gone() { ! pending_has gone.localhost 1; }
wait_for 10 gone; ok $? "a client that leaves is no longer counted waiting"
Q="SELECT reason FROM request_logs WHERE destination_host = 'gone.localhost'"
wait_for 10 eval '[ "$(sql "$Q")" = left-while-pending ]'
ok $? "its log row says it left while pending"

# Attempts are counted in memory and stored at the next tick, all of a
# tick's in one transaction.
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 0.3 -x "http://$GP_HTTP" "http://count.localhost:$ORIGIN_PORT/"
done
Q="SELECT attempt_count FROM pending_requests WHERE destination_host = 'count.localhost'"
wait_for 20 sql_ge "$Q" 3; ok $? "three attempts stored by the tick"

# Entries persist across a restart (without their waiters).
gp_stop
gp_start
ok "$(pending_has gone.localhost; echo $?)" "pending entries survive a restart"
is "$(jget "$(api GET /api/pending)" '[e["attempt_count"] for e in d["items"] if e["destination_host"] == "count.localhost"][0]')" 3 "and their attempt counts"

# Durability: allow through the API, kill -9 at once, the rule is there.
id=$(pending_id gone.localhost "$ORIGIN_PORT")
api POST "/api/pending/$id/allow" -d '{"scope":"exact"}' >/dev/null
st=$(api_status)
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
is "$st" 200 "allow answered before the kill"
gp_start
is "$(jget "$(api GET '/api/rules?destination=gone.localhost')" 'd["total"]')" 1 \
	"rule approved just before kill -9 is there after restart"
done_testing
