#!/bin/bash
# SOCKS5 UDP ASSOCIATE: datagrams relayed to allowed destinations only;
# an unmatched one is listed in pending and dropped until a rule allows
# it; deny rules and fragments drop; the identity is the SOCKS5 user.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/fakedns.py" --port-file "$T/up.port" --count-file "$T/up.json" \
	--a a.udp.test=10.9.8.7 --a b.udp.test=10.9.8.6 2>>"$T/fakedns.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
UP=$(cat "$T/up.port")
gp_start
SH=${GP_SOCKS%:*}; SP=${GP_SOCKS##*:}
udp() { python3 "$LIB/socksudp.py" "$SH" "$SP" 127.0.0.1 "$UP" "$@"; }
pending_has() { [ "$(jget "$(api GET /api/pending)" "len([e for e in d['items'] if e['destination_port']==$UP and e['container_name']=='$1'])")" -ge 1 ]; }

is "$(udp a.udp.test --user agent)" none "unmatched destination: datagram dropped"
wait_for 5 pending_has agent; ok $? "and listed in pending under the SOCKS5 user"
id=$(jget "$(api GET /api/pending)" "[e['id'] for e in d['items'] if e['destination_port']==$UP][0]")
is "$(jget "$(api GET /api/pending)" "[e['request'] for e in d['items'] if e['id']==$id][0]")" "UDP 127.0.0.1:$UP" "pending entry says UDP"
api POST "/api/pending/$id/allow" -d '{"scope":"exact"}' >/dev/null
is "$(udp a.udp.test --user agent)" "from 127.0.0.1:$UP 10.9.8.7" "allowed: the answer comes back with its source"
is "$(udp b.udp.test --user other --timeout 1)" none "another identity is not covered by agent's rule"
is "$(udp a.udp.test --user agent --frag --timeout 1)" none "fragments are dropped"
rid=$(jget "$(api GET "/api/rules?destination=127.0.0.1")" 'd["items"][0]["id"]')
api POST /api/rules -d "{\"destination_pattern\":\"127.0.0.1\",\"port_pattern\":\"$UP\",\"action\":\"deny\",\"container_pattern\":\"agent\"}" >/dev/null
is "$(udp b.udp.test --user agent --timeout 1)" none "a deny rule drops datagrams (new association)"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE request LIKE 'UDP 127.0.0.1:%' AND result='allowed'" 1
ok $? "allowed UDP destination logged"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE request LIKE 'UDP 127.0.0.1:%' AND reason='blocked-by-denylist'" 1
ok $? "denied UDP destination logged"
is "$(jget "$(api GET /api/status)" 'd["connections"]')" 0 "associations end with their TCP connection"
done_testing
