#!/bin/bash
# REST API: routes and shapes, security checks, malformed input, settings,
# limited mode, local-network protection, admin routes, durability.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
GP_SETTINGS='{"defaultAction":"block"}'
gp_start
O="http://127.0.0.1:$ORIGIN_PORT"

j=$(api GET /api/health)
is "$(api_status)" 200 "health: 200"
is "$(jget "$j" 'd["service"] + " " + d["status"]')" "greyproxy ok" "health: service and status"
is "$(jget "$j" 'd["ports"]["http-proxy"]')" "${GP_HTTP##*:}" "health: bound proxy port"
h=$(curl -s -D - -o /dev/null "http://$GP_API/api/health" | tr -d '\r')
like "$h" "Content-Type: application/json; charset=utf-8" "JSON content type"

# Security: Host and cross-site checks.
api GET /api/health -H "Host: evil.example" >/dev/null
is "$(api_status)" 403 "non-loopback Host: 403"
api GET /api/health -H "Host: evil.example:${GP_API##*:}" >/dev/null
is "$(api_status)" 403 "non-loopback Host with port: 403"
api GET /api/health -H "Host: localhost:${GP_API##*:}" >/dev/null
is "$(api_status)" 200 "localhost Host: 200"
api POST /api/rules -H "Origin: http://evil.example" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "cross-site Origin: 403"
api POST /api/rules -H "Sec-Fetch-Site: cross-site" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "Sec-Fetch-Site cross-site: 403"
is "$(jget "$(api GET '/api/rules?destination=x.com')" 'd["total"]')" 0 "refused requests changed nothing"
api GET /api/health -H "Origin: http://127.0.0.1:${GP_API##*:}" >/dev/null
is "$(api_status)" 200 "the API's own Origin: 200"
api GET /api/health -H "Origin: http://localhost:${GP_API##*:}" >/dev/null
is "$(api_status)" 200 "the API's own Origin by name: 200"
# A page can send these without a preflight: every one is refused.
api POST /api/rules -H "Origin: null" -H "Content-Type: text/plain" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "Origin: null, text/plain POST: 403"
api POST /api/rules -H "Origin: http://127.0.0.1:9" -H "Content-Type: text/plain" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "a loopback Origin on another port (another application): 403"
api POST /api/rules -H "Origin: http://localhost" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "a loopback Origin without our port: 403"
api POST /api/rules -H "Origin: https://127.0.0.1:${GP_API##*:}" -d '{"destination_pattern":"x.com"}' >/dev/null
is "$(api_status)" 403 "https:// Origin (not ours): 403"
is "$(jget "$(api GET '/api/rules?destination=x.com')" 'd["total"]')" 0 "web-page requests changed nothing"
grep -q "api: refused a request from origin null" "$T/serve.log"; ok $? "refusals logged"
# Clients without an Origin keep working, curl -d's form content type too.
r=$(api POST /api/rules -d '{"destination_pattern":"curl-d.example","action":"allow"}')
is "$(api_status)" 200 "no Origin, curl -d (form content type): accepted"
api DELETE "/api/rules/$(jget "$r" 'd["id"]')" >/dev/null
r=$(printf 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n' |
	python3 "$LIB/rawclient.py" "${GP_API%:*}" "${GP_API##*:}" --expect-close)
like "$r" "^HTTP/1.1 400" "two Host headers: 400"

# Malformed input.
r=$(api POST /api/rules -d '{"destination_pattern":')
is "$(api_status)" 400 "malformed JSON: 400"
like "$(jget "$r" 'd["error"]')" "JSON" "malformed JSON: error message"
python3 -c 'print("{\"notes\":\"" + "a"*1100000 + "\"}")' > "$T/big.json"
api POST /api/rules --data-binary "@$T/big.json" >/dev/null
is "$(api_status)" 413 "oversized body: 413"
api GET /api/nope >/dev/null; is "$(api_status)" 404 "unknown route: 404"
api DELETE /api/settings >/dev/null; is "$(api_status)" 405 "wrong method: 405"
api POST /api/rules -d '{"destination_pattern":"a b"}' >/dev/null
is "$(api_status)" 400 "invalid pattern: 400"
api POST /api/rules -d '{"destination_pattern":"x.org","action":"maybe"}' >/dev/null
is "$(api_status)" 400 "invalid action: 400"
api POST /api/rules -d '[1,2]' >/dev/null; is "$(api_status)" 400 "array body: 400"
api GET '/api/logs?limit=abc' >/dev/null; is "$(api_status)" 400 "bad limit: 400"
out=$(printf 'GARBAGE\r\n\r\n' | python3 "$LIB/rawclient.py" "${GP_API%:*}" "${GP_API##*:}" --expect-close)
like "$out" "^HTTP/1.1 400" "malformed HTTP to the API: 400"
kill -0 "$GP_PID"; ok $? "API survives bad input"

# Rules CRUD.
r=$(api POST /api/rules -d '{"destination_pattern":"*.NPMJS.org","port_pattern":"443","notes":"npm"}')
is "$(api_status)" 200 "create rule: 200"
rid=$(jget "$r" 'd["id"]')
is "$(jget "$r" 'd["destination_pattern"] + " " + d["action"] + " " + d["container_pattern"] + " " + d["rule_type"]')" \
	"*.npmjs.org allow * permanent" "created rule's fields"
r2=$(api POST /api/rules -d '{"destination_pattern":"*.npmjs.org","port_pattern":"443"}')
is "$(jget "$r2" 'd["id"]')" "$rid" "duplicate returns the existing rule"
r=$(api PUT "/api/rules/$rid" -d '{"port_pattern":"80,443","notes":"edited"}')
is "$(jget "$r" 'd["port_pattern"] + " " + d["notes"]')" "80,443 edited" "update rule"
r=$(api POST /api/rules -d '{"destination_pattern":"tmp.example","expires_in_seconds":60}')
is "$(jget "$r" 'd["rule_type"]')" temporary "expiring rule is temporary"
tid=$(jget "$r" 'd["id"]')
r=$(api PUT "/api/rules/$tid" -d '{"expires_at":""}')
is "$(jget "$r" 'd["expires_at"]')" None "empty expires_at clears the expiry"
api PUT /api/rules/99999 -d '{"notes":"x"}' >/dev/null; is "$(api_status)" 404 "update missing rule: 404"
j=$(api GET '/api/rules?action=allow&limit=1')
is "$(jget "$j" 'd["total"]')" 2 "list filter by action (total)"
is "$(jget "$j" 'len(d["items"])')" 1 "list honours limit"
j2=$(api GET '/api/rules?action=allow&limit=5&offset=1')
is "$(jget "$j2" '"%d %d" % (d["total"], len(d["items"]))')" "2 1" "offset: the total still counts all, the page holds the rest"
isnt_first=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(a["items"][0]["id"] != b["items"][0]["id"])' "$j" "$j2")
is "$isnt_first" True "and starts after the first page"
r=$(api DELETE "/api/rules/$tid"); is "$(jget "$r" 'd["deleted"]')" True "delete rule"
api DELETE "/api/rules/$tid" >/dev/null; is "$(api_status)" 404 "delete again: 404"
r=$(api POST /api/rules/ingest -d '{"items":[{"destination_pattern":"a.test"},{"destination_pattern":"b.test","action":"deny"},{"destination_pattern":"bad host"}]}')
is "$(jget "$r" '"%d %d" % (d["imported"], d["skipped"])')" "2 1" "ingest imports and skips"

# Settings.
j=$(api GET /api/settings)
is "$(jget "$j" 'd["defaultAction"] + " " + str(d["pendingTimeout"]) + " " + d["mode"]')" "block 60 full" "settings GET"
j=$(api PUT /api/settings -d '{"pendingTimeout":15}')
is "$(jget "$j" 'd["pendingTimeout"]')" 15 "settings PUT is a partial patch"
is "$(jget "$j" 'd["defaultAction"]')" block "other settings untouched"
api PUT /api/settings -d '{"pendingTimeout":"soon"}' >/dev/null; is "$(api_status)" 400 "wrong type: 400"
api PUT /api/settings -d '{"bogus":1}' >/dev/null; is "$(api_status)" 400 "unknown setting: 400"
api PUT /api/settings -d '{"defaultAction":"maybe"}' >/dev/null; is "$(api_status)" 400 "bad choice: 400"
is "$(stat -c %a "$GP_DATA/settings.json")" 600 "settings.json is 0600"
is "$(jget "$(cat "$GP_DATA/settings.json")" 'd["pendingTimeout"]')" 15 "settings persisted"

# Limited mode.
api POST /api/rules -d '{"destination_pattern":"127.0.0.1"}' >/dev/null
r=$(api POST /mode -d '{"mode":"limited"}'); is "$(jget "$r" 'd["mode"]')" limited "POST /mode limited"
is "$(proxy_status "$O/hello")" 200 "limited: GET allowed"
is "$(proxy_error "$O/echo" -d x)" blocked-by-method-policy "limited: POST refused"
is "$(curl -s -o /dev/null -w '%{http_connect}' -p -x "http://$GP_HTTP" "https://127.0.0.1:$ORIGIN_PORT/" 2>/dev/null)" 403 "limited: CONNECT refused"
curl -s --max-time 5 --socks5 "$GP_SOCKS" "$O/hello" >/dev/null; is $? 97 "limited: SOCKS5 refused"
api POST /mode -d '{"mode":"sideways"}' >/dev/null; is "$(api_status)" 400 "bad mode: 400"
api POST /mode -d '{"mode":"full"}' >/dev/null
is "$(proxy_status "$O/echo" -d x)" 200 "full mode: POST allowed again"

# Local-network protection: only rules naming the IP or localhost.
rid=$(sql "SELECT id FROM rules WHERE destination_pattern='127.0.0.1'")
api DELETE "/api/rules/$rid" >/dev/null
api POST /api/rules -d '{"destination_pattern":"*"}' >/dev/null
is "$(proxy_error "$O/hello")" blocked-by-policy "allow * does not reach loopback"
api POST /api/rules -d '{"destination_pattern":"rebind.localhost"}' >/dev/null
is "$(proxy_error "http://rebind.localhost:$ORIGIN_PORT/hello")" blocked-by-policy \
	"a hostname resolving to loopback is refused (DNS rebinding)"
api PUT /api/settings -d '{"privateNetworkProtection":false}' >/dev/null
is "$(proxy_status "http://rebind.localhost:$ORIGIN_PORT/hello")" 200 "protection off: allowed"
api PUT /api/settings -d '{"privateNetworkProtection":true}' >/dev/null
api POST /api/rules -d '{"destination_pattern":"127.0.0.0/8"}' >/dev/null
is "$(proxy_status "$O/hello")" 200 "a CIDR rule naming loopback allows it"
is "$(proxy_status "http://rebind.localhost:$ORIGIN_PORT/hello")" 200 "and the hostname that resolves there"

# Logs: filters and pagination.
j=$(api GET '/api/logs?result=blocked&limit=2')
is "$(jget "$j" 'len(d["items"])')" 2 "logs honour limit"
is "$(jget "$j" 'set(i["result"] for i in d["items"]) == {"blocked"}')" True "logs filter by result"
check "$(jget "$j" 'd["total"]') >= 4" "blocked total counts every blocked decision"
j=$(api GET '/api/logs?destination=rebind')
is "$(jget "$j" 'all("rebind" in i["destination_host"] for i in d["items"]) and d["total"] >= 3')" True "logs filter by destination"
j=$(api GET "/api/logs?from_date=2000-01-01T00:00&to_date=2000-01-02T00:00:00Z")
is "$(jget "$j" 'd["total"]')" 0 "logs filter by time range"
api GET '/api/logs?from_date=yesterday' >/dev/null; is "$(api_status)" 400 "bad from_date: 400"
j=$(api GET '/api/logs?result=allowed&limit=1')
is "$(jget "$j" 'd["items"][0]["method"] + " " + str(d["items"][0]["rule_id"] is not None)')" "HTTP True" "log item fields"
j=$(api GET /api/logs/stats)
is "$(jget "$j" 'd["total_requests"] == d["allowed"] + d["blocked"]')" True "logs stats add up"

# codex-network-proxy admin routes.
is "$(jget "$(api GET /health)" 'd["status"]')" ok "GET /health"
is "$(jget "$(api GET /config)" 'd["mode"]')" full "GET /config"
is "$(jget "$(api GET /patterns)" '"*.npmjs.org" in d["allowed"] and "b.test" in d["denied"]')" True "GET /patterns"
is "$(jget "$(api GET /blocked)" 'd["blocked"][0]["reason"] != ""')" True "GET /blocked lists recent blocks"
printf '{"defaultAction":"block","pendingTimeout":7}\n' > "$GP_DATA/settings.json"
is "$(jget "$(api POST /reload)" 'd["status"]')" reloaded "POST /reload"
is "$(jget "$(api GET /api/settings)" 'd["pendingTimeout"]')" 7 "reload re-reads settings.json"

# Durability: an API change survives kill -9.
r=$(api POST /api/rules -d '{"destination_pattern":"durable.example"}')
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
gp_start
is "$(jget "$(api GET '/api/rules?destination=durable')" 'd["total"]')" 1 "rule survives kill -9"
done_testing
