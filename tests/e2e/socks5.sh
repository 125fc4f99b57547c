#!/bin/bash
# SOCKS5: hostname and IP CONNECT, identity, reply codes, raw protocol.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are refused at once here (pending.sh holds them).
GP_SETTINGS='{"defaultAction":"block"}'

origin_start o
gp_start
SH=${GP_SOCKS%:*}
SP=${GP_SOCKS##*:}
raw() { python3 "$LIB/rawclient.py" "$SH" "$SP" --out-hex --timeout 3 --hex "$1"; }
port_hex=$(printf '%04x' "$ORIGIN_PORT")

out=$(curl -s --max-time 10 --socks5-hostname "$GP_SOCKS" "http://localhost:$ORIGIN_PORT/hello" 2>&1)
rc=$?
is "$rc" 97 "unmatched: curl reports a SOCKS failure"
# Raw: greeting offering user/pass, RFC 1929 auth as "proxy"/"p",
# then CONNECT 127.0.0.1:port.
reply=$(raw "05020002010570726f78790170050100017f000001$port_hex")
is "$reply" "0502010005020001000000000000" "unmatched: reply 0x02 (ruleset)"

rule add allow localhost --port "$ORIGIN_PORT" >/dev/null
socks_ok() {
	[ "$(curl -s --max-time 10 --socks5-hostname "$GP_SOCKS" \
		"http://localhost:$ORIGIN_PORT/hello")" = "hello from origin" ]
}
wait_for 5 socks_ok; ok $? "--socks5-hostname to an allowed host"
out=$(curl -s --max-time 10 --socks5 "$GP_SOCKS" "http://127.0.0.1:$ORIGIN_PORT/hello")
is "$out" "" "IP literal not covered by a hostname rule"
rule add allow 127.0.0.1 >/dev/null
ip_ok() {
	[ "$(curl -s --max-time 10 --socks5 "$GP_SOCKS" \
		"http://127.0.0.1:$ORIGIN_PORT/hello")" = "hello from origin" ]
}
wait_for 5 ip_ok; ok $? "--socks5 to an allowed IPv4 literal"
want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(10485760)).hexdigest())' "$LIB")
got=$(curl -s --max-time 30 --socks5-hostname "$GP_SOCKS" "http://localhost:$ORIGIN_PORT/bytes/10485760" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB through SOCKS5 intact"

# Identity: the SOCKS5 user name keys container rules.
rule add allow agent.localhost --container builder >/dev/null
as_user() {
	curl -s --max-time 10 --socks5-hostname "$GP_SOCKS" -U "$1:proxy" \
		"http://agent.localhost:$ORIGIN_PORT/hello"
}
user_ok() { [ "$(as_user builder)" = "hello from origin" ]; }
wait_for 5 user_ok; ok $? "user name matches a container rule"
is "$(as_user other)" "" "another user is refused"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE container_name='builder' AND method='SOCKS5'" 1
ok $? "log keyed on the SOCKS5 user"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE container_name='unknown-127.0.0.1' AND method='SOCKS5'" 1
ok $? "no user (or 'proxy') is unknown-<client ip>"

# Reply codes.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
reply=$(raw "050100050100017f000001$(printf '%04x' "$closed")")
is "$reply" "050005050001000000000000" "connection refused: reply 0x05"
reply=$(raw "05010005030001000000000000")
like "$reply" "^05000500000[14]" "UDP ASSOCIATE: success with the relay address (socks5-udp.sh)"
reply=$(raw "05010005020001000000000000")
is "$reply" "050005070001000000000000" "BIND: reply 0x07"
reply=$(raw "050100050100090102030400500000")
is "$reply" "050005080001000000000000" "unknown address type: reply 0x08"
reply=$(raw "050101")
is "$reply" "05ff" "no acceptable method: 0xFF"
rule add allow nosuchhost.invalid >/dev/null
name=$(printf 'nosuchhost.invalid' | od -An -tx1 | tr -d ' \n')
unres() { [ "$(raw "0501000501000312${name}0050")" = "050005040001000000000000" ]; }
wait_for 30 unres; ok $? "unresolvable name: reply 0x04"

# Early data sent with the request is not lost.
req=$(printf 'GET /hello HTTP/1.0\r\n\r\n' | od -An -tx1 | tr -d ' \n')
out=$(python3 "$LIB/rawclient.py" "$SH" "$SP" --timeout 5 \
	--hex "050100050100017f000001${port_hex}${req}" | tail -c 18)
is "$out" "hello from origin" "data pipelined after CONNECT reaches the origin"

# Half-close: the client's EOF is passed on, the answer still comes back.
out=$(python3 "$LIB/rawclient.py" "$SH" "$SP" --timeout 5 --half-close \
	--hex "050100050100017f000001${port_hex}${req}" | tail -c 18)
is "$out" "hello from origin" "half-closed client still gets the response"
done_testing
