#!/bin/bash
# Malformed and hostile input: answered, logged, and the server keeps
# serving the next client.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are refused at once here (pending.sh holds them).
GP_SETTINGS='{"defaultAction":"block"}'

origin_start o
gp_start
rule add allow 127.0.0.1 >/dev/null
HH=${GP_HTTP%:*}; HP=${GP_HTTP##*:}
SH=${GP_SOCKS%:*}; SP=${GP_SOCKS##*:}
O="http://127.0.0.1:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$O"; ok $? "baseline request served"

send() { python3 "$LIB/rawclient.py" "$HH" "$HP" --timeout 5 --expect-close; }
check400() {	# check400 DESCRIPTION STATUS: the request is in $T/req
	local out rc
	out=$(send < "$T/req"); rc=$?
	like "$(printf '%s' "$out" | head -1)" "^HTTP/1.1 $2 " "$1: $2"
	is "$rc" 0 "$1: connection closed"
	is "$(proxy_status "$O")" 200 "$1: next client still served"
}

printf 'GARBAGE\r\n\r\n' > "$T/req"; check400 "garbage request line" 400
printf 'GET http://127.0.0.1/ HTTP/1.1\r\nBad Header\r\n\r\n' > "$T/req"; check400 "header without colon" 400
printf 'GET http://127.0.0.1/ HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n' > "$T/req"; check400 "obs-fold" 400
printf 'POST http://127.0.0.1:%s/echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' "$ORIGIN_PORT" > "$T/req"; check400 "Content-Length with Transfer-Encoding" 400
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/req"; check400 "origin-form to a proxy" 400
printf 'GET http://127.0.0.1/ HTTP/9.9\r\n\r\n' > "$T/req"; check400 "unknown HTTP version" 505
python3 -c 'import sys; sys.stdout.write("GET http://127.0.0.1/ HTTP/1.1\r\n" + "X-Big: " + "a"*70000 + "\r\n\r\n")' > "$T/req"; check400 "oversized header" 431
python3 -c 'import sys; sys.stdout.write("GET http://127.0.0.1/" + "a"*9000 + " HTTP/1.1\r\n\r\n")' > "$T/req"; check400 "oversized request line" 414
head -c 4096 /dev/urandom > "$T/req"; check400 "random bytes" 400
grep -q "http 127.0.0.1:[0-9]*: 400 malformed" "$T/serve.log"; ok $? "malformed request logged"

# A bad request after a good one on the same connection.
out=$(printf 'GET %s HTTP/1.1\r\nHost: x\r\n\r\nNOT A REQUEST\r\n\r\n' "$O" | send)
like "$out" "hello from origin" "first request of the pair answered"
like "$out" "HTTP/1.1 400 " "then the malformed one gets 400"

# Truncated chunked body: the connection is dropped, nothing hangs.
out=$(printf 'POST http://127.0.0.1:%s/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' "$ORIGIN_PORT" | send)
is "$?" 0 "bad chunk size closes the connection"

# SOCKS5 port: garbage, HTTP, truncated, oversized.
sraw() { python3 "$LIB/rawclient.py" "$SH" "$SP" --out-hex --timeout 5 --expect-close --hex "$1"; }
sraw "474554202f20485454502f312e310d0a0d0a" >/dev/null; is $? 0 "HTTP on the SOCKS port: closed"
sraw "04010050" >/dev/null; is $? 0 "SOCKS4 greeting: closed"
out=$(sraw "0501000200"); is "$out" "050005010001000000000000" "bad request version: failure reply, closed"
out=$(sraw "0501020200"); is "$out" "05020101" "bad auth version: failure reply, closed"
head -c 2048 /dev/urandom > "$T/rnd"
python3 "$LIB/rawclient.py" "$SH" "$SP" --timeout 5 < "$T/rnd" >/dev/null; ok $? "random bytes on the SOCKS port"
socks_ok() { [ "$(curl -s --max-time 10 --socks5 "$GP_SOCKS" "$O")" = "hello from origin" ]; }
wait_for 5 socks_ok; ok $? "SOCKS5 still serves after bad input"
kill -0 "$GP_PID"; ok $? "server alive after all of it"
done_testing
