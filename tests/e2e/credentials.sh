#!/bin/bash
# Global credentials: added through the API (never answered back),
# sealed with session.key, substituted for their placeholder in header
# values and query values inside intercepted HTTPS only and only to the
# hosts they are bound to; stored transactions, the log and every file of
# the data directory never hold the value; elsewhere the request is
# refused and reported as a possible exfiltration; survives a restart,
# and a wrong session.key is said, never silently.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start
ws_events
SECRET="sk-real-secret-$(printf '%010d' "$RANDOM$RANDOM")-xyz"	# 29 characters
c=$(api POST /api/credentials -d "{\"label\":\"LOCAL_TOKEN\",\"value\":\"$SECRET\",\"hosts\":[\"localhost\"]}")
is "$(api_status)" 200 "a credential added"
PH=$(jget "$c" 'd["placeholder"]'); ID=$(jget "$c" 'd["id"]')
like "$PH" "^greyproxy:credential:v1:global:[0-9a-f]{32}$" "its placeholder"
is "$(jget "$c" 'd["value_preview"]')" "sk-rea***xyz" "a preview, not the value"
is "$(jget "$c" 'd["hosts"]')" "['localhost']" "bound to its host"
unlike "$c" "$SECRET" "the answer never holds the value"
a=$(api POST /api/credentials -d '{"label":"ANTHROPIC_API_KEY","value":"sk-ant-other-secret-1"}')
is "$(jget "$a" 'd["hosts"]')" "['api.anthropic.com']" "a well-known label gets its API host"
APH=$(jget "$a" 'd["placeholder"]')
api POST /api/credentials -d '{"label":"LOCAL_TOKEN","value":"x-y-z"}' >/dev/null
is "$(api_status)" 409 "a label twice: 409"
api POST /api/credentials -d '{"label":"BAD","value":"a\r\nX-Injected: 1"}' >/dev/null
is "$(api_status)" 400 "a value with a line break: 400 (no header injection)"
api POST /api/credentials -d '{"label":"","value":"v"}' >/dev/null
is "$(api_status)" 400 "no label: 400"
l=$(api GET /api/credentials)
is "$(jget "$l" 'len(d)')" 2 "listed"
is "$(jget "$l" 'd[0]["label"]')" ANTHROPIC_API_KEY "newest first"
unlike "$l" "$SECRET" "the list never holds a value"
check "$(stat -c %a "$GP_DATA/session.key") == 600" "session.key 0600"

# Substituted inside intercepted HTTPS, in headers and in the query.
out=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" -H "Authorization: Bearer $PH" \
	-H "x-api-key: $PH" "https://localhost:$OP/headers?key=$PH&enc=${PH//:/%3A}&keep=a%20b")
like "$out" "Authorization: Bearer $SECRET" "Authorization: the real value arrived"
like "$out" "x-api-key: $SECRET" "x-api-key: the real value arrived"
like "$out" "GET /headers\\?key=$SECRET&enc=$SECRET&keep=a%20b HTTP" "the query: raw and %3A-encoded placeholders replaced, the rest byte for byte"
wait_for 10 eval '[ "$(sql "SELECT count(*) FROM http_transactions WHERE url LIKE '"'"'%keep=a%20b'"'"'")" = 1 ]'
row=$(sql "SELECT url || ' ' || request_headers FROM http_transactions WHERE url LIKE '%keep=a%20b'")
like "$row" "key=$PH" "the stored URL keeps the placeholder"
unlike "$row" "$SECRET" "the stored transaction never holds the value"
body=$(sql "SELECT CAST(response_body AS TEXT) FROM http_transactions WHERE url LIKE '%keep=a%20b'")
like "$body" "Authorization: Bearer $PH" "the origin echoed the value: stored as the placeholder"
unlike "$body" "$SECRET" "not the value"
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello"
wait_for 10 sql_ge "SELECT count(*) FROM request_logs WHERE destination_port = $PP" 1	# the log written since
n=$(grep -r -a -l -- "$SECRET" "$GP_DATA" "$T/serve.log" 2>/dev/null | wc -l)
is "$n" 0 "no file of the data directory (WAL included) nor the log holds the value"

# Bound: in clear, or to another host, refused and reported.
is "$(proxy_error "http://127.0.0.1:$PP/headers" -H "Authorization: Bearer $PH")" blocked-credential-plaintext "over plain HTTP: 403 blocked-credential-plaintext"
is "$(curl -s -o /dev/null -w '%{http_code}' -D "$T/h" --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" -H "x-api-key: $APH" "https://localhost:$OP/headers")" 403 "ANTHROPIC_API_KEY to another host: 403"
like "$(tr -d '\r' < "$T/h" | grep -i x-proxy-error)" "blocked-credential-destination" "blocked-credential-destination"
wait_for 5 grep -q '"credential.blocked".*"label":"ANTHROPIC_API_KEY"' "$T/ws.out"; ok $? "announced: credential.blocked"
grep -q 'POSSIBLE EXFILTRATION: .* credential ANTHROPIC_API_KEY to localhost' "$T/serve.log"; ok $? "a log line says possible exfiltration"

# A restart keeps it; then a wrong session.key is said, not hidden.
gp_stop
# A preview stored by the original's rule may be the whole secret: it
# is made again from the value at start-up, in the database too.
sql "UPDATE credentials SET value_preview = 'sk-real-secret-whole' WHERE label = 'LOCAL_TOKEN'"
SSL_CERT_FILE="$T/cert.pem" gp_start
is "$(jget "$(api GET /api/credentials)" 'd[1]["readable"]')" True "after a restart: read back with session.key"
is "$(jget "$(api GET /api/credentials)" 'd[1]["value_preview"]')" "sk-rea***xyz" "an old preview is made again from the value"
is "$(sql "SELECT value_preview FROM credentials WHERE label = 'LOCAL_TOKEN'")" "sk-rea***xyz" "and stored so"
out=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")
like "$out" "Bearer $SECRET" "and substituted"
gp_stop
head -c 32 /dev/urandom > "$GP_DATA/session.key"
SSL_CERT_FILE="$T/cert.pem" gp_start
grep -q "credentials: 2 of 2 stored cannot be read (session.key is not the one they were sealed with): ANTHROPIC_API_KEY, LOCAL_TOKEN" "$T/serve.log"
ok $? "another session.key: said, with the labels"
is "$(jget "$(api GET /api/credentials)" '[k["readable"] for k in d]')" "[False, False]" "listed as unreadable, kept"
out=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")
like "$out" "Bearer $PH" "an unreadable one is not substituted"

# Its destinations changed.
u=$(api PUT "/api/credentials/$ID" -d '{"hosts":["localhost","*.example"]}')
is "$(api_status) $(jget "$u" 'd["hosts"]')" "200 ['localhost', '*.example']" "PUT hosts: changed"
api PUT "/api/credentials/$ID" -d '{"hosts":"x"}' >/dev/null; is "$(api_status)" 400 "hosts not an array: 400"
api PUT "/api/credentials/cred_nope" -d '{"hosts":[]}' >/dev/null; is "$(api_status)" 404 "unknown: 404"

# Deleted: the placeholder passes unchanged.
api DELETE "/api/credentials/$ID" >/dev/null; is "$(api_status)" 200 "deleted"
api DELETE "/api/credentials/$ID" >/dev/null; is "$(api_status)" 404 "deleted twice: 404"
is "$(jget "$(api GET /api/credentials)" 'len(d)')" 1 "one left"
done_testing
