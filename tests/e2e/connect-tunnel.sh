#!/bin/bash
# CONNECT tunnels to a local TLS origin, blocked CONNECTs, failures.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are refused at once here (pending.sh holds them).
GP_SETTINGS='{"defaultAction":"block"}'

make_cert
origin_start tls --tls "$T/cert.pem" "$T/key.pem"
S="https://localhost:$ORIGIN_PORT"
gp_start

connect_code() {	# CONNECT status curl saw from the proxy
	curl -s -o /dev/null -w '%{http_connect}' --max-time 10 --proxytunnel \
		-x "http://$GP_HTTP" --cacert "$T/cert.pem" "$@"
}
h=$(curl -s -o /dev/null -D - --max-time 10 --proxytunnel -x "http://$GP_HTTP" \
	--cacert "$T/cert.pem" "$S/hello" 2>&1 | tr -d '\r')
like "$h" "HTTP/1.1 403" "unmatched CONNECT: 403"
like "$h" "X-Proxy-Error: blocked-by-allowlist" "unmatched CONNECT reason"

rule add allow localhost --port "$ORIGIN_PORT" >/dev/null
tunnel_ok() { [ "$(connect_code "$S/hello")" = 200 ]; }
wait_for 5 tunnel_ok; ok $? "allowed CONNECT: 200"
body=$(curl -s --max-time 10 --proxytunnel -x "http://$GP_HTTP" --cacert "$T/cert.pem" "$S/hello")
is "$body" "hello from origin" "TLS through the tunnel reaches the origin"
want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(10485760)).hexdigest())' "$LIB")
got=$(curl -s --max-time 30 --proxytunnel -x "http://$GP_HTTP" --cacert "$T/cert.pem" "$S/bytes/10485760" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB through the TLS tunnel intact"
head -c 10485760 /dev/urandom > "$T/up.bin"
want=$(sha256sum < "$T/up.bin" | cut -d' ' -f1)
got=$(curl -s --max-time 30 --proxytunnel -x "http://$GP_HTTP" --cacert "$T/cert.pem" --data-binary "@$T/up.bin" "$S/echo" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB upload through the TLS tunnel intact"

# openssl s_client through a raw CONNECT.
out=$( (printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\n' "$ORIGIN_PORT" "$ORIGIN_PORT"; sleep 0) |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --timeout 2)
like "$out" "^HTTP/1.1 200 Connection established" "raw CONNECT answered 200"

# Deny rule on the tunnel.
rule add deny localhost --port "$ORIGIN_PORT" >/dev/null
tunnel_denied() { [ "$(connect_code "$S/hello")" = 403 ]; }
wait_for 5 tunnel_denied; ok $? "denied CONNECT: 403"

# Allowed but nothing listens: 502 with a reason.
rule add allow 127.0.0.1 >/dev/null
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
refused() {
	curl -s -o /dev/null -D - --max-time 10 --proxytunnel -x "http://$GP_HTTP" \
		"https://127.0.0.1:$closed/" 2>/dev/null | tr -d '\r' |
		grep -q "X-Proxy-Error: upstream-refused"
}
wait_for 5 refused; ok $? "connection refused upstream: 502 upstream-refused"

# A name that cannot be resolved: 502 dns-failed.
rule add allow nosuchhost.invalid >/dev/null
dns_fail() {
	curl -s -D - -o /dev/null --max-time 20 -x "http://$GP_HTTP" \
		http://nosuchhost.invalid/ | tr -d '\r' | grep -q "X-Proxy-Error: dns-failed"
}
wait_for 30 dns_fail; ok $? "unresolvable name: 502 dns-failed"

# CONNECT without a port is a bad request.
out=$(printf 'CONNECT localhost HTTP/1.1\r\n\r\n' |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --expect-close)
rc=$?
like "$out" "^HTTP/1.1 400" "CONNECT without a port: 400"
is "$rc" 0 "connection closed after the 400"
# Idle tunnels are closed after --idle-timeout.
gp_stop
gp_start --idle-timeout 1
out=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\n' "$ORIGIN_PORT" |
	python3 "$LIB/rawclient.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" --timeout 6 --expect-close)
rc=$?
like "$out" "^HTTP/1.1 200" "tunnel opened"
is "$rc" 0 "idle tunnel closed by the idle timeout"
done_testing
