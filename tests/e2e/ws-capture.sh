#!/bin/bash
# WebSocket capture: the 101 is a transaction; then each message, per
# direction, is a row (WS_REQ from the client, WS_RESP from the server),
# reassembled across fragments and inflated (permessage-deflate, one
# context per direction, the client's offer untouched) — inside
# intercepted TLS and on plain HTTP; what crosses is relayed untouched.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start
python3 "$LIB/wsdeflate.py" serve --port-file "$T/ws.port" 2>>"$T/origin.log" &
PIDS="$PIDS $!"
python3 "$LIB/wsdeflate.py" serve --port-file "$T/wss.port" --tls "$T/cert.pem" "$T/key.pem" 2>>"$T/origin.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/ws.port" && wait_for 10 test -s "$T/wss.port" ||
	{ echo "Bail out! WebSocket origins did not start"; exit 1; }
WP=$(cat "$T/ws.port"); WSP=$(cat "$T/wss.port")
long="$(printf 'x%.0s' $(seq 5000)) end"
rows() { sql "SELECT count(*) FROM http_transactions WHERE url = '$1' AND method = '$2'"; }
body() { sql "SELECT CAST(request_body AS TEXT) FROM http_transactions WHERE url = '$1' AND method = '$2' ORDER BY id LIMIT 1 OFFSET $3"; }

for mode in wss ws; do
	if [ $mode = wss ]; then
		url="wss://localhost:$WSP/chat"
		out=$(timeout 20 python3 "$LIB/wsdeflate.py" client --proxy "$GP_HTTP" --target "localhost:$WSP" --tls "$CA" 2>&1)
	else
		url="ws://127.0.0.1:$WP/chat"
		out=$(timeout 20 python3 "$LIB/wsdeflate.py" client --proxy "$GP_HTTP" --target "127.0.0.1:$WP" 2>&1)
	fi
	want=$(printf 'HANDSHAKE 101 deflate\nwelcome\necho: hello 1\necho: %s\nBINARY 256\nCLOSE' "$long")
	is "$out" "$want" "$mode: the client and the origin agreed on deflate and talked through the proxy"
	wait_for 10 eval '[ "$(rows "$url" WS_RESP)" -ge 4 ] && [ "$(rows "$url" WS_REQ)" -ge 3 ]'
	is "$(rows "$url" WS_REQ)" 3 "$mode: three client messages stored"
	is "$(rows "$url" WS_RESP)" 4 "$mode: four server messages stored"
	is "$(body "$url" WS_REQ 0)" "hello 1" "$mode: a compressed client message, inflated"
	is "$(body "$url" WS_REQ 1)" "$long" "$mode: three fragments, one message, inflated with the context"
	is "$(sql "SELECT hex(request_body) FROM http_transactions WHERE url = '$url' AND method = 'WS_REQ' ORDER BY id LIMIT 1 OFFSET 2")" \
		"$(python3 -c 'print(bytes(range(256)).hex().upper())')" "$mode: binary, uncompressed in a deflate session, as sent"
	is "$(body "$url" WS_RESP 0)" "welcome" "$mode: a message sent with the 101, stored"
	is "$(body "$url" WS_RESP 1)" "echo: hello 1" "$mode: a server message inflated"
	is "$(body "$url" WS_RESP 2)" "echo: $long" "$mode: server fragments reassembled, the context carried"
	check "$(sql "SELECT request_body_size FROM http_transactions WHERE url = '$url' AND method = 'WS_REQ' ORDER BY id LIMIT 1 OFFSET 1") < 200" \
		"$mode: the size is the compressed payload's"
	is "$(sql "SELECT DISTINCT status_code FROM http_transactions WHERE url = '$url'")" 101 "$mode: messages carry status 101"
	like "$(sql "SELECT request_headers FROM http_transactions WHERE method = 'GET' AND url LIKE '%:$([ $mode = wss ] && echo $WSP || echo $WP)/chat' AND status_code = 101")" \
		"permessage-deflate; client_max_window_bits" "$mode: the 101 is a transaction, the client's offer as it sent it"
done
is "$(sql "SELECT tls FROM http_transactions WHERE url = 'wss://localhost:$WSP/chat' LIMIT 1")" 1 "wss: marked TLS"
id=$(sql "SELECT id FROM http_transactions WHERE url = 'wss://localhost:$WSP/chat' AND method = 'WS_REQ' ORDER BY id LIMIT 1")
is "$(jget "$(api GET "/api/transactions/$id")" 'd["request_body"]')" "hello 1" "served by the API"

# Garbage after a 101: the tunnel keeps relaying, capture stops, logged.
python3 - "$GP_HTTP" "$WP" <<'PY' > "$T/bad.out" 2>&1
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=10)
s.sendall(("GET http://127.0.0.1:%s/chat HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % (sys.argv[2], sys.argv[2])).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print(head.split(b"\r\n")[0].decode())
s.sendall(b"\x83\x80\x00\x00\x00\x00")    # a reserved opcode
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print("closed")
PY
like "$(cat "$T/bad.out")" "101" "a bad frame after the 101"
wait_for 5 grep -q "frames not captured from here on: reserved data opcode" "$T/serve.log"; ok $? "capture stops, logged with the reason"
api GET /api/status >/dev/null; is "$(api_status)" 200 "the proxy keeps serving"
done_testing
