#!/bin/bash
# DNS proxy against a fake upstream: forwarding, caching (positive,
# negative, TTL expiry, restart), TCP, truncation, spoofed answers,
# policy, enrichment of SOCKS5 connections to bare IPs, bad packets, and
# a flood to a silent upstream.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/fakedns.py" --port-file "$T/up.port" --count-file "$T/up.json" \
	--a api.example.test=127.0.0.1 --a short.example.test=10.1.2.3/1 \
	--a two.example.test=10.0.0.1,10.0.0.2 --aaaa six.example.test=2001:db8::6 \
	--nx nx.example.test --big big.example.test --spoof spoof.example.test \
	--silent slow.example.test \
	--hostile loop.bad.test=loop --hostile fwd.bad.test=forward \
	--hostile overrun.bad.test=overrun --hostile long.bad.test=longname \
	--hostile cname.bad.test=cname-loop 2>>"$T/fakedns.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
UP=127.0.0.1:$(cat "$T/up.port")
origin_start o
gp_start --dns-upstream "$UP"
GP_DNS=$(json_get "$GP_DATA/listen.json" dns)
DH=${GP_DNS%:*}; DP=${GP_DNS##*:}

q() { dig @"$DH" -p "$DP" +time=5 +tries=1 "$@"; }
seen() {	# seen "NAME TYPE PROTO": upstream query count
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$T/up.json" "$1"
}
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

is "$(q +short api.example.test A)" 127.0.0.1 "A answer forwarded"
is "$(q +short api.example.test A)" 127.0.0.1 "second query answered"
is "$(seen 'api.example.test A udp')" 1 "second query served from the cache"
is "$(q +short six.example.test AAAA)" 2001:db8::6 "AAAA answer"
is "$(q +short two.example.test | sort | tr '\n' ' ')" "10.0.0.1 10.0.0.2 " "several addresses"
ttl=$(q +noall +answer api.example.test A | awk '{print $2}')
check "${ttl:-0} > 280 && ${ttl:-0} <= 300" "TTL from the upstream, aged"

# TTL expiry re-queries.
q +short short.example.test >/dev/null
requeried() { q +short short.example.test >/dev/null; [ "$(seen 'short.example.test A udp')" -ge 2 ]; }
wait_for 6 requeried; ok $? "an expired answer is fetched again"

# Negative caching (RFC 2308): NXDOMAIN with SOA.
is "$(status nx.example.test)" NXDOMAIN "NXDOMAIN forwarded"
is "$(status nx.example.test)" NXDOMAIN "NXDOMAIN again"
is "$(seen 'nx.example.test A udp')" 1 "NXDOMAIN cached negatively"

# TCP clients, truncation retried over TCP, EDNS sizes.
is "$(q +tcp +short api.example.test)" 127.0.0.1 "query over TCP"
n=$(q +tcp +short big.example.test | wc -l)
is "$n" 40 "truncated upstream answer fetched over TCP"
is "$(seen 'big.example.test A tcp')" 1 "greyproxy retried over TCP once"
# A TCP client that sends 4000 queries before reading an answer: the
# answers (~1 MB: more than greyproxy holds for one client) are paced,
# none lost, in order.
r=$(python3 - "$DH" "$DP" <<'PY'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
q = lambda i: struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + \
    b"".join(bytes([len(l)]) + l for l in b"big.example.test".split(b".")) + b"\0\0\1\0\1"
out = b"".join(struct.pack("!H", len(m)) + m for m in (q(i) for i in range(4000)))
s.sendall(out)
buf, got, order = b"", 0, True
while got < 4000:
    d = s.recv(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
        n = struct.unpack("!H", buf[:2])[0]
        order &= struct.unpack("!H", buf[2:4])[0] == got
        buf = buf[2 + n:]
        got += 1
print(got, order)
PY
)
is "$r" "4000 True" "4000 pipelined TCP queries, answers paced, all in order"
out=$(q +noedns +ignore big.example.test)
like "$out" "flags: qr[a-z ]*tc" "a too-large answer is truncated for a 512-byte client"
n=$(q +bufsize=4096 +short big.example.test | wc -l)
is "$n" 40 "an EDNS client gets it whole over UDP (from the cache)"

# A stray answer with the wrong ID is not taken.
is "$(q +short spoof.example.test)" 1.2.3.4 "wrong-ID answer ignored"

# Enrichment: a SOCKS5 connection to a bare IP is judged by its name.
"$GREYPROXY" rule --data-dir "$GP_DATA" add allow api.example.test --port "$ORIGIN_PORT" >/dev/null
socks() { curl -s --max-time 10 --socks5 "$GP_SOCKS" "http://127.0.0.1:$ORIGIN_PORT/hello"; }
api PUT /api/settings -d '{"privateNetworkProtection":false,"defaultAction":"block"}' >/dev/null
enriched() { [ "$(socks)" = "hello from origin" ]; }
wait_for 5 enriched; ok $? "SOCKS5 to 127.0.0.1 allowed by the rule for api.example.test"
row() { sql "SELECT resolved_hostname || ' ' || result FROM request_logs WHERE method='SOCKS5' ORDER BY id DESC LIMIT 1"; }
logged() { [ "$(row)" = "api.example.test allowed" ]; }
wait_for 5 logged; ok $? "logged under the hostname"
api PUT /api/settings -d '{"privateNetworkProtection":true}' >/dev/null
err=$(curl -s --max-time 10 --socks5 "$GP_SOCKS" "http://127.0.0.1:$ORIGIN_PORT/hello"; echo "rc=$?")
like "$err" "rc=97" "with local-network protection on, a name alone does not reach loopback"
"$GREYPROXY" rule --data-dir "$GP_DATA" add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
wait_for 5 enriched; ok $? "an IP rule still matches the bare IP"

# Policy on DNS itself.
api POST /api/rules -d '{"destination_pattern":"**.blocked.test","action":"deny"}' >/dev/null
is "$(status x.blocked.test)" REFUSED "a denied name is REFUSED"
is "$(seen 'x.blocked.test A udp')" 0 "and never asked upstream"
api PUT /api/settings -d '{"dnsPolicy":false}' >/dev/null
is "$(status y.blocked.test)" NXDOMAIN "dnsPolicy off: forwarded"
api PUT /api/settings -d '{"dnsPolicy":true}' >/dev/null
j=$(api GET '/api/logs?destination=x.blocked.test')
is "$(jget "$j" 'd["items"][0]["method"] + " " + d["items"][0]["result"]')" "DNS blocked" "DNS queries are in the log"

# Bad packets: answered FORMERR or dropped; the server keeps serving.
u() { python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[1], int(sys.argv[2])))
try: print(s.recv(4096).hex())
except socket.timeout: print("none")' "$DH" "$DP" "$1"; }
r=$(u "1234"); is "$r" none "2-byte packet dropped"
r=$(u "12340100000100000000000003616263c00c00010001")
is "${r:0:4}.${r:7:1}" "1234.1" "compression loop: FORMERR"
r=$(u "123401000000000000000000"); is "${r:0:4}.${r:7:1}" "1234.1" "no question: FORMERR"
r=$(u "12340100000200000000000003616263000001000103616263000001000001")
is "${r:0:4}.${r:7:1}" "1234.1" "two questions: FORMERR"
r=$(u "12342100000100000000000003616263000001000001"); is "${r:0:4}.${r:7:1}" "1234.4" "unknown opcode: NOTIMP"
r=$(u "123401000001000000000000ff61"); is "${r:0:4}.${r:7:1}" "1234.1" "label past the end: FORMERR"
r=$(u "$(head -c 300 /dev/urandom | od -An -tx1 | tr -d ' \n')")
ok 0 "random bytes: answered or dropped ($r)" 
printf '\x00\x05abc' | python3 "$LIB/rawclient.py" "$DH" "$DP" --timeout 2 >/dev/null
is "$(q +short api.example.test)" 127.0.0.1 "still serving after bad input"
kill -0 "$GP_PID"; ok $? "alive"

# The cache survives a restart (written in batches, loaded at start).
is "$(q +short api.example.test)" 127.0.0.1 "warm before restart"
gp_stop
gp_start --dns-upstream "$UP"
GP_DNS=$(json_get "$GP_DATA/listen.json" dns); DH=${GP_DNS%:*}; DP=${GP_DNS##*:}
is "$(q +short api.example.test)" 127.0.0.1 "answered after restart"
is "$(seen 'api.example.test A udp')" 1 "from the persisted cache, not upstream"
is "$(q +short short.example.test | head -1)" 10.1.2.3 "expired entries are fetched, not served"

# Stats and flush.
out=$("$GREYPROXY" dns stats --api "$GP_API"); like "$out" "answers" "greyproxy dns stats"
j=$(api GET /api/status); check "$(jget "$j" 'int(d["dns"]["entries"])') > 0" "cache size in /api/status"
check "$(sql 'SELECT count(*) FROM dns_answers') > 0" "answers are persisted"
out=$("$GREYPROXY" dns flush --api "$GP_API"); like "$out" "^flushed: 0 answers" "greyproxy dns flush"
is "$(sql 'SELECT count(*) FROM dns_answers') $(sql 'SELECT count(*) FROM dns_cache')" "0 0" "and the persisted answers and hosts are gone"
q +short api.example.test >/dev/null
is "$(seen 'api.example.test A udp')" 2 "after a flush the upstream is asked again"

# A flood to a silent upstream is bounded: SERVFAIL, no memory blow-up.
python3 - "$DH" "$DP" > "$T/flood" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
n = 700
for i in range(n):
    if i % 50 == 0:
        time.sleep(0.02)    # paced: the point is the proxy, not kernel drops
    name = b"".join(bytes([len(l)]) + l for l in (b"q%d" % i, b"slow", b"example", b"test")) + b"\0"
    s.sendto(struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1", (sys.argv[1], int(sys.argv[2])))
s.settimeout(8)
got = {}
try:
    while len(got) < n:
        r = s.recv(4096)
        got[struct.unpack("!H", r[:2])[0]] = r[3] & 15
except socket.timeout:
    pass
print(len(got), sum(1 for v in got.values() if v == 2))
PY
read answered servfail < "$T/flood"
is "$answered" 700 "every flooded query is answered"
is "$servfail" 700 "all of them SERVFAIL (capacity, then upstream timeout)"
is "$(q +short api.example.test)" 127.0.0.1 "serving normally after the flood"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$GP_PID/status")
check "$rss < 200000" "memory stays bounded (${rss} kB)"
# Hostile upstream answers: validated before they are cached or relayed.
for n in loop fwd overrun long cname; do
	is "$(status "$n.bad.test" A)" SERVFAIL "hostile answer ($n): SERVFAIL"
	is "$(status "$n.bad.test" A)" SERVFAIL "hostile answer ($n): not cached (asked again)"
done
is "$(seen 'loop.bad.test A udp')" 2 "a refused answer is not served from the cache"
grep -q "dns: malformed answer for loop.bad.test" "$T/serve.log"; ok $? "refusal logged"
! api GET /api/logs | grep -q 10.66.66.66; ok $? "nothing from a hostile answer reaches enrichment or the log"

# An upstream where nothing listens: its refusal (ICMP port unreachable)
# is SERVFAIL at once, not after every retry (two of 2 s before).
gp_stop
closed=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gp_start --dns-upstream "127.0.0.1:$closed"
GP_DNS=$(json_get "$GP_DATA/listen.json" dns); DH=${GP_DNS%:*}; DP=${GP_DNS##*:}
t0=$(date +%s%N)
is "$(status refused.example.test A)" SERVFAIL "an upstream that refuses: SERVFAIL"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "$ms < 1000" "at once (${ms} ms)"
grep -q "dns: upstream connection refused for refused.example.test" "$T/serve.log"; ok $? "the refusal logged"
done_testing
