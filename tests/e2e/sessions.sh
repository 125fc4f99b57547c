#!/bin/bash
# greywall's sessions, byte for byte as its Go client sends them:
# register (validation, TTL clamps, global labels, network rules as
# temporary session rules), heartbeat (404 once unknown or expired: it
# re-registers), delete; sessions survive a restart with their mappings
# sealed; a session's placeholder is substituted only for its own
# sandbox (the proxy user), inside HTTPS.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start
ws_events
gw() { python3 "$LIB/fakegreywall.py" "$GP_API" "$@"; }
status() { head -1 <<<"$1" | cut -d' ' -f2; }
body() { tail -n +2 <<<"$1"; }
SID=gw-0123456789abcdef
PH="greyproxy:credential:v1:$SID:00112233445566778899aabbccddeeff"
SECRET="sess-secret-$RANDOM$RANDOM-end"
g=$(api POST /api/credentials -d '{"label":"OPENAI_API_KEY","value":"sk-openai-global-1"}')
GPH=$(jget "$g" 'd["placeholder"]')

r=$(gw register "$SID" claude --map "$PH=$SECRET:MY_TOKEN" --global OPENAI_API_KEY --rule sessions.example:443)
is "$(status "$r")" 200 "register: 200"
b=$(body "$r")
is "$(jget "$b" 'd["session_id"]')" "$SID" "session_id"
like "$(jget "$b" 'd["expires_at"]')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "expires_at as 2006-01-02T15:04:05Z"
is "$(jget "$b" 'd["credential_count"]')" 2 "credential_count: a mapping and a global"
is "$(jget "$b" 'd["rules_created"]')" 1 "rules_created"
is "$(jget "$b" 'd["global_credentials"]["OPENAI_API_KEY"]')" "$GPH" "the global label's placeholder"
unlike "$b" "$SECRET" "never the value"
rl=$(api GET "/api/rules?limit=100")
is "$(jget "$rl" '[x["created_by"] for x in d["items"] if x["destination_pattern"] == "sessions.example"]')" "['session:$SID']" "its network rule: created by session:$SID"
is "$(jget "$rl" '[x["rule_type"] for x in d["items"] if x["destination_pattern"] == "sessions.example"]')" "['temporary']" "temporary"
wait_for 5 grep -q "\"type\":\"session.created\",\"data\":\"$SID\"" "$T/ws.out"; ok $? "session.created announced"

# The original's validation messages.
err() { jget "$(body "$1")" 'd["error"]'; }
r=$(gw register "" claude --map "$PH=x:L"); is "$(status "$r") $(err "$r")" "400 session_id is required" "no session_id"
r=$(gw register gw-2 "" --map "$PH=x:L"); is "$(status "$r") $(err "$r")" "400 container_name is required" "no container_name"
r=$(gw register gw-2 c --global NOPE --global NADA); is "$(status "$r") $(err "$r")" "400 unknown global credentials: NOPE, NADA" "unknown globals named"
r=$(gw register gw-2 c); is "$(status "$r") $(err "$r")" "400 no credentials or network rules provided" "nothing to do"
gw register gw-ttl-high c --allow-all --ttl 99999 >/dev/null
gw register gw-ttl-zero c --allow-all --ttl 0 >/dev/null
l=$(api GET /api/sessions)
is "$(jget "$l" '[s["ttl_seconds"] for s in d if s["session_id"] in ("gw-ttl-high", "gw-ttl-zero")]')" "[900, 3600]" "TTL clamps: 0 → 900, 99999 → 3600"
is "$(jget "$l" '[s["allow_all"] for s in d if s["session_id"] == "gw-ttl-high"]')" "[True]" "allow_all kept"
s=$(jget "$l" '[s for s in d if s["session_id"] == "'"$SID"'"][0]')
is "$(jget "$l" '[s["credential_labels"] for s in d if s["session_id"] == "'"$SID"'"][0]')" "['MY_TOKEN', 'OPENAI_API_KEY']" "listed with its labels"
unlike "$l" "$SECRET" "the list never holds a value"

# Substituted for its own sandbox only (SOCKS5 user = container_name).
out=$(curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")
like "$out" "Authorization: Bearer $SECRET" "its sandbox, through SOCKS5: the real value arrives"
wait_for 5 grep -q "\"session.substitution\".*\"session_id\":\"$SID\",\"labels\":\[\"MY_TOKEN\"\].*\"container_name\":\"claude\"" "$T/ws.out"; ok $? "session.substitution announced, with its label"
! grep -q -- "$SECRET" "$T/ws.out"; ok $? "events never carry the value"
is "$(curl -s -o /dev/null -w '%{http_code}' -D "$T/h" --max-time 10 -x "socks5h://intruder:proxy@$GP_SOCKS" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")" 403 "another sandbox: 403"
like "$(tr -d '\r' < "$T/h" | grep -i x-proxy-error)" "blocked-credential-identity" "blocked-credential-identity"
wait_for 5 grep -q '"credential.blocked".*"label":"MY_TOKEN".*"container_name":"intruder"' "$T/ws.out"; ok $? "reported"
wait_for 5 eval '[ "$(jget "$(api GET /api/sessions)" "[s[\"substitution_count\"] for s in d if s[\"session_id\"] == \"'"$SID"'\"][0]")" = 1 ]'; ok $? "one substitution counted"
wait_for 20 sql_ge "SELECT substitution_count FROM sessions WHERE session_id = '$SID'" 1
ok $? "and stored with the next batch (no heartbeat needed)"
wait_for 10 eval '[ "$(jget "$(api GET "/api/transactions?session_id=$SID")" "d[\"total\"]")" = 1 ]'; ok $? "its transaction found by session_id"
tx=$(api GET "/api/transactions?session_id=$SID")
is "$(jget "$tx" 'd["items"][0]["substituted_credentials"]')" "['MY_TOKEN']" "substituted_credentials: the label"
is "$(jget "$tx" 'd["items"][0]["session_id"]')" "$SID" "session_id"
# A body is never substituted: the transaction says a placeholder was there.
got=$(curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" --data-binary "token=$PH" "https://localhost:$OP/echo")
is "$got" "token=$PH" "a placeholder in a body goes as it is"
wait_for 10 eval '[ "$(jget "$(api GET "/api/transactions?method=POST")" "d[\"total\"]")" -ge 1 ]'
is "$(jget "$(api GET "/api/transactions?method=POST&limit=1")" 'd["items"][0]["placeholder_in_body"]')" True "and the transaction says a placeholder was in its body"

# Where a session's credential may go, changed by a person (the TUI's e).
is "$(jget "$(api GET /api/sessions)" '[s["credential_hosts"] for s in d if s["session_id"] == "'"$SID"'"][0]')" "{'MY_TOKEN': []}" "an unknown label may go anywhere until bound"
b=$(api PUT "/api/sessions/$SID/hosts" -d '{"label":"MY_TOKEN","hosts":["elsewhere.example"]}')
is "$(api_status)" 200 "bound to another host"
is "$(curl -s -o /dev/null -w '%{http_code}' -D "$T/h" --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")" 403 "its own sandbox, another host: 403"
like "$(tr -d '\r' < "$T/h" | grep -i x-proxy-error)" "blocked-credential-destination" "blocked-credential-destination"
api PUT "/api/sessions/$SID/hosts" -d '{"label":"MY_TOKEN","hosts":["localhost"]}' >/dev/null
like "$(curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")" "Authorization: Bearer $SECRET" "bound to localhost: substituted there"
api PUT "/api/sessions/$SID/hosts" -d '{"label":"NOPE","hosts":[]}' >/dev/null
is "$(api_status)" 404 "an unknown label: 404"
api PUT "/api/sessions/$SID/hosts" -d '{"label":"MY_TOKEN","hosts":"x"}' >/dev/null
is "$(api_status)" 400 "hosts not a list: 400"

# Heartbeat; a restart keeps the session, its mapping and its binding.
r=$(gw heartbeat "$SID"); is "$(status "$r")" 200 "heartbeat: 200"
is "$(jget "$(body "$r")" 'sorted(d)')" "['expires_at', 'session_id']" "with session_id and expires_at"
r=$(gw heartbeat gw-unknown); is "$(status "$r") $(err "$r")" "404 session not found or expired" "unknown: 404, greywall re-registers"
r=$(gw register gw-gone claude --rule gone.example:443)
is "$(jget "$(api GET "/api/rules?limit=100")" 'len([x for x in d["items"] if x["destination_pattern"] == "gone.example"])')" 1 "a session with a rule"
gp_stop
sql "UPDATE sessions SET expires_at = 1 WHERE session_id = 'gw-gone'"	# expired while stopped
SSL_CERT_FILE="$T/cert.pem" gp_start
ws_events
is "$(jget "$(api GET "/api/rules?limit=100&include_expired=true")" '[x for x in d["items"] if x["destination_pattern"] == "gone.example"]')" "[]" "a session that expired while stopped: its rules removed at start"
is "$(jget "$(api GET /api/sessions)" '[x["session_id"] for x in d if x["session_id"] == "gw-gone"]')" "[]" "and the session"
r=$(gw heartbeat "$SID"); is "$(status "$r")" 200 "after a restart the session is known"
is "$(jget "$(api GET /api/sessions)" '[s["credential_hosts"] for s in d if s["session_id"] == "'"$SID"'"][0]')" "{'MY_TOKEN': ['localhost']}" "and the binding a person set"
out=$(curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "x-api-key: $PH" "https://localhost:$OP/headers")
like "$out" "x-api-key: $SECRET" "and its mapping still substituted"
n=$(grep -r -a -l -- "$SECRET" "$GP_DATA" "$T/serve.log" 2>/dev/null | wc -l)
is "$n" 0 "no file of the data directory nor the log holds the session's value"

# Expiry at the moment of use: no heartbeat, no substitution.
PH2="greyproxy:credential:v1:gw-short:ffeeddccbbaa99887766554433221100"
gw register gw-short claude --map "$PH2=short-lived-value:SHORT" --ttl 3 >/dev/null
through() { curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "X-Token-Two: $PH2" "https://localhost:$OP/headers"; }
like "$(through)" "X-Token-Two: short-lived-value" "a 3 s session substitutes while alive"
wait_for 10 eval 'through | grep -q "X-Token-Two: $PH2"'; ok $? "once expired its placeholder passes unchanged"
is "$(status "$(gw heartbeat gw-short)")" 404 "and its heartbeat is 404"
wait_for 5 grep -q '"type":"session.expired","data":"gw-short"' "$T/ws.out"; ok $? "session.expired announced"

# Delete: its rules go, the placeholder passes unchanged.
r=$(gw delete "$SID"); is "$(status "$r")" 200 "delete: 200"
is "$(jget "$(body "$r")" 'd["deleted"]')" True "deleted: true"
r=$(gw delete "$SID"); is "$(jget "$(body "$r")" 'd["deleted"]')" False "again: deleted false"
is "$(jget "$(api GET "/api/rules?limit=100")" '[x for x in d["items"] if x["destination_pattern"] == "sessions.example"]')" "[]" "its rules deleted"
out=$(curl -s --max-time 10 -x "socks5h://claude:proxy@$GP_SOCKS" --cacert "$CA" -H "Authorization: Bearer $PH" "https://localhost:$OP/headers")
like "$out" "Bearer $PH" "after delete the placeholder passes unchanged"
done_testing
