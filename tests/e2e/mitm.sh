#!/bin/bash
# HTTPS interception: a local TLS origin with its own throwaway CA
# (trusted by greyproxy through SSL_CERT_FILE), clients trusting
# greyproxy's CA.  Through CONNECT and SOCKS5: the leaf is greyproxy's,
# bodies cross whole both ways, keep-alive and chunked work; an origin
# greyproxy cannot verify gets 502 upstream-tls-failed with the reason;
# plain HTTP is read in the clear (plain-tunnel.sh), what is neither,
# or speaks first, is relayed untouched; mitmEnabled
# false leaves TLS to the client; a client that does not trust the CA
# just fails.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

make_cert
origin_start tls --tls "$T/cert.pem" "$T/key.pem"; OP=$ORIGIN_PORT
origin_start plain; PP=$ORIGIN_PORT
# A second TLS origin whose certificate nobody trusts.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost" -keyout "$T/k2.pem" \
	-out "$T/c2.pem" 2>/dev/null
origin_start untrusted --tls "$T/c2.pem" "$T/k2.pem"; UP=$ORIGIN_PORT
# An origin that speaks first (SMTP-like): a banner, then an echo.
python3 -c '
import socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def serve(c):
    c.sendall(b"220 banner\r\n")
    while True:
        b = c.recv(4096)
        if not b: break
        c.sendall(b)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$T/banner.port" 2>>"$T/banner.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/banner.port"; BP=$(cat "$T/banner.port")

mkdir -p -m 700 "$T/data"
"$GREYPROXY" cert generate --data-dir "$T/data" >/dev/null
export SSL_CERT_FILE="$T/cert.pem"
GP_SETTINGS='{"defaultAction":"block","privateNetworkProtection":false}'
gp_start
unset SSL_CERT_FILE
api POST /api/rules -d '{"destination_pattern":"localhost","action":"allow"}' >/dev/null
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
st() { jget "$(api GET /api/status)" "$1"; }
wait_for 10 eval '[ "$(st "d[\"mitm\"][\"state\"]")" = on ]'
ok $? "interception on"
CA=$T/data/ca-cert.pem
S="https://localhost:$OP"

v=$(curl -sv --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "$S/hello" 2>&1)
like "$v" "hello from origin" "CONNECT: the origin's body"
like "$v" "issuer: CN=Greyproxy CA" "CONNECT: the leaf is greyproxy's"
like "$v" "subject: CN=localhost" "for the name asked"
like "$v" "ALPN: server accepted http/1.1" "ALPN http/1.1"
is "$(curl -s --max-time 10 --socks5-hostname "$GP_SOCKS" --cacert "$CA" "$S/hello")" "hello from origin" "SOCKS5: the origin's body"
is "$(st 'd["tunnels"]["intercepted"]')" 2 "both tunnels were intercepted"
check "$(st 'd["tunnels"]["upstream_resumed"]') >= 1" "the second resumed its TLS session with the origin"

want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(10485760)).hexdigest())' "$LIB")
got=$(curl -s --max-time 30 -p -x "http://$GP_HTTP" --cacert "$CA" "$S/bytes/10485760" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB down, intact"
# A reader slower than the origin: the origin's records wait, some of
# them half delivered, and everything arrives in order.
got=$(curl -s --max-time 30 --limit-rate 10M -p -x "http://$GP_HTTP" --cacert "$CA" "$S/bytes/10485760" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB down to a slow reader, intact"
want3=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(3145728)).hexdigest())' "$LIB")
got=$(curl -s --max-time 30 --socks5-hostname "$GP_SOCKS" --cacert "$CA" "$S/chunked-bytes/3145728" | sha256sum | cut -d' ' -f1)
is "$got" "$want3" "3 MiB chunked down, intact"
head -c 5000000 /dev/urandom > "$T/up.bin"
got=$(curl -s --max-time 30 --socks5-hostname "$GP_SOCKS" --cacert "$CA" --data-binary @"$T/up.bin" "$S/echo" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha256sum < "$T/up.bin" | cut -d' ' -f1)" "5 MB up through SOCKS5, intact"
v=$(curl -sv --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "$S/hello" "$S/chunked" 2>&1)
like "$v" "Re-using existing connection" "keep-alive inside the tunnel"
like "$v" "Transfer-Encoding: chunked" "a chunked response"
is "$(echo "$v" | grep -c 'hello from origin')" 1 "both answered"

# Untrusted origin: 502, the reason, and the log says it.
h=$(curl -s -i --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$UP/hello" | tr -d '\r')
like "$h" "^HTTP/1.1 502" "untrusted origin: 502"
like "$h" "X-Proxy-Error: upstream-tls-failed" "with upstream-tls-failed"
like "$h" "certificate verify failed" "and the reason in the body"
like "$(cat "$T/serve.log")" "upstream TLS failed: certificate verify failed" "logged with the reason"

# Plain HTTP is read in the clear, not intercepted; the origin first:
# relayed untouched, at once.
n=$(st 'd["tunnels"]["intercepted"]')
is "$(curl -s --max-time 10 -p -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello")" "hello from origin" "plain HTTP through CONNECT: answered"
t0=$(date +%s%N)
b=$(python3 - "$GP_HTTP" "$BP" <<'PY'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=10)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
buf = b""
while b"220 banner" not in buf:
    c = s.recv(4096)
    if not c: break
    buf += c
s.sendall(b"ping\r\n")
while b"ping" not in buf.split(b"220 banner", 1)[-1]:
    c = s.recv(4096)
    if not c: break
    buf += c
print(buf.split(b"\r\n\r\n", 1)[1].decode().replace("\r\n", "|"))
PY
)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$b" "220 banner|ping|" "an origin that speaks first: relayed"
check "$ms < 3000" "without waiting for the client ($ms ms)"
is "$(st 'd["tunnels"]["intercepted"]')" "$n" "neither was intercepted"

# The tunnel's log row stays the tunnel's.
j=$(api GET "/api/logs?destination=localhost&limit=50")
like "$(jget "$j" '[i.get("method") for i in d["items"]]')" "CONNECT|HTTP" "log rows: the tunnels"

# A client that does not trust greyproxy's CA: its handshake fails.
curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" "$S/hello"; rc=$?
is $rc 60 "a client without the CA refuses the leaf (curl 60)"
wait_for 5 grep -q "refused interception" "$T/serve.log"; ok $? "and the log says so"

# mitmEnabled false: TLS goes to the origin untouched.
api PUT /api/settings -d '{"mitmEnabled":false}' >/dev/null
is "$(st 'd["mitm"]["state"]')" off "mitmEnabled false: off"
v=$(curl -sv --max-time 10 -p -x "http://$GP_HTTP" --cacert "$T/cert.pem" "$S/hello" 2>&1)
like "$v" "hello from origin" "the origin answers"
like "$v" "issuer: CN=localhost" "with its own certificate"
api PUT /api/settings -d '{"mitmEnabled":true}' >/dev/null
is "$(st 'd["mitm"]["state"]')" on "back on"

# mitmBypass: a host on it keeps its own TLS.
api PUT /api/settings -d '{"mitmBypass":["bad pattern"]}' >/dev/null
is "$(api_status)" 400 "mitmBypass refuses what is not a host pattern"
j=$(api PUT /api/settings -d '{"mitmBypass":["*.example.org","LOCAL*"]}')
is "$(api_status)" 200 "mitmBypass set"
is "$(jget "$j" 'd["mitmBypass"]')" "['*.example.org', 'LOCAL*']" "and read back as a list"
n=$(st 'd["tunnels"]["intercepted"]')
v=$(curl -sv --max-time 10 -p -x "http://$GP_HTTP" --cacert "$T/cert.pem" "$S/hello" 2>&1)
like "$v" "issuer: CN=localhost" "a bypassed host: the origin's own certificate"
like "$v" "hello from origin" "and its answer"
is "$(st 'd["tunnels"]["intercepted"]')" "$n" "not intercepted"
api PUT /api/settings -d '{"mitmBypass":[]}' >/dev/null
v=$(curl -sv --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "$S/hello" 2>&1)
like "$v" "issuer: CN=Greyproxy CA" "off the list: intercepted again"
gp_stop
done_testing
