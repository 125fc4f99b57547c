#!/bin/bash
# Plain HTTP inside a tunnel.  greywall sends every connection of a
# sandbox through SOCKS5, so a request in the clear (a package mirror, a
# model served on the local network) arrives as a tunnel: its HTTP is
# read as the forward proxy's is, with no CA needed.  Each request is a
# transaction for the tunnel's destination (whatever Host says), request
# rules judge it, a credential placeholder sent in the clear is refused,
# a local model's conversation is assembled; the client's target, Host
# and Proxy-Authorization go on; the tunnel's log row stays the
# tunnel's.  What is not HTTP/1.x, a host on mitmBypass, and every tunnel
# with mitmEnabled false are relayed untouched.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start plain; PP=$ORIGIN_PORT
python3 "$LIB/halfclose.py" server --port-file "$T/hc.port" 2>>"$T/hc.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/hc.port" || { echo "Bail out! half-close server"; exit 1; }
HC=127.0.0.1:$(cat "$T/hc.port")
GP_SETTINGS='{"defaultAction":"block","privateNetworkProtection":false}'
gp_start
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
H="http://127.0.0.1:$PP"
st() { jget "$(api GET /api/status)" "$1"; }
is "$(st 'd["mitm"]["state"]')" no-ca "no CA: TLS cannot be read, plain HTTP still is"

# SOCKS5, as greywall connects: the sandbox's name is the identity.
is "$(curl -s --max-time 10 --socks5-hostname "sbx-a:x@$GP_SOCKS" "$H/hello")" "hello from origin" "SOCKS5: the origin's answer"
is "$(st 'd["tunnels"]["plain_http"]')" 1 "the tunnel's HTTP was read"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE container_name = 'sbx-a'" 1
ok $? "a transaction, under the sandbox's identity"
is "$(sql "SELECT method || ' ' || url || ' ' || status_code FROM http_transactions WHERE container_name = 'sbx-a'")" \
	"GET $H/hello 200" "method, URL and status"
wait_for 10 sql_ge "SELECT count(*) FROM request_logs WHERE container_name = 'sbx-a'" 1
is "$(sql "SELECT method || ' ' || request FROM request_logs WHERE container_name = 'sbx-a'")" \
	"SOCKS5 CONNECT 127.0.0.1:$PP" "the log row stays the tunnel's"

# Keep-alive: two requests on one tunnel, two transactions.
out=$(curl -s -v -o /dev/null -o /dev/null --max-time 10 --socks5-hostname "sbx-b:x@$GP_SOCKS" "$H/hello" "$H/bytes/5" 2>&1)
like "$out" "Re-using existing connection" "two requests on one tunnel"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE container_name = 'sbx-b'" 2
ok $? "two transactions"
is "$(st 'd["tunnels"]["plain_http"]')" 2 "one tunnel more"

# CONNECT too; the client's Host goes on, the destination stays the
# tunnel's (a server behind an address may serve several names, and a
# Host header never names where the bytes went).
out=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" -H "Host: vhost.example:8080" "$H/headers")
like "$out" "Host: vhost.example:8080" "CONNECT: the origin got the client's Host"
like "$out" "Via: 1.1 greyproxy" "through the exchange"
out=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" -H "Proxy-Authorization: Basic bmV4dDpob3A=" "$H/headers?beyond")
like "$out" "Proxy-Authorization: Basic bmV4dDpob3A=" "Proxy-Authorization inside a tunnel goes on (a proxy may be beyond)"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE url LIKE '%beyond'" 1
is "$(sql "SELECT count(*) FROM http_transactions WHERE request_headers LIKE '%bmV4dDpob3A%'")" 0 "and is redacted where it is stored"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE url LIKE '%/headers'" 1
is "$(sql "SELECT url FROM http_transactions WHERE url LIKE '%/headers'")" "$H/headers" "stored for the tunnel's destination, not Host"
h=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nHost: a/b\r\n\r\n' "$PP" |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --expect-close | tr -d '\r')
like "$h" "HTTP/1.1 400" "a Host that is not host[:port]: 400"

# A model served in the clear on the local network: its conversation
# is assembled under the sandbox's name (an endpoint rule names it).
api POST /api/endpoint-rules -d '{"host_pattern":"127.0.0.1","path_pattern":"/echo","decoder_name":"anthropic"}' >/dev/null
is "$(api_status)" 201 "an endpoint rule for the local model"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --socks5-hostname "agent-1:x@$GP_SOCKS" -H 'content-type: application/json' \
	-H 'anthropic-version: 2023-06-01' -d '{"model":"local-m","max_tokens":3,"messages":[{"role":"user","content":"a prompt sent in the clear"}]}' \
	"$H/echo")" 200 "a model request through SOCKS5 in the clear"
wait_for 10 eval '[ "$(jget "$(api GET /api/conversations)" "d[\"total\"]")" -ge 1 ]'
c=$(api GET /api/conversations)
is "$(jget "$c" 'd["items"][0]["container_name"] + " " + d["items"][0]["model"]')" "agent-1 local-m" "its conversation, under the sandbox's name"
like "$(jget "$c" 'd["items"][0]["first_prompt"]')" "a prompt sent in the clear" "with its prompt"

# Request rules judge the requests inside.
j=$(api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"deny","method_pattern":"POST","path_pattern":"/echo*"}')
RID=$(jget "$j" 'd["id"]')
h=$(curl -s -i --max-time 10 --socks5-hostname "sbx-a:x@$GP_SOCKS" -d data "$H/echo" | tr -d '\r')
like "$h" "^HTTP/1.1 403" "SOCKS5: a denied POST is refused"
like "$h" "X-Proxy-Error: blocked-by-request-rule" "blocked-by-request-rule"
like "$h" "denied by rule $RID" "naming the rule"
is "$(curl -s --max-time 10 --socks5-hostname "sbx-a:x@$GP_SOCKS" -X PUT -d put-body "$H/echo")" "put-body" "another method passes"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -p -x "http://$GP_HTTP" -d x "$H/echo")" 403 "CONNECT: refused too"
# What a lenient origin would take is read and judged too.
raw() {	# raw REQUEST: through a CONNECT tunnel to the origin, the answer
	printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\n%s' "$PP" "$1" |
		python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --timeout 5 | tr -d '\r'
}
h=$(raw $'POST http://elsewhere.example/echo HTTP/1.1\r\nHost: elsewhere.example\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx')
like "$h" "X-Proxy-Error: blocked-by-request-rule" "absolute-form naming another host: judged for the tunnel's, refused"
h=$(raw $'POST  /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx')
like "$h" "HTTP/1.1 (400|403)" "spaces doubled: refused, not relayed"
unlike "$h" "200 OK" "never reaches the origin"
h=$(raw $'GET http://vhost.example/headers HTTP/1.1\r\nConnection: close\r\n\r\n')
like "$h" "GET http://vhost.example/headers HTTP/1.1" "absolute-form goes on as written (the tunnel may lead to another proxy)"
like "$h" "Host: vhost.example" "with Host from it, none having been sent"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE url = '$H/headers' AND container_name = 'unknown-127.0.0.1'" 2
ok $? "stored for the tunnel's destination"
is "$(sql "SELECT count(*) FROM http_transactions WHERE url LIKE '%.example%'")" 0 "never for a host the target names"

# A WebSocket in the clear through SOCKS5: the 101 and each message.
python3 "$LIB/wsdeflate.py" serve --port-file "$T/ws.port" 2>>"$T/origin.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/ws.port" || { echo "Bail out! WebSocket origin"; exit 1; }
WP=$(cat "$T/ws.port")
out=$(timeout 20 python3 "$LIB/wsdeflate.py" client --proxy "$GP_SOCKS" --target "127.0.0.1:$WP" --socks5 sbx-ws 2>&1)
like "$out" "HANDSHAKE 101 deflate" "WebSocket through SOCKS5: upgraded, deflate agreed"
like "$out" "echo: hello 1" "and it talks"
url="ws://127.0.0.1:$WP/chat"
wait_for 10 sql_ge "SELECT count(*) FROM http_transactions WHERE url = '$url' AND method = 'WS_REQ' AND container_name = 'sbx-ws'" 3
ok $? "each client message stored, under the sandbox's name"
is "$(sql "SELECT CAST(request_body AS TEXT) FROM http_transactions WHERE url = '$url' AND method = 'WS_RESP' ORDER BY id LIMIT 1 OFFSET 1")" \
	"echo: hello 1" "a server message, inflated"

# A credential's placeholder in the clear is refused, never sent.
c=$(api POST /api/credentials -d '{"label":"TOKEN","value":"sk-plain-tunnel-secret"}')
PH=$(jget "$c" 'd["placeholder"]')
h=$(curl -s -i --max-time 10 --socks5-hostname "sbx-a:x@$GP_SOCKS" -H "Authorization: Bearer $PH" "$H/headers" | tr -d '\r')
like "$h" "X-Proxy-Error: blocked-credential-plaintext" "a placeholder in the clear: 403 blocked-credential-plaintext"
unlike "$h" "sk-plain-tunnel-secret" "the value never went out"

# Not HTTP/1.x: relayed untouched.
n=$(st 'd["tunnels"]["plain_http"]')
N=300000
want=$(python3 -c '
import hashlib, sys
n = int(sys.argv[1]); d = bytes(range(256)) * 256
print(n, hashlib.sha256((d * (n // len(d) + 1))[:n]).hexdigest())' $N)
is "$(python3 "$LIB/halfclose.py" client --via socks5 --proxy "$GP_SOCKS" --target "$HC" --bytes $N)" "$want" "binary through SOCKS5: intact"
out=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' "$PP" |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --timeout 3 | tr -d '\r')
unlike "$out" "Via: 1.1 greyproxy" "HTTP/2's preface is not read as HTTP/1.x"
is "$(st 'd["tunnels"]["plain_http"]')" "$n" "neither counted as read"

# mitmBypass keeps a host's tunnels untouched.
api PUT /api/settings -d '{"mitmBypass":["127.0.0.1"]}' >/dev/null
is "$(curl -s --max-time 10 --socks5-hostname "sbx-c:x@$GP_SOCKS" -d data "$H/echo")" "data" "a bypassed host: the request rule cannot see it"
is "$(st 'd["tunnels"]["plain_http"]')" "$n" "and its HTTP is not read"

# mitmEnabled false: every tunnel is relayed untouched.
api PUT /api/settings -d '{"mitmBypass":[],"mitmEnabled":false}' >/dev/null
is "$(curl -s --max-time 10 --socks5-hostname "sbx-d:x@$GP_SOCKS" "$H/hello")" "hello from origin" "interception off: relayed"
is "$(st 'd["tunnels"]["plain_http"]')" "$n" "not read"
wait_for 10 sql_ge "SELECT count(*) FROM request_logs WHERE container_name = 'sbx-d'" 1
is "$(sql "SELECT count(*) FROM http_transactions WHERE container_name = 'sbx-d'")" 0 "no transaction"
done_testing
