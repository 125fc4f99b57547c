#!/bin/bash
# The sandbox must never reach greyproxy itself: no rule (allow
# localhost, allow 127.0.0.1, allow *), no approval and no setting lets a
# proxied connection land on the API, HTTP, SOCKS5 or DNS listeners, on
# any address that reaches them.  Refused with 403 blocked-by-policy /
# SOCKS5 0x02, logged as an attack, and never listed in pending.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are held: a self destination must not be.
GP_SETTINGS='{"defaultAction":"pending","pendingTimeout":30}'
gp_start
APORT=${GP_API##*:}; HPORT=${GP_HTTP##*:}; SPORT=${GP_SOCKS##*:}
DPORT=$(json_get "$GP_DATA/listen.json" dns); DPORT=${DPORT##*:}
origin_start o
nrules() { jget "$(api GET /api/rules)" 'len(d) if isinstance(d, list) else d.get("total", len(d.get("items", [])))'; }
pending_self() { jget "$(api GET /api/pending)" "len([e for e in d['items'] if e['destination_port'] in ($APORT, $HPORT, $SPORT, $DPORT)])"; }

# No rule at all: refused at once, never held for a person.
t0=$(date +%s)
is "$(proxy_error "http://127.0.0.1:$APORT/api/rules")" "blocked-by-policy" "unmatched API destination: refused, not held"
check "$(date +%s) - t0 < 5" "answered at once"
is "$(pending_self)" 0 "greyproxy itself never enters the pending queue"

rule add allow localhost >/dev/null
rule add allow 127.0.0.1 >/dev/null
rule add allow '::1' >/dev/null
rule add allow '*' >/dev/null
# The rules are live once a normal request passes.
wait_for 5 status_is 200 "http://127.0.0.1:$ORIGIN_PORT/hello"; ok $? "allow rules are live"
before=$(nrules)

attack() {	# attack DESCRIPTION URL
	local out
	out=$(curl -s -D - -o /dev/null --max-time 10 -x "http://$GP_HTTP" \
		-X POST -d '{"destination_pattern":"*","action":"allow"}' "$2" | tr -d '\r')
	like "$out" "^HTTP/1.1 403" "$1: 403"
	like "$out" "X-Proxy-Error: blocked-by-policy" "$1: blocked-by-policy"
}
attack "API via localhost" "http://localhost:$APORT/api/rules"
attack "API via 127.0.0.1" "http://127.0.0.1:$APORT/api/rules"
attack "API via another loopback address" "http://127.0.0.2:$APORT/api/rules"
attack "API via 0.0.0.0" "http://0.0.0.0:$APORT/api/rules"
attack "API via [::1]" "http://[::1]:$APORT/api/rules"
attack "API via [::]" "http://[::]:$APORT/api/rules"
attack "API via IPv4-mapped IPv6" "http://[::ffff:127.0.0.1]:$APORT/api/rules"
attack "API via a name resolving to loopback" "http://api.localhost:$APORT/api/rules"
attack "the HTTP proxy itself" "http://127.0.0.1:$HPORT/"
attack "the SOCKS5 port" "http://127.0.0.1:$SPORT/"
attack "the DNS port (TCP)" "http://127.0.0.1:$DPORT/"
is "$(nrules)" "$before" "no rule was created through the proxy"

# CONNECT.
out=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 10 -p -x "http://$GP_HTTP" "http://127.0.0.1:$APORT/api/rules")
is "$out" 403 "CONNECT to the API: 403"
out=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 10 -p -x "http://$GP_HTTP" "http://localhost:$APORT/api/rules")
is "$out" 403 "CONNECT to localhost:API: 403"

# SOCKS5: reply 0x02 (connection not allowed by ruleset).
sreq() { python3 - "$@" <<'PY'
import socket, struct, sys
host, port, dport, atyp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"\x05\x01\x00"); s.recv(2)
if atyp == "name":
    n = b"localhost"; s.sendall(b"\x05\x01\x00\x03" + bytes([len(n)]) + n + struct.pack(">H", dport))
else:
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(atyp) + struct.pack(">H", dport))
print(s.recv(10)[:2].hex())
PY
}
is "$(sreq 127.0.0.1 "$SPORT" "$APORT" 127.0.0.1)" "0502" "SOCKS5 CONNECT 127.0.0.1:API: reply 0x02"
is "$(sreq 127.0.0.1 "$SPORT" "$APORT" name)" "0502" "SOCKS5 CONNECT localhost:API: reply 0x02"
is "$(sreq 127.0.0.1 "$SPORT" "$SPORT" 0.0.0.0)" "0502" "SOCKS5 CONNECT 0.0.0.0:SOCKS: reply 0x02"
out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --socks5-hostname "$GP_SOCKS" -X POST -d '{}' "http://localhost:$APORT/api/rules")
is "$out" "000" "curl --socks5-hostname to the API gets nothing"
is "$(nrules)" "$before" "still no rule created"

# An approval cannot let it through either: with privateNetworkProtection
# off and allow-all, it is still refused.
api PUT /api/settings -d '{"privateNetworkProtection":false}' >/dev/null
is "$(proxy_error "http://127.0.0.1:$APORT/api/rules")" "blocked-by-policy" "protection off: still refused"
is "$(pending_self)" 0 "still nothing of ours pending"

# Logged as an attack; other local destinations named by a rule work.
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE reason='attack-greyproxy-itself'" 10
ok $? "attempts logged as attack-greyproxy-itself"
grep -q "own listener: refused" "$T/serve.log"; ok $? "warning in the server log"
is "$(proxy_status "http://127.0.0.1:$ORIGIN_PORT/hello")" 200 "a local origin named by a rule still works"
done_testing
