#!/bin/bash
# Request smuggling and response framing (RFC 9110 7.6.1, RFC 9112 6):
# ambiguous framing is refused, never forwarded; Connection options
# cannot strip the framing the origin reads.  A byte-logging origin
# shows exactly what reached it; a hostile one sends bad responses.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
GP_SETTINGS='{"defaultAction":"block"}'

printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' > "$T/reply"
python3 "$LIB/rawserver.py" --port-file "$T/raw.port" --log "$T/raw.log" \
	--reply-file "$T/reply" 2>>"$T/origin.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/raw.port" || { echo "Bail out! no raw origin"; exit 1; }
RP=$(cat "$T/raw.port")
: > "$T/raw.log"
gp_start
rule add allow 127.0.0.1 >/dev/null
HH=${GP_HTTP%:*}; HP=${GP_HTTP##*:}
U="http://127.0.0.1:$RP"
send() { python3 "$LIB/rawclient.py" "$HH" "$HP" --timeout 5; }

wait_for 5 status_is 200 "$U/warm"; ok $? "baseline through the raw origin"

# --- requests refused before anything reaches the origin ------------
refused() {	# refused DESCRIPTION: request in $T/req
	local before after out
	before=$(wc -c < "$T/raw.log")
	out=$(send < "$T/req")
	like "$(printf '%s' "$out" | head -1)" "^HTTP/1.1 400 " "$1: 400"
	after=$(wc -c < "$T/raw.log")
	is "$after" "$before" "$1: nothing forwarded"
}
printf 'POST %s/a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "HTTP/1.0 with Transfer-Encoding"
printf 'POST %s/a HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "chunked twice"
printf 'POST %s/a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "chunked not last"
printf 'POST %s/a HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "another transfer coding"
printf 'POST %s/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "two Transfer-Encoding fields"
printf 'POST %s/a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' "$U" > "$T/req"
refused "Content-Length with Transfer-Encoding"
printf 'GET %s/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' "$U" > "$T/req"
refused "two Host fields"

# --- bad chunked bodies: 400, and the bad bytes never forwarded ------
badbody() {	# badbody DESCRIPTION MARK: body bytes after the head in $T/body
	local out
	{ printf 'POST %s/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' "$U"; cat "$T/body"; } > "$T/req"
	out=$(send < "$T/req")
	like "$(printf '%s' "$out" | head -1)" "^HTTP/1.1 400 " "$1: 400"
	! grep -qa -- "$2" "$T/raw.log"; ok $? "$1: not forwarded"
}
printf '5 \r\nWHITE\r\n0\r\n\r\n' > "$T/body"; badbody "whitespace after a chunk size" WHITE
printf '10000000000000000\r\nOVERFLOW\r\n0\r\n\r\n' > "$T/body"; badbody "chunk size overflow" OVERFLOW
printf '3\r\nabc\r\n0\r\nNoColonTRAILER\r\n\r\n' > "$T/body"; badbody "trailer without a colon" NoColonTRAILER
printf '3\r\nabc\r\n0\r\n foldedTRAILER: x\r\n\r\n' > "$T/body"; badbody "folded trailer" foldedTRAILER

# --- Connection options cannot strip the framing ---------------------
smuggled="GET $U/SMUGGLED HTTP/1.1\r\nHost: evil.example\r\n\r\n"
len=$(printf "$smuggled" | wc -c)
: > "$T/raw.log"
printf "POST %s/a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: Content-Length\r\n\r\n$smuggled" "$U" "$len" > "$T/req"
out=$(send < "$T/req")
like "$(printf '%s' "$out" | head -1)" "^HTTP/1.1 200 " "Connection: Content-Length: answered"
grep -qa "^Content-Length: $len" "$T/raw.log"; ok $? "the origin still gets the Content-Length"
is "$(grep -ca '^=== conn' "$T/raw.log")" 1 "one upstream connection"
: > "$T/raw.log"
printf "POST %s/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close, Transfer-Encoding\r\n\r\n5\r\nhello\r\n0\r\n\r\n" "$U" > "$T/req"
out=$(send < "$T/req")
grep -qai "^Transfer-Encoding: chunked" "$T/raw.log"; ok $? "Connection: Transfer-Encoding is ignored"
curl -s -o /dev/null -x "http://$GP_HTTP" -H "Connection: Host" "$U/host" 
grep -qa "^Host: 127.0.0.1:$RP" "$T/raw.log"; ok $? "Connection: Host is ignored"

# --- hostile responses: 502, never forwarded as they are -------------
hostile() {	# hostile DESCRIPTION: response in $T/reply
	local out
	out=$(printf 'GET %s/r HTTP/1.1\r\nHost: x\r\n\r\n' "$U" | send)
	like "$(printf '%s' "$out" | head -1)" "^HTTP/1.1 502 " "$1: 502"
	! printf '%s' "$out" | grep -q LEAKED; ok $? "$1: body not relayed"
}
printf 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nLEAKED\r\n0\r\n\r\n' > "$T/reply"
hostile "response with Content-Length and Transfer-Encoding"
printf 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nLEAKED' > "$T/reply"
hostile "unsolicited 101"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: Content-Length\r\n\r\nLEAKED' > "$T/reply"
hostile "Connection option stripping the framing"
printf 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nLEAKED\r\n0\r\n\r\n' > "$T/reply"
hostile "HTTP/1.0 response with Transfer-Encoding"
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nLEAKED' > "$T/reply"
hostile "unknown transfer coding in a response"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 7\r\n\r\nLEAKED' > "$T/reply"
hostile "conflicting Content-Length in a response"
grep -q "unsolicited 101" "$T/serve.log"; ok $? "the unsolicited 101 is logged"
kill -0 "$GP_PID"; ok $? "server alive"
done_testing
