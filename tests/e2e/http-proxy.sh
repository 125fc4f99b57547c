#!/bin/bash
# HTTP proxy: forwarding, keep-alive, bodies both ways, rules, headers.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are refused at once here (pending.sh holds them).
GP_SETTINGS='{"defaultAction":"block"}'

origin_start o
O="http://127.0.0.1:$ORIGIN_PORT"
gp_start

# No rule: blocked with the allowlist reason.
is "$(proxy_status "$O/hello")" 403 "unmatched destination: 403"
is "$(proxy_error "$O/hello")" blocked-by-allowlist "X-Proxy-Error: blocked-by-allowlist"
body=$(curl -s -x "http://$GP_HTTP" "$O/hello")
like "$body" "not allowed" "one-line body explains the block"

rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
wait_for 5 status_is 200 "$O/hello"
ok $? "serve picks up a rule added by the CLI"
body=$(curl -s -x "http://$GP_HTTP" "$O/hello")
is "$body" "hello from origin" "allowed GET returns the origin's body"
is "$(proxy_status "http://127.0.0.1:1/hello")" 403 "rule port is enforced"

# Keep-alive: two requests over one client connection.
v=$(curl -sv -x "http://$GP_HTTP" "$O/hello" "$O/hello" 2>&1 >/dev/null)
like "$v" "Re-using existing connection" "client connection reused"
is "$(printf '%s' "$v" | grep -c '< HTTP/1.1 200')" 2 "both keep-alive requests answered"

# An origin that drops kept-alive connections: a request sent on a dead
# connection is replayed on a new one, not answered 502.
urls=""; for i in $(seq 1 20); do urls="$urls -o /dev/null $O/drop"; done
codes=$(curl -s -w '%{http_code} ' -x "http://$GP_HTTP" $urls)
is "$codes" "$(printf '200 %.0s' $(seq 1 20))" "twenty requests over one client connection to a dropping origin"

# Hop-by-hop headers are not forwarded; Host comes from the URL.
h=$(curl -s -x "http://$GP_HTTP" -H "Connection: X-Secret" -H "X-Secret: 1" \
	-H "Keep-Alive: 5" -U user:pw "$O/headers")
ok "$(printf '%s' "$h" | grep -ci 'x-secret')" "Connection-named header dropped"
ok "$(printf '%s' "$h" | grep -ci 'proxy-authorization')" "Proxy-Authorization dropped"
like "$h" "Host: 127.0.0.1:$ORIGIN_PORT" "Host from the absolute URL"
like "$h" "Via: 1.1 greyproxy" "Via added"

# Bodies: 10 MiB down, 10 MiB up (sized and chunked).
want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(10485760)).hexdigest())' "$LIB")
got=$(curl -s -x "http://$GP_HTTP" "$O/bytes/10485760" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB download intact"
head -c 10485760 /dev/urandom > "$T/up.bin"
want=$(sha256sum < "$T/up.bin" | cut -d' ' -f1)
got=$(curl -s -x "http://$GP_HTTP" --data-binary "@$T/up.bin" "$O/echo" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB upload (Content-Length) echoed intact"
got=$(curl -s -x "http://$GP_HTTP" -H "Transfer-Encoding: chunked" \
	--data-binary "@$T/up.bin" "$O/echo" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB upload (chunked) echoed intact"
got=$(curl -s -x "http://$GP_HTTP" "$O/chunked")
is "$got" "first second third" "chunked response relayed"
got=$(curl -s -x "http://$GP_HTTP" "$O/close")
is "$got" "until close" "read-until-close response relayed"
is "$(proxy_status "$O/status/204")" 204 "204 without body"
h=$(curl -s -I -x "http://$GP_HTTP" "$O/bytes/100" | tr -d '\r')
like "$h" "Content-Length: 100" "HEAD keeps Content-Length, no body"
v=$(curl -sv -x "http://$GP_HTTP" "$O/status/204" "$O/hello" 2>&1)
like "$v" "hello from origin" "keep-alive continues after a 204"

# Deny rules and precedence.
rule add deny 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
wait_for 5 status_is 403 "$O/hello"
ok $? "deny wins a tie with an allow of the same specificity"
is "$(proxy_error "$O/hello")" blocked-by-denylist "X-Proxy-Error: blocked-by-denylist"
rule add allow localhost >/dev/null
rule add deny '*.localhost' >/dev/null
rule add allow 'api.localhost' >/dev/null
L="http://api.localhost:$ORIGIN_PORT"
wait_for 5 status_is 200 "$L/hello"
ok $? "exact allow beats a wildcard deny"
is "$(proxy_error "http://www.localhost:$ORIGIN_PORT/hello")" blocked-by-denylist \
	"other subdomain denied by the wildcard"

# Identity from Proxy-Authorization: a container-scoped rule.
rule add allow 'only.localhost' --container agent1 >/dev/null
C="http://only.localhost:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$C" -U agent1:proxy
ok $? "container rule matches the proxy user"
is "$(proxy_status "$C" -U agent2:proxy)" 403 "another user is not matched"
is "$(proxy_status "$C")" 403 "no user is unknown-<ip>, not matched"

# The connection log is written in batches.
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE result='blocked'" 5
ok $? "blocked decisions are logged"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE request LIKE '%bytes/10485760%'" 1
row=$(sqlite3 "$GP_DATA/greyproxy.db" "SELECT method, container_name, destination_host, result, bytes_down > 10000000 FROM request_logs WHERE request LIKE '%bytes/10485760%'")
is "$row" "HTTP|unknown-127.0.0.1|127.0.0.1|allowed|1" "download logged with identity and bytes"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE destination_host='only.localhost' AND result='allowed'" 1
row=$(sql "SELECT group_concat(DISTINCT container_name || '=' || result) FROM (SELECT * FROM request_logs WHERE destination_host='only.localhost' AND result='allowed')")
is "$row" "agent1=allowed" "log keyed on the proxy user"
wait_for 20 sql_ge "SELECT hit_count FROM rules WHERE destination_pattern='api.localhost'" 1
hits=$(sqlite3 "$GP_DATA/greyproxy.db" "SELECT hit_count > 0 FROM rules WHERE destination_pattern='api.localhost'")
is "$hits" 1 "rule hit counts recorded"
done_testing
